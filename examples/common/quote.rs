//! How coreutils prints a file name in a diagnostic (`quotef`: gnulib's
//! shell-escape quoting, with `:` quoted too), and `strerror` text, shared by
//! the `splice_cat` and `tee` examples so their messages match the real
//! tools byte for byte.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Characters that make a name need quotes anywhere in it.
const SPECIAL: &[u8] = b" !\"$&'()*:;<=>?[\\^`|";

/// Whether the locale's character set is UTF-8 (as `LC_ALL`, `LC_CTYPE`,
/// `LANG` say, first set wins); otherwise every byte above 0x7f is
/// escaped, as in the C locale.
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .is_some_and(|s| {
            let s = s.to_ascii_lowercase();
            s.contains("utf-8") || s.contains("utf8")
        })
}

/// One unit of a name: printable text, or a byte to escape.
enum Unit<'a> {
    Text(&'a [u8]),
    Byte(u8),
}

fn units(name: &[u8], utf8: bool) -> Vec<Unit<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < name.len() {
        let b = name[i];
        if (0x20..0x7f).contains(&b) {
            out.push(Unit::Text(&name[i..=i]));
            i += 1;
            continue;
        }
        if utf8 && b >= 0x80 {
            let len = match b {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf4 => 4,
                _ => 0,
            };
            if len > 0 && i + len <= name.len() {
                if let Ok(s) = std::str::from_utf8(&name[i..i + len]) {
                    if s.chars().all(|c| !c.is_control()) {
                        out.push(Unit::Text(&name[i..i + len]));
                        i += len;
                        continue;
                    }
                }
            }
        }
        out.push(Unit::Byte(b));
        i += 1;
    }
    out
}

fn escape(b: u8, out: &mut Vec<u8>) {
    match b {
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\t' => out.extend_from_slice(b"\\t"),
        b'\r' => out.extend_from_slice(b"\\r"),
        0x07 => out.extend_from_slice(b"\\a"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0b => out.extend_from_slice(b"\\v"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
    }
}

/// `name` as coreutils' `quotef` prints it.
pub(crate) fn quotef(name: &OsStr) -> Vec<u8> {
    let name = name.as_bytes();
    let units = units(name, utf8_locale());
    let all_text = units.iter().all(|u| matches!(u, Unit::Text(_)));
    let lone_brace = name == b"{" || name == b"}";
    let needs = name.is_empty()
        || !all_text
        || lone_brace
        || matches!(name.first(), Some(b'#' | b'~'))
        || name.iter().any(|b| SPECIAL.contains(b));
    if !needs {
        return name.to_vec();
    }
    let has_quote = name.contains(&b'\'');
    if all_text && has_quote && !name.iter().any(|b| b"\"$`\\!".contains(b)) {
        let mut out = vec![b'"'];
        out.extend_from_slice(name);
        out.push(b'"');
        return out;
    }
    let mut out = vec![b'\''];
    let mut quoted = true;
    for u in &units {
        match u {
            Unit::Text(t) => {
                if !quoted {
                    out.push(b'\'');
                    quoted = true;
                }
                if *t == b"'" {
                    out.extend_from_slice(b"'\\''");
                } else {
                    out.extend_from_slice(t);
                }
            }
            Unit::Byte(b) => {
                if quoted {
                    out.extend_from_slice(b"'$'");
                } else {
                    // Consecutive escapes share one `$'...'`: reopen it.
                    out.pop();
                }
                escape(*b, &mut out);
                out.push(b'\'');
                quoted = false;
            }
        }
    }
    if quoted {
        out.push(b'\'');
    }
    out
}

/// The C library's message for `errno`, without Rust's "(os error N)".
pub(crate) fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Writes `prog: what: message\n` to stderr in one write.
pub(crate) fn complain(prog: &str, what: &[u8], message: &str) {
    use std::io::Write;
    let mut line = Vec::with_capacity(prog.len() + what.len() + message.len() + 5);
    line.extend_from_slice(prog.as_bytes());
    line.extend_from_slice(b": ");
    line.extend_from_slice(what);
    line.extend_from_slice(b": ");
    line.extend_from_slice(message.as_bytes());
    line.push(b'\n');
    let _ = std::io::stderr().write_all(&line);
}
