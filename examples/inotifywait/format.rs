//! The output: `--format` (`inotifytools_snprintf`) and `-c` (CSV), with
//! the C code's limits and quirks.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;

use crate::names::{IN_ALL_EVENTS, event_to_str};
use crate::strftime::strftime_now;
use crate::{Ev, err, path};

/// The size of libinotifytools' formatting buffer.
pub(crate) const MAX_STRLEN: usize = 4096;

/// inotifywait's `validate_format`: the format applied to a fake event on
/// wd 0 must give something (an empty result is C's -1), and fit.
pub(crate) fn format_is_valid(fmt: &[u8], timefmt: Option<&[u8]>) -> bool {
    let fake = Ev {
        wd: 0,
        mask: IN_ALL_EVENTS,
        cookie: 0,
        name: b"",
    };
    fmt.len() <= MAX_STRLEN && format_event(&mut Vec::new(), fmt, &fake, b"", timefmt) != -1
}

/// Where the events go: standard output, or `-o FILE` opened for appending
/// (made with mode 0600). `None` once the failure was printed.
pub(crate) fn open_output(outfile: Option<&[u8]>) -> Option<Box<dyn Write>> {
    let Some(f) = outfile else {
        return Some(Box::new(io::stdout().lock()));
    };
    let opened = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path(f));
    if let Ok(file) = opened {
        return Some(Box::new(file));
    }
    err(&[b"Failed to open output file ", f, b"\n"]);
    None
}

/// `inotifytools_snprintf(out, 4096, event, fmt)`. Returns what C returns:
/// the length written minus one (so an empty result is the error -1).
pub(crate) fn format_event(
    out: &mut Vec<u8>,
    fmt: &[u8],
    ev: &Ev<'_>,
    dir: &[u8],
    timefmt: Option<&[u8]>,
) -> isize {
    out.clear();
    let size = MAX_STRLEN;
    let mut i = 0;
    while i < fmt.len() && out.len() < size - 1 {
        let c = fmt[i];
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        if i == fmt.len() - 1 {
            // A lone trailing '%': C gives up here.
            return out.len() as isize;
        }
        let ch1 = fmt[i + 1];
        i += 2;
        match ch1 {
            b'%' => out.push(b'%'),
            b'0' => out.push(0),
            b'n' => out.push(b'\n'),
            b'w' => {
                if dir.len() <= size - out.len() {
                    out.extend_from_slice(dir);
                }
            }
            b'f' => out.extend_from_slice(ev.name),
            b'c' => out.extend_from_slice(format!("{:x}", ev.cookie).as_bytes()),
            b'e' => event_to_str(ev.mask, b',', out),
            b'T' => {
                if let Some(tf) = timefmt {
                    out.extend_from_slice(&strftime_now(tf));
                }
            }
            _ if i < fmt.len() && fmt[i] == b'e' => {
                event_to_str(ev.mask, ch1, out);
                i += 1;
            }
            _ => {
                out.push(b'%');
                out.push(ch1);
            }
        }
    }
    out.truncate(size);
    out.len() as isize - 1
}

/// `csv_escape_len`: quoted when it holds `"`, `,` or a newline, or starts
/// or ends with a space; empty for an empty or over-long string.
fn csv_escape(s: &[u8], out: &mut Vec<u8>) {
    if s.is_empty() || s.len() > MAX_STRLEN {
        return;
    }
    let plain = !s.iter().any(|&b| b == b'"' || b == b',' || b == b'\n')
        && s[0] != b' '
        && s[s.len() - 1] != b' ';
    if plain {
        out.extend_from_slice(s);
        return;
    }
    out.push(b'"');
    for &b in s {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

pub(crate) fn format_csv(out: &mut Vec<u8>, ev: &Ev<'_>, dir: &[u8]) {
    out.clear();
    if !dir.is_empty() {
        csv_escape(dir, out);
        out.push(b',');
    }
    let mut names = Vec::new();
    event_to_str(ev.mask, b',', &mut names);
    csv_escape(&names, out);
    out.push(b',');
    csv_escape(ev.name, out);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{IN_ISDIR, IN_MOVED_FROM};

    #[test]
    fn format_quirks() {
        let ev = Ev {
            wd: 1,
            mask: IN_MOVED_FROM | IN_ISDIR,
            cookie: 0x1a,
            name: b"n",
        };
        let mut out = Vec::new();
        assert_eq!(
            format_event(&mut out, b"%w|%f|%c|%;e|%q|%%\n", &ev, b"d/", None),
            29
        );
        assert_eq!(out, b"d/|n|1a|MOVED_FROM;ISDIR|%q|%\n");
        // An empty result is C's -1 ("Something is wrong with your format").
        let fake = Ev {
            wd: 0,
            mask: IN_ALL_EVENTS,
            cookie: 0,
            name: b"",
        };
        assert_eq!(format_event(&mut out, b"%w%f", &fake, b"", None), -1);
        assert!(!format_is_valid(b"%w%f", None));
        assert!(format_is_valid(b"%e", None));
        assert!(!format_is_valid(&[b'x'; MAX_STRLEN + 1], None));
        let mut csv = Vec::new();
        csv_escape(b" a\"b,", &mut csv);
        assert_eq!(csv, b"\" a\"\"b,\"");
    }
}
