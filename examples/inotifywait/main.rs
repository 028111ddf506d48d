//! A drop-in `inotifywait` (inotify-tools 3.22) built on kernfd.
//!
//! With the same options on the same tree, its standard output is byte for
//! byte the output of the C tool: `PATH EVENTS NAME` lines, events named in
//! inotify-tools' order (`CLOSE_WRITE,CLOSE`, `CREATE,ISDIR`), watched
//! directories with a trailing slash, names written as raw bytes. Its
//! standard error carries the same progress and error lines, and it exits as
//! `inotifywait` does: 0 for an event asked for, 1 for an error or another
//! event, 2 when `-t` runs out.
//!
//! ```text
//! cargo run --example inotifywait -- -m -r -e create,modify,moved_to src/
//! ```
//!
//! Supported: `-m`, `-q`, `-qq`, `-r` (new and moved-in subdirectories are
//! watched as they appear, moved-out ones unwatched, and renamed ones renamed
//! exactly as libinotifytools does it, which leaves some deeper watches with
//! their old name: see [`watches`]), `-e EVENT[,EVENT]`
//! (repeatable), `-t SECONDS`, `-P`, `-c`, `-o FILE`, `--format` with `%w %f
//! %e %Xe %c %T %n %0 %%`, `--timefmt` (a strftime subset, local time from
//! `TZ` or `/etc/localtime`), `--no-newline`, `--fromfile`, `@EXCLUDED`
//! paths, `--exclude[i]`/`--include[i]` with POSIX extended regular
//! expressions (a small matcher written here), and GNU `getopt_long`
//! argument handling (bundled short options, `--opt=value`, unambiguous
//! prefixes, options after paths, `--`). Not supported: `-d`/`-s` (daemon and
//! syslog) and fanotify (`-F`, `-S`); they are refused with exit status 1.
//!
//! Only kernfd's public API and `std` are used: `Inotify::add_watch`,
//! `read_wait` with a timeout and the zero-copy event iterator it returns,
//! `rm_watch`. This file holds what talks to the kernel (the watches made
//! and removed, the event loop); the modules hold the rest of the tool:
//! [`getopt`] (the command line), [`names`] (event names), [`watches`] (the
//! watch table of `-r`), [`format`] (`--format` and `-c`), [`strftime`]
//! (`--timefmt`) and [`pattern`] (`--exclude`/`--include`).
//!
//! Known differences: a closed standard output ends it with status 1 (Rust
//! ignores SIGPIPE, so it sees EPIPE; the C tool is killed by the signal);
//! `--help` names this example; `%T` knows the common strftime conversions
//! in the C locale only; times after a zone file's last transition use that
//! transition's offset (the footer rule is not evaluated); a regular
//! expression whose automaton would exceed 100,000 states is refused.

mod format;
mod getopt;
mod names;
mod pattern;
mod strftime;
mod watches;

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::process::exit;
use std::time::Duration;

use kernfd::Errno;
use kernfd::inotify::{EventError, Inotify, WatchFlags};
use kernfd::wait::Wait;

use format::{format_csv, format_event, format_is_valid};
use getopt::{parse_opts, path_list};
use names::{
    IN_ALL_EVENTS, IN_CREATE, IN_DONT_FOLLOW, IN_ISDIR, IN_MOVED_FROM, IN_MOVED_TO, IN_Q_OVERFLOW,
};
use pattern::Filter;
use watches::Watches;

/// inotifywait's exit statuses.
const EXIT_SUCCESS: i32 = 0;
const EXIT_FAILURE: i32 = 1;
const EXIT_TIMEOUT: i32 = 2;

fn main() {
    let mut args = std::env::args_os().map(OsString::into_vec);
    let prog = args.next().unwrap_or_else(|| b"inotifywait".to_vec());
    let args: Vec<Vec<u8>> = args.collect();
    exit(run(&prog, &args));
}

/// One event as inotifywait sees it (an overflow record included).
struct Ev<'a> {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: &'a [u8],
}

// --- errors as strerror(3) words them -----------------------------------------

const ENOENT: i32 = Errno::NOENT.raw_os_error();
const EACCES: i32 = Errno::ACCESS.raw_os_error();
const ENOTDIR: i32 = Errno::NOTDIR.raw_os_error();
const ELOOP: i32 = Errno::LOOP.raw_os_error();
const ENOSPC: i32 = Errno::NOSPC.raw_os_error();
const EMFILE: i32 = Errno::MFILE.raw_os_error();
const EIO: i32 = Errno::IO.raw_os_error();

