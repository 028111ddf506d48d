//! The command line, as inotifywait reads it: GNU `getopt_long` over raw
//! (not necessarily UTF-8) arguments, then `parse_opts`'s checks and
//! messages, `--help`, and the list of paths (`--fromfile`, `@EXCLUDED`).

// This follows inotifywait's and glibc's C code closely (so it can be
// checked against them line by line): option flags as plain bools, short
// names, long functions.
#![allow(
    clippy::struct_excessive_bools,
    clippy::many_single_char_names,
    clippy::similar_names,
    clippy::too_many_lines,
    clippy::single_match_else,
    clippy::format_push_string
)]

use std::io::{self, Write};

use crate::names::str_to_event;
use crate::{err, errno_of, path, strerror};

/// What the command line asks for.
#[derive(Default)]
pub(crate) struct Opts {
    pub(crate) events: u32,
    pub(crate) monitor: bool,
    pub(crate) quiet: u32,
    pub(crate) timeout: i64,
    pub(crate) recursive: bool,
    pub(crate) csv: bool,
    pub(crate) no_dereference: bool,
    pub(crate) format: Option<Vec<u8>>,
    pub(crate) timefmt: Option<Vec<u8>>,
    pub(crate) fromfile: Option<Vec<u8>>,
    pub(crate) outfile: Option<Vec<u8>>,
    pub(crate) exc_regex: Option<Vec<u8>>,
    pub(crate) exc_iregex: Option<Vec<u8>>,
    pub(crate) inc_regex: Option<Vec<u8>>,
    pub(crate) inc_iregex: Option<Vec<u8>>,
    pub(crate) no_newline: bool,
    pub(crate) paths: Vec<Vec<u8>>,
}

/// Long options: name, takes an argument, the short letter it stands for.
const LONG_OPTS: [(&str, bool, u8); 23] = [
    ("help", false, b'h'),
    ("event", true, b'e'),
    ("monitor", false, b'm'),
    ("quiet", false, b'q'),
    ("timeout", true, b't'),
    ("filename", false, b'f'),
    ("recursive", false, b'r'),
    ("inotify", false, b'I'),
    ("fanotify", false, b'F'),
    ("filesystem", false, b'S'),
    ("csv", false, b'c'),
    ("daemon", false, b'd'),
    ("syslog", false, b's'),
    ("no-dereference", false, b'P'),
    ("format", true, b'n'),
    ("no-newline", false, b'0'),
    ("timefmt", true, b'i'),
    ("fromfile", true, b'z'),
    ("outfile", true, b'o'),
    ("exclude", true, b'a'),
    ("excludei", true, b'b'),
    ("include", true, b'j'),
    ("includei", true, b'k'),
];

/// An option's letter (a long option's short twin) and its argument.
type OptArg = (u8, Vec<u8>);

/// Short options; those followed by `:` take an argument.
const SHORT_OPTS: &[u8] = b"mrhcdsPqt:fo:e:IFS";

