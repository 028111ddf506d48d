//! `strftime(3)` for `--timefmt` and `%T`: the common conversions in the C
//! locale, local time from the `TZif` file `TZ` names or `/etc/localtime`.

// Short names in the date arithmetic, as in the formulas it follows; one
// arm per conversion, as the C library's table has.
#![allow(
    clippy::many_single_char_names,
    clippy::similar_names,
    clippy::too_many_lines,
    clippy::match_same_arms
)]

use std::os::unix::ffi::OsStringExt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::path;

/// The local UTC offset (seconds) and zone abbreviation at `now`, from the
/// `TZif` file `TZ` names or `/etc/localtime`; UTC when there is none.
fn local_zone(now: i64) -> (i64, String) {
    let utc = (0, "UTC".to_owned());
    let file = match std::env::var_os("TZ") {
        Some(tz) if !tz.is_empty() => {
            let tz = tz.into_vec();
            let tz = tz.strip_prefix(b":").unwrap_or(&tz).to_vec();
            if tz.first() == Some(&b'/') {
                tz
            } else {
                [b"/usr/share/zoneinfo/".as_slice(), &tz].concat()
            }
        }
        Some(_) => return utc,
        None => b"/etc/localtime".to_vec(),
    };
    let Ok(data) = std::fs::read(path(&file)) else {
        return utc;
    };
    tzif_lookup(&data, now).unwrap_or(utc)
}

/// Finds the local time type in force at `now` in `TZif` data (RFC 8536),
/// using the 64-bit block when there is one. Times past the last transition
/// keep its type (the footer's rule is not evaluated).
fn tzif_lookup(data: &[u8], now: i64) -> Option<(i64, String)> {
    let be32 = |d: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
    };
    let header = |d: &[u8]| -> Option<[usize; 6]> {
        if d.get(..4)? != b"TZif" {
            return None;
        }
        let mut c = [0; 6];
        for (k, v) in c.iter_mut().enumerate() {
            *v = be32(d, 20 + 4 * k)? as usize;
        }
        Some(c)
    };
    let [isut, isstd, leap, timecnt, typecnt, charcnt] = header(data)?;
    let v1_len = 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    let (d, tsize) = if data.get(4).is_some_and(|&v| v >= b'2') {
        (data.get(v1_len..)?, 8)
    } else {
        (data, 4)
    };
    let [_, _, _, timecnt, typecnt, charcnt] = header(d)?;
    let times = 44;
    let idx = times + timecnt * tsize;
    let types = idx + timecnt;
    let chars = types + typecnt * 6;
    let mut ty = 0;
    for k in 0..timecnt {
        let at = times + k * tsize;
        let t = if tsize == 8 {
            i64::from_be_bytes(d.get(at..at + 8)?.try_into().ok()?)
        } else {
            i64::from(be32(d, at)? as i32)
        };
        if t > now {
            break;
        }
        ty = usize::from(*d.get(idx + k)?);
    }
    if ty >= typecnt {
        return None;
    }
    let rec = types + ty * 6;
    let off = i64::from(be32(d, rec)? as i32);
    let abbr_at = chars + usize::from(*d.get(rec + 5)?);
    let abbr = d.get(abbr_at..chars + charcnt)?;
    let end = abbr.iter().position(|&b| b == 0).unwrap_or(abbr.len());
    Some((off, String::from_utf8_lossy(&abbr[..end]).into_owned()))
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// strftime(3) in the C locale for the current local time: the common
/// conversions; anything else is copied as is.
pub(crate) fn strftime_now(fmt: &[u8]) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (off, zone) = local_zone(now);
    strftime(fmt, now, off, &zone)
}

fn strftime(fmt: &[u8], unix: i64, off: i64, zone: &str) -> Vec<u8> {
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let t = unix + off;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    let wday = (days + 4).rem_euclid(7) as usize;
    let yday = days - days_from_civil(y, 1, 1);
    let h12 = if hh % 12 == 0 { 12 } else { hh % 12 };
    let mut out = String::new();
    let mut it = fmt.iter().copied();
    let mut raw = Vec::new();
    while let Some(c) = it.next() {
        if c != b'%' {
            raw.push(c);
            continue;
        }
        out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut raw)));
        let Some(k) = it.next() else {
            out.push('%');
            break;
        };
        let s = match k {
            b'a' => DAYS[wday][..3].to_owned(),
            b'A' => DAYS[wday].to_owned(),
            b'b' | b'h' => MONTHS[(m - 1) as usize][..3].to_owned(),
            b'B' => MONTHS[(m - 1) as usize].to_owned(),
            b'c' => format!(
                "{} {} {d:2} {hh:02}:{mm:02}:{ss:02} {y}",
                &DAYS[wday][..3],
                &MONTHS[(m - 1) as usize][..3]
            ),
            b'C' => format!("{:02}", y.div_euclid(100)),
            b'd' => format!("{d:02}"),
            b'D' => format!("{m:02}/{d:02}/{:02}", y.rem_euclid(100)),
            b'e' => format!("{d:2}"),
            b'F' => format!("{y}-{m:02}-{d:02}"),
            b'H' => format!("{hh:02}"),
            b'I' => format!("{h12:02}"),
            b'j' => format!("{:03}", yday + 1),
            b'k' => format!("{hh:2}"),
            b'l' => format!("{h12:2}"),
            b'm' => format!("{m:02}"),
            b'M' => format!("{mm:02}"),
            b'n' => "\n".to_owned(),
            b'p' => (if hh < 12 { "AM" } else { "PM" }).to_owned(),
            b'P' => (if hh < 12 { "am" } else { "pm" }).to_owned(),
            b'r' => format!(
                "{h12:02}:{mm:02}:{ss:02} {}",
                if hh < 12 { "AM" } else { "PM" }
            ),
            b'R' => format!("{hh:02}:{mm:02}"),
            b's' => unix.to_string(),
            b'S' => format!("{ss:02}"),
            b't' => "\t".to_owned(),
            b'T' | b'X' => format!("{hh:02}:{mm:02}:{ss:02}"),
            b'u' => (if wday == 0 { 7 } else { wday }).to_string(),
            b'w' => wday.to_string(),
            b'x' => format!("{m:02}/{d:02}/{:02}", y.rem_euclid(100)),
            b'y' => format!("{:02}", y.rem_euclid(100)),
            b'Y' => y.to_string(),
            b'z' => {
                let a = off.abs();
                format!(
                    "{}{:02}{:02}",
                    if off < 0 { '-' } else { '+' },
                    a / 3600,
                    a / 60 % 60
                )
            }
            b'Z' => zone.to_owned(),
            b'%' => "%".to_owned(),
            other => {
                raw.push(b'%');
                raw.push(other);
                continue;
            }
        };
        out.push_str(&s);
    }
    let mut v = out.into_bytes();
    v.extend_from_slice(&raw);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_fixed_time() {
        // 2021-03-04 05:06:07 UTC was a Thursday.
        let t = 1_614_834_367;
        assert_eq!(
            strftime(b"%Y-%m-%d %H:%M:%S %a %b %j %s %%", t, 0, "UTC"),
            b"2021-03-04 05:06:07 Thu Mar 063 1614834367 %"
        );
        assert_eq!(strftime(b"%z %Z %q", t, 3600, "CET"), b"+0100 CET %q");
    }
}