/// The errno number of a kernfd error's `errno()`, which is an `Errno`, or
/// an `Option<Errno>` where a condition may have none (taken as `EIO`).
fn raw_errno(errno: impl Into<Option<Errno>>) -> i32 {
    errno.into().map_or(EIO, Errno::raw_os_error)
}

/// strerror(3)'s text for `errno`, from `std` (which asks the C library).
fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The errno of an `io::Error`; `EIO` for the rare one without.
fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(EIO)
}

fn path(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

/// Writes to standard error at once (inotifywait's stderr is unbuffered).
fn err(parts: &[&[u8]]) {
    let mut e = io::stderr().lock();
    for p in parts {
        let _ = e.write_all(p);
    }
}

// --- watching --------------------------------------------------------------------

/// The inotify instance and what it watches, by wd and by name.
struct Watcher {
    inotify: Inotify,
    watches: Watches,
    /// The directory a `MOVED_FROM` took away, until the next event says
    /// whether it stayed in the tree (`MOVED_TO`) or left it.
    moved_from: Option<Vec<u8>>,
}

/// `lstat` says directory (symbolic links are not).
fn isdir(p: &[u8]) -> bool {
    match std::fs::symlink_metadata(path(p)) {
        Ok(m) => m.is_dir(),
        Err(e) => {
            if errno_of(&e) != ENOENT {
                err(&[
                    b"Stat failed on ",
                    p,
                    b": ",
                    strerror(errno_of(&e)).as_bytes(),
                    b"\n",
                ]);
            }
            false
        }
    }
}

impl Watcher {
    /// `inotifytools_watch_file`: `Err(errno)` on failure.
    fn watch_file(&mut self, name: &[u8], events: u32) -> Result<(), i32> {
        let wd = self
            .inotify
            .add_watch(path(name), WatchFlags::from_bits_retain(events))
            .map_err(|e| raw_errno(e.errno()))?;
        let mut name = name.to_vec();
        if isdir(&name) && name.last() != Some(&b'/') {
            name.push(b'/');
        }
        self.watches.create(wd, name);
        Ok(())
    }

    /// `inotifytools_watch_recursively_with_exclude`: subdirectories first,
    /// depth first in `readdir` order, then the directory itself, so the
    /// directory reads happen while nothing above is watched yet (as in C).
    fn watch_recursively(&mut self, p: &[u8], events: u32, exclude: &[Vec<u8>]) -> Result<(), i32> {
        let dir = match std::fs::read_dir(path(p)) {
            Ok(d) => d,
            Err(e) if errno_of(&e) == ENOTDIR => return self.watch_file(p, events),
            Err(e) => return Err(errno_of(&e)),
        };
        let mut my_path = p.to_vec();
        if my_path.last() != Some(&b'/') {
            my_path.push(b'/');
        }
        for entry in dir {
            let Ok(entry) = entry else { break };
            let mut next = my_path.clone();
            next.extend_from_slice(entry.file_name().as_bytes());
            match std::fs::symlink_metadata(path(&next)) {
                Err(e) => {
                    if errno_of(&e) != EACCES {
                        return Err(errno_of(&e));
                    }
                }
                Ok(m) if m.is_dir() => {
                    next.push(b'/');
                    let excluded = exclude.iter().any(|x| {
                        let x = x.strip_suffix(b"/").unwrap_or(x);
                        next.len() == x.len() + 1 && next.starts_with(x)
                    });
                    if !excluded {
                        if let Err(e) = self.watch_recursively(&next, events, exclude) {
                            if e != EACCES && e != ENOENT && e != ELOOP {
                                return Err(e);
                            }
                        }
                    }
                }
                Ok(_) => {}
            }
        }
        // `dir` is closed here, before the directory itself is watched,
        // as C's closedir() is: no CLOSE_NOWRITE of our own on it.
        self.watch_file(&my_path, events)
    }

    /// Watches each path of the command line (`-r`: with what is under it);
    /// `Err` once the reason was printed, as inotifywait words it.
    fn watch_all(
        &mut self,
        list: &[Vec<u8>],
        exclude: &[Vec<u8>],
        recursive: bool,
        events: u32,
    ) -> Result<(), ()> {
        for file in list {
            let res = if recursive {
                self.watch_recursively(file, events, exclude)
            } else {
                self.watch_file(file, events)
            };
            match res {
                Ok(()) => {}
                Err(ENOSPC) => {
                    err(&[
                        b"Failed to watch ",
                        file,
                        b"; upper limit on inotify watches reached!\n",
                    ]);
                    err(&[b"Please increase the amount of inotify watches allowed per user via `/proc/sys/fs/inotify/max_user_watches'.\n"]);
                    return Err(());
                }
                Err(errno) => {
                    err(&[
                        b"Couldn't watch ",
                        file,
                        b": ",
                        strerror(errno).as_bytes(),
                        b"\n",
                    ]);
                    return Err(());
                }
            }
        }
        Ok(())
    }

    /// `inotifytools_remove_watch_by_filename`: `inotify_rm_watch` on the
    /// watch of that name, if there is one. `Err` after the library's own
    /// diagnostic, when the kernel refuses.
    fn unwatch(&mut self, name: &[u8]) -> Result<(), ()> {
        let Some(id) = self.watches.id_of_name(name) else {
            return Ok(());
        };
        let (wd, name) = self.watches.get(id);
        if self.inotify.rm_watch(wd).is_err() {
            // The C library passes -1 to strerror here.
            err(&[
                b"Failed to remove watch on ",
                name,
                b": ",
                strerror(-1).as_bytes(),
                b"\n",
            ]);
            return Err(());
        }
        self.watches.forget(id);
        Ok(())
    }

    /// inotifywait's `inotifytools_dirpath_from_event`: the watched
    /// directory's name, the entry's name and a slash, for directories.
    fn dirpath(&self, ev: &Ev<'_>) -> Option<Vec<u8>> {
        let dir = self.watches.name_of_wd(ev.wd);
        if dir.is_empty() || ev.mask & IN_ISDIR == 0 {
            return None;
        }
        let mut p = dir.to_vec();
        p.extend_from_slice(ev.name);
        p.push(b'/');
        Some(p)
    }

    /// A `MOVED_FROM` not followed by a `MOVED_TO` took its directory out of
    /// the tree: unwatch it (and only it: watches below it stay).
    fn unwatch_moved_out(&mut self, ev: &Ev<'_>) {
        if ev.mask & IN_MOVED_TO != 0 {
            return;
        }
        if let Some(from) = self.moved_from.take() {
            if self.unwatch(&from).is_err() {
                err(&[
                    b"Error removing watch on ",
                    &from,
                    b": ",
                    strerror(-1).as_bytes(),
                    b"\n",
                ]);
            }
        }
    }

    /// `-m -r`: new and moved-in directories are watched with all they
    /// hold; a moved-out one is remembered, and a renamed one's watches
    /// renamed.
    fn follow(&mut self, ev: &Ev<'_>, events: u32) {
        if ev.mask & IN_CREATE != 0 || (self.moved_from.is_none() && ev.mask & IN_MOVED_TO != 0) {
            if let Some(new_dir) = self.dirpath(ev) {
                if isdir(&new_dir) {
                    if let Err(errno) = self.watch_recursively(&new_dir, events, &[]) {
                        err(&[
                            b"Couldn't watch new directory ",
                            &new_dir,
                            b": ",
                            strerror(errno).as_bytes(),
                            b"\n",
                        ]);
                    }
                }
            }
        } else if ev.mask & IN_MOVED_FROM != 0 {
            self.moved_from = self
                .dirpath(ev)
                .filter(|p| self.watches.wd_of_name(p).is_some());
        } else if ev.mask & IN_MOVED_TO != 0 {
            if let Some(from) = self.moved_from.take() {
                if let Some(to) = self.dirpath(ev) {
                    self.watches.replace_prefix(&from, &to);
                }
            }
        }
    }
}

// --- the tool --------------------------------------------------------------------

/// inotifywait's `main`: the set-up, then one event at a time.
#[allow(clippy::too_many_lines)]
fn run(prog: &[u8], args: &[Vec<u8>]) -> i32 {
    let Some(o) = parse_opts(prog, args) else {
        return EXIT_FAILURE;
    };
    let inotify = match Inotify::new() {
        Ok(i) => i,
        Err(e) => {
            let errno = raw_errno(e.errno());
            err(&[
                b"Couldn't initialize inotify: ",
                strerror(errno).as_bytes(),
                b"\n",
            ]);
            if errno == EMFILE {
                err(&[b"Try increasing the value of /proc/sys/fs/inotify/max_user_instances\n"]);
            }
            return EXIT_FAILURE;
        }
    };
    let Ok(filter) = Filter::from_opts(&o) else {
        return EXIT_FAILURE;
    };
    let timefmt = o.timefmt.as_deref();
    if o.format
        .as_ref()
        .is_some_and(|f| !format_is_valid(f, timefmt))
    {
        err(&[b"Something is wrong with your format string.\n"]);
        return EXIT_FAILURE;
    }
    // The events printed, and those watched: with -m -r, also what it takes
    // to follow the tree; with -P, no following of symbolic links.
    let orig_events = if o.events == 0 {
        IN_ALL_EVENTS
    } else {
        o.events
    };
    let mut events = orig_events;
    if o.monitor && o.recursive {
        events |= IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM;
    }
    if o.no_dereference {
        events |= IN_DONT_FOLLOW;
    }
    let (watch_list, exclude_list) = path_list(&o);
    if watch_list.is_empty() {
        err(&[b"No files specified to watch!\n"]);
        return EXIT_FAILURE;
    }
    let Some(mut out) = format::open_output(o.outfile.as_deref()) else {
        return EXIT_FAILURE;
    };
    if o.quiet == 0 {
        if o.recursive {
            err(&[b"Setting up watches.  Beware: since -r was given, this may take a while!\n"]);
        } else {
            err(&[b"Setting up watches.\n"]);
        }
    }
    let mut w = Watcher {
        inotify,
        watches: Watches::default(),
        moved_from: None,
    };
    if w.watch_all(&watch_list, &exclude_list, o.recursive, events)
        .is_err()
    {
        return EXIT_FAILURE;
    }
    if o.quiet == 0 {
        err(&[b"Watches established.\n"]);
    }

    // inotifytools_next_event: a zero or negative timeout blocks forever.
    let wait = if o.timeout > 0 {
        Wait::new().timeout(Duration::from_secs(o.timeout as u64))
    } else {
        Wait::new()
    };
    let fmt = o.format.as_deref().unwrap_or(b"%w %,e %f\n");
    let mut buf = vec![0_u8; 16 * 4096];
    let mut line = Vec::new();
    let mut match_name = Vec::new();
    loop {
        // The records of one read, parsed in place as they are taken.
        let records = match w.inotify.read_wait(buf.as_mut_slice(), wait) {
            Ok(records) if records.is_empty() => return EXIT_TIMEOUT,
            Ok(records) => records,
            Err(e) => {
                err(&[strerror(raw_errno(e.errno())).as_bytes(), b"\n"]);
                return EXIT_FAILURE;
            }
        };
        for record in records {
            let ev = match record {
                Ok(e) => Ev {
                    wd: e.wd(),
                    mask: e.mask().bits(),
                    cookie: e.cookie(),
                    name: e.name_bytes(),
                },
                // The overflow record, which kernfd reports on its own.
                Err(EventError::QueueOverflow) => Ev {
                    wd: -1,
                    mask: IN_Q_OVERFLOW,
                    cookie: 0,
                    name: b"",
                },
                Err(e) => {
                    err(&[e.to_string().as_bytes(), b"\n"]);
                    return EXIT_FAILURE;
                }
            };
            if let Some(filter) = &filter {
                // The library matches "%w%f" and drops the event silently.
                let dir = w.watches.name_of_wd(ev.wd);
                format_event(&mut match_name, b"%w%f", &ev, dir, None);
                if filter.drops(&match_name) {
                    continue;
                }
            }
            if o.quiet < 2 && ev.mask & orig_events != 0 {
                let dir = w.watches.name_of_wd(ev.wd);
                if o.csv {
                    format_csv(&mut line, &ev, dir);
                } else {
                    format_event(&mut line, fmt, &ev, dir, timefmt);
                }
                if out.write_all(&line).is_err() {
                    return EXIT_FAILURE;
                }
            }
            w.unwatch_moved_out(&ev);
            if o.monitor && o.recursive {
                w.follow(&ev, events);
            }
            if out.flush().is_err() {
                return EXIT_FAILURE;
            }
            if !o.monitor {
                // The event that ended the wait decides: one we asked for
                // (0), or another such as IGNORED (1).
                return if events & ev.mask == 0 {
                    EXIT_FAILURE
                } else {
                    EXIT_SUCCESS
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_errno_takes_either_shape_of_errno() {
        assert_eq!(raw_errno(Errno::NOSPC), ENOSPC);
        assert_eq!(raw_errno(Some(Errno::MFILE)), EMFILE);
        assert_eq!(raw_errno(None::<Errno>), EIO);
        assert_eq!(strerror(ENOENT), "No such file or directory");
    }
}