/// GNU `getopt_long` over raw arguments: yields `(option, argument)` pairs
/// and collects operands (which may come before options). `Err(())` once a
/// diagnostic was printed.
fn getopt(prog: &[u8], args: &[Vec<u8>]) -> Result<(Vec<OptArg>, Vec<Vec<u8>>), ()> {
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == b"--" {
            operands.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix(b"--") {
            let (name, value) = match long.iter().position(|&b| b == b'=') {
                Some(p) => (&long[..p], Some(long[p + 1..].to_vec())),
                None => (long, None),
            };
            let exact = LONG_OPTS.iter().find(|o| o.0.as_bytes() == name);
            let candidates: Vec<_> = LONG_OPTS
                .iter()
                .filter(|o| o.0.as_bytes().starts_with(name))
                .collect();
            let opt = match (exact, candidates.as_slice()) {
                (Some(o), _) | (None, &[o]) => *o,
                (None, []) => {
                    err(&[prog, b": unrecognized option '", a, b"'\n"]);
                    return Err(());
                }
                (None, many) => {
                    err(&[prog, b": option '", a, b"' is ambiguous; possibilities:"]);
                    for o in many {
                        err(&[b" '--", o.0.as_bytes(), b"'"]);
                    }
                    err(&[b"\n"]);
                    return Err(());
                }
            };
            let (full, takes_arg, letter) = opt;
            let arg = match (takes_arg, value) {
                (true, Some(v)) => v,
                (true, None) if i < args.len() => {
                    i += 1;
                    args[i - 1].clone()
                }
                (true, None) => {
                    err(&[
                        prog,
                        b": option '--",
                        full.as_bytes(),
                        b"' requires an argument\n",
                    ]);
                    return Err(());
                }
                (false, Some(_)) => {
                    err(&[
                        prog,
                        b": option '--",
                        full.as_bytes(),
                        b"' doesn't allow an argument\n",
                    ]);
                    return Err(());
                }
                (false, None) => Vec::new(),
            };
            opts.push((letter, arg));
            continue;
        }
        if a.len() < 2 || a[0] != b'-' {
            operands.push(a.clone());
            continue;
        }
        let mut j = 1;
        while j < a.len() {
            let c = a[j];
            j += 1;
            let Some(pos) = SHORT_OPTS.iter().position(|&s| s == c && c != b':') else {
                err(&[prog, b": invalid option -- '", &[c], b"'\n"]);
                return Err(());
            };
            if SHORT_OPTS.get(pos + 1) == Some(&b':') {
                let arg = if j < a.len() {
                    let v = a[j..].to_vec();
                    j = a.len();
                    v
                } else if i < args.len() {
                    i += 1;
                    args[i - 1].clone()
                } else {
                    err(&[prog, b": option requires an argument -- '", &[c], b"'\n"]);
                    return Err(());
                };
                opts.push((c, arg));
            } else {
                opts.push((c, Vec::new()));
            }
        }
    }
    Ok((opts, operands))
}

/// inotifywait's `parse_opts`, diagnostics included. `None` means exit 1.
pub(crate) fn parse_opts(prog: &[u8], args: &[Vec<u8>]) -> Option<Opts> {
    let (list, operands) = getopt(prog, args).ok()?;
    let mut o = Opts::default();
    let (mut exclude_count, mut excludei_count) = (0, 0);
    for (c, arg) in list {
        match c {
            b'h' => {
                print_help(prog);
                return None;
            }
            b'm' => o.monitor = true,
            b'q' => o.quiet += 1,
            b'r' => o.recursive = true,
            b'I' => {}
            b'F' | b'S' => {
                err(&[b"fanotify (-F, -S) is not supported by this example\n"]);
                return None;
            }
            b'd' | b's' => {
                err(&[b"--daemon and --syslog are not supported by this example\n"]);
                return None;
            }
            b'c' => o.csv = true,
            b'P' => o.no_dereference = true,
            b'f' => {
                err(&[
                    b"The '--filename' option no longer exists.  The option it enabled in earlier\nversions of inotifywait is now turned on by default.\n",
                ]);
                return None;
            }
            b'n' => o.format = Some(arg),
            b'0' => o.no_newline = true,
            b'i' => o.timefmt = Some(arg),
            b'a' => {
                o.exc_regex = Some(arg);
                exclude_count += 1;
            }
            b'b' => {
                o.exc_iregex = Some(arg);
                excludei_count += 1;
            }
            b'j' => o.inc_regex = Some(arg),
            b'k' => o.inc_iregex = Some(arg),
            b'z' => {
                if o.fromfile.is_some() {
                    err(&[b"Multiple --fromfile options given.\n"]);
                    return None;
                }
                o.fromfile = Some(arg);
            }
            b'o' => {
                if o.outfile.is_some() {
                    err(&[b"Multiple --outfile options given.\n"]);
                    return None;
                }
                o.outfile = Some(arg);
            }
            b't' => o.timeout = parse_timeout(&arg)?,
            b'e' => match str_to_event(&arg) {
                Some(bits) => o.events |= bits,
                None => {
                    err(&[
                        b"'",
                        &arg,
                        b"' is not a valid event!  Run with the '--help' option to see a list of events.\n",
                    ]);
                    return None;
                }
            },
            _ => unreachable!("getopt only yields known letters"),
        }
    }
    if let Some(f) = o.format.as_mut() {
        if !o.no_newline {
            f.push(b'\n');
        }
    }
    let checks: [(bool, &[u8]); 8] = [
        (
            o.exc_regex.is_some() && o.exc_iregex.is_some(),
            b"--exclude and --excludei cannot both be specified.\n",
        ),
        (
            o.inc_regex.is_some() && o.inc_iregex.is_some(),
            b"--include and --includei cannot both be specified.\n",
        ),
        (
            (o.inc_regex.is_some() || o.inc_iregex.is_some())
                && (o.exc_regex.is_some() || o.exc_iregex.is_some()),
            b"include and exclude regexp cannot both be specified.\n",
        ),
        (
            o.format.is_some() && o.csv,
            b"-c and --format cannot both be specified.\n",
        ),
        (
            o.format.is_none() && o.no_newline,
            b"--no-newline cannot be specified without --format.\n",
        ),
        (
            o.format.is_none() && o.timefmt.is_some(),
            b"--timefmt cannot be specified without --format.\n",
        ),
        (
            o.format
                .as_ref()
                .is_some_and(|f| f.windows(2).any(|w| w == b"%T"))
                && o.timefmt.is_none(),
            b"%T is in --format string, but --timefmt was not specified.\n",
        ),
        (false, b""),
    ];
    for (bad, msg) in checks {
        if bad {
            err(&[msg]);
            return None;
        }
    }
    let warning = b"only the last option will be taken into consideration.\n";
    if exclude_count > 1 {
        err(&[b"--exclude: ", warning]);
    }
    if excludei_count > 1 {
        err(&[b"--excludei: ", warning]);
    }
    o.paths = operands;
    Some(o)
}

/// `is_timeout_option_valid`: `strtol(arg, &end, 10)` must take it all.
fn parse_timeout(arg: &[u8]) -> Option<i64> {
    let invalid = || {
        err(&[
            b"'",
            arg,
            b"' is not a valid timeout value.\nPlease specify a long int value.\n",
        ]);
    };
    if arg.is_empty() {
        err(&[
            b"The provided value is not a valid timeout value.\nPlease specify a long int value.\n",
        ]);
        return None;
    }
    // strtol skips leading white space and takes an optional sign.
    let t = arg.trim_ascii_start();
    let (neg, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || n != digits.len() {
        invalid();
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        let next = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(d - b'0')));
        match next {
            Some(x) => v = x,
            None => {
                const ERANGE: i32 = 34;
                err(&[
                    b"Something went wrong with the timeout value you provided.\n",
                    strerror(ERANGE).as_bytes(),
                    b"\n",
                ]);
                return None;
            }
        }
    }
    Some(if neg { -v } else { v })
}

fn print_help(prog: &[u8]) {
    let name = prog.rsplit(|&b| b == b'/').next().unwrap_or(prog);
    let name = String::from_utf8_lossy(name);
    let mut s = String::new();
    s += &format!("{name} 3.22.6.0 (kernfd example)\n");
    s += "Wait for a particular event on a file or set of files.\n";
    s += &format!("Usage: {name} [ options ] file1 [ file2 ] [ file3 ] [ ... ]\n");
    s += "Options:\n\t-h|--help     \tShow this help text.\n";
    s += "\t@<file>       \tExclude the specified file from being watched.\n";
    s += "\t--exclude <pattern>\n\t              \tExclude all events on files matching the\n\t              \textended regular expression <pattern>.\n\t              \tOnly the last --exclude option will be\n\t              \ttaken into consideration.\n";
    s += "\t--excludei <pattern>\n\t              \tLike --exclude but case insensitive.\n";
    s += "\t--include <pattern>\n\t              \tExclude all events on files except the ones\n\t              \tmatching the extended regular expression\n\t              \t<pattern>.\n";
    s += "\t--includei <pattern>\n\t              \tLike --include but case insensitive.\n";
    s += &format!(
        "\t-m|--monitor  \tKeep listening for events forever or until --timeout expires.\n\t              \tWithout this option, {name} will exit after one event is received.\n"
    );
    s += "\t-P|--no-dereference\n\t              \tDo not follow symlinks.\n";
    s += "\t-r|--recursive\tWatch directories recursively.\n";
    s += "\t--fromfile <file>\n\t              \tRead files to watch from <file> or `-' for stdin.\n";
    s += "\t-o|--outfile <file>\n\t              \tPrint events to <file> rather than stdout.\n";
    s += "\t-q|--quiet    \tPrint less (only print events).\n";
    s += "\t-qq           \tPrint nothing (not even events).\n";
    s += "\t--format <fmt>\tPrint using a specified printf-like format\n\t              \tstring; read the man page for more details.\n";
    s += "\t--no-newline  \tDon't print newline symbol after\n\t              \t--format string.\n";
    s += "\t--timefmt <fmt>\tstrftime-compatible format string for use with\n\t              \t%T in --format string.\n";
    s += "\t-c|--csv      \tPrint events in CSV format.\n";
    s += &format!(
        "\t-t|--timeout <seconds>\n\t              \tWhen listening for a single event, time out after\n\t              \twaiting for an event for <seconds> seconds.\n\t              \tIf <seconds> is zero, {name} will never time out.\n"
    );
    s += "\t-e|--event <event1> [ -e|--event <event2> ... ]\n\t\tListen for specific event(s).  If omitted, all events are \n\t\tlistened for.\n\n";
    s += "Exit status:\n\t0  -  An event you asked to watch for was received.\n\t1  -  An event you did not ask to watch for was received\n\t      (usually delete_self or unmount), or some error occurred.\n\t2  -  The --timeout option was given and no events occurred\n\t      in the specified interval of time.\n\n";
    s += "Events:\n\taccess\t\tfile or directory contents were read\n\tmodify\t\tfile or directory contents were written\n\tattrib\t\tfile or directory attributes changed\n\tclose_write\tfile or directory closed, after being opened in\n\t           \twritable mode\n\tclose_nowrite\tfile or directory closed, after being opened in\n\t           \tread-only mode\n\tclose\t\tfile or directory closed, regardless of read/write mode\n\topen\t\tfile or directory opened\n\tmoved_to\tfile or directory moved to watched directory\n\tmoved_from\tfile or directory moved from watched directory\n\tmove\t\tfile or directory moved to or from watched directory\n\tmove_self\t\tA watched file or directory was moved.\n\tcreate\t\tfile or directory created within watched directory\n\tdelete\t\tfile or directory deleted within watched directory\n\tdelete_self\tfile or directory was deleted\n\tunmount\t\tfile system containing file or directory unmounted\n";
    let mut out = io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// The paths to watch and the `@`-excluded ones (`construct_path_list`).
pub(crate) fn path_list(o: &Opts) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut watch = Vec::new();
    let mut exclude = Vec::new();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    if let Some(f) = &o.fromfile {
        let data = if f == b"-" {
            let mut v = Vec::new();
            io::Read::read_to_end(&mut io::stdin(), &mut v).map(|_| v)
        } else {
            std::fs::read(path(f))
        };
        match data {
            Ok(d) => {
                for l in d.split_inclusive(|&b| b == b'\n') {
                    lines.push(l.strip_suffix(b"\n").unwrap_or(l).to_vec());
                }
            }
            Err(e) => {
                err(&[
                    b"Couldn't open ",
                    f,
                    b": ",
                    strerror(errno_of(&e)).as_bytes(),
                    b"\n",
                ]);
                return (watch, exclude);
            }
        }
    }
    for name in lines.iter().chain(&o.paths) {
        if name.is_empty() || name == b"@" {
            continue;
        }
        match name.strip_prefix(b"@") {
            Some(x) => exclude.push(x.to_vec()),
            None => watch.push(name.clone()),
        }
    }
    (watch, exclude)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn getopt_long_as_gnu_reads_it() {
        // Bundled short options with an attached argument, `--opt=value`,
        // an unambiguous prefix, options after operands, and `--`.
        let (opts, operands) = getopt(
            b"iw",
            &argv(&["-mrt5", "a", "--form=%w", "--ev", "create", "b", "--", "-q"]),
        )
        .unwrap();
        let letters: Vec<_> = opts.iter().map(|(c, a)| (*c, a.as_slice())).collect();
        assert_eq!(
            letters,
            [
                (b'm', &b""[..]),
                (b'r', b""),
                (b't', b"5"),
                (b'n', b"%w"),
                (b'e', b"create")
            ]
        );
        assert_eq!(operands, argv(&["a", "b", "-q"]));
        // (The refusals print their diagnostics, so tests/inotifywait.rs
        // checks them, against the real tool's.)
    }

    #[test]
    fn timeouts_as_strtol_reads_them() {
        assert_eq!(parse_timeout(b" +12"), Some(12));
        assert_eq!(parse_timeout(b"-3"), Some(-3));
        assert_eq!(parse_timeout(b"0"), Some(0));
    }
}
