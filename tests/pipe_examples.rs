//! `examples/splice_cat.rs` and `examples/tee.rs` against coreutils `cat`
//! and `tee`: the same arguments on the same inputs, into the same kind of
//! standard output, must give the same bytes, the same messages (the
//! program's name aside) and the same exit status.
//!
//! Standard output is tried as a pipe, a regular file, an `O_APPEND` file,
//! `/dev/null`, a socket and `/dev/full`; inputs include an empty file, a
//! sparse file past 4 GiB (copied whole into `/dev/null`, and compared byte
//! for byte from a standard input opened 64 KiB before the 4 GiB line, so
//! the test moves little data), non-UTF-8 names, missing files, directories and an
//! unreadable file.
#![allow(clippy::missing_panics_doc)]

#[macro_use]
mod util;

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// An example binary, built next to this test binary by `cargo test`, or
/// here (in a target directory of its own) when missing or stale.
fn example(name: &str) -> PathBuf {
    static BINS: OnceLock<std::sync::Mutex<Vec<(String, PathBuf)>>> = OnceLock::new();
    let bins = BINS.get_or_init(Default::default);
    let mut bins = bins.lock().unwrap();
    if let Some((_, p)) = bins.iter().find(|(n, _)| n == name) {
        return p.clone();
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let bin = profile_dir.join("examples").join(name);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut newest = mtime(&root.join(format!("examples/{name}.rs")));
    newest = newest.max(mtime(&root.join("examples/common/quote.rs")));
    let mut dirs = vec![root.join("src")];
    while let Some(d) = dirs.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                newest = newest.max(mtime(&p));
            }
        }
    }
    let path = if bin.exists() && mtime(&bin) >= newest {
        bin
    } else {
        let target = profile_dir.join("pipe-examples-build");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--example", name, "--target-dir"])
            .arg(&target)
            .current_dir(root)
            .status()
            .unwrap();
        assert!(status.success(), "cargo build --example {name} failed");
        target.join("debug/examples").join(name)
    };
    bins.push((name.to_owned(), path.clone()));
    path
}

fn have(tool: &str) -> bool {
    Path::new(tool).exists()
}

/// Where standard output goes.
#[derive(Clone, Copy, Debug)]
enum Out {
    Pipe,
    File,
    Append,
    DevNull,
    Socket,
    Full,
}

const ALL_OUTS: [Out; 5] = [Out::Pipe, Out::File, Out::Append, Out::DevNull, Out::Socket];

/// What a run left.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Standard input of a run.
enum In<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
    /// The file, opened and positioned at an offset.
    FileAt(&'a Path, u64),
}

/// Runs `prog args` in `cwd` with `input` and `out`; the program's name at
/// the start of stderr lines is replaced by `PROG`.
fn run(
    prog: &Path,
    name: &str,
    args: &[OsString],
    cwd: &Path,
    input: &In<'_>,
    out: Out,
) -> Outcome {
    let mut cmd = Command::new(prog);
    cmd.args(args).current_dir(cwd).stderr(Stdio::piped());
    let mut out_file = None;
    let mut sock_reader = None;
    match out {
        Out::Pipe => {
            cmd.stdout(Stdio::piped());
        }
        Out::File | Out::Append => {
            let path = cwd.join(format!(".out-{name}"));
            fs::write(&path, b"previous content\n").unwrap();
            let f = if matches!(out, Out::Append) {
                OpenOptions::new().append(true).open(&path).unwrap()
            } else {
                File::create(&path).unwrap()
            };
            cmd.stdout(f);
            out_file = Some(path);
        }
        Out::DevNull => {
            cmd.stdout(OpenOptions::new().write(true).open("/dev/null").unwrap());
        }
        Out::Full => {
            cmd.stdout(OpenOptions::new().write(true).open("/dev/full").unwrap());
        }
        Out::Socket => {
            let (a, mut b) = UnixStream::pair().unwrap();
            cmd.stdout(std::os::fd::OwnedFd::from(a));
            sock_reader = Some(std::thread::spawn(move || {
                let mut v = Vec::new();
                b.read_to_end(&mut v).unwrap();
                v
            }));
        }
    }
    match input {
        In::Bytes(_) => {
            cmd.stdin(Stdio::piped());
        }
        In::File(p) => {
            cmd.stdin(File::open(p).unwrap());
        }
        In::FileAt(p, at) => {
            use std::io::{Seek, SeekFrom};
            let mut f = File::open(p).unwrap();
            f.seek(SeekFrom::Start(*at)).unwrap();
            cmd.stdin(f);
        }
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", prog.display()));
    // The command holds the parent's copies of the child's descriptors (the
    // socket's other end): close them, or the socket never ends.
    drop(cmd);
    if let In::Bytes(b) = input {
        let mut stdin = child.stdin.take().unwrap();
        let b = b.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&b);
        });
    }
    let output = child.wait_with_output().unwrap();
    let stdout = if let Some(path) = out_file {
        fs::read(path).unwrap()
    } else if let Some(t) = sock_reader {
        t.join().unwrap()
    } else {
        output.stdout
    };
    let stderr = String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(|l| {
            let l = l
                .strip_prefix(&format!("{name}:"))
                .map_or_else(|| l.to_owned(), |r| format!("PROG:{r}"));
            l.replace(&format!("Try '{name} --help'"), "Try 'PROG --help'")
        })
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    Outcome {
        code: output.status.code(),
        stdout,
        stderr,
    }
}

/// Runs `cat` and `splice_cat` alike and asserts the outcomes agree.
fn same_as_cat(args: &[OsString], cwd: &Path, input: &In<'_>, out: Out) -> Outcome {
    let real = run(Path::new("cat"), "cat", args, cwd, input, out);
    let ours = run(&example("splice_cat"), "splice_cat", args, cwd, input, out);
    assert_eq!(
        ours, real,
        "splice_cat {args:?} into {out:?}: ours (left) differs from cat (right)"
    );
    real
}

fn os(args: &[&[u8]]) -> Vec<OsString> {
    args.iter()
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect()
}

/// A tree with the usual inputs: an empty file, a small one, a larger one,
/// a non-UTF-8 name, a directory.
fn tree() -> tempfile::TempDir {
    let dir = util::tempdir();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let p = dir.path();
    fs::write(p.join("empty"), b"").unwrap();
    fs::write(p.join("small"), b"hello\n").unwrap();
    let big: Vec<u8> = (0..700_000_u32).map(|i| (i % 253) as u8).collect();
    fs::write(p.join("big"), &big).unwrap();
    fs::write(
        p.join(OsStr::from_bytes(b"caf\xe9 \xff")),
        b"latin-1 name\n",
    )
    .unwrap();
    fs::create_dir(p.join("dir")).unwrap();
    dir
}

#[test]
fn cat_files_into_every_kind_of_output() {
    if !have("/usr/bin/cat") {
        skip!("coreutils cat is not installed");
    }
    let dir = tree();
    let cases: &[&[&[u8]]] = &[
        &[b"small"],
        &[b"empty"],
        &[b"big", b"small", b"big"],
        &[b"small", b"-", b"empty", b"-"],
        &[],
        &[b"caf\xe9 \xff"],
        &[b"--", b"small"],
    ];
    let stdin = b"from standard input\n".repeat(5000);
    for args in cases {
        for out in ALL_OUTS {
            let o = same_as_cat(&os(args), dir.path(), &In::Bytes(&stdin), out);
            assert_eq!(o.code, Some(0));
        }
    }
}

#[test]
fn cat_errors_match() {
    if !have("/usr/bin/cat") {
        skip!("coreutils cat is not installed");
    }
    let dir = tree();
    let cases: &[&[&[u8]]] = &[
        &[b"missing"],
        &[b"small", b"missing", b"big"],
        &[b"dir", b"small"],
        &[b"no such \xff\xfe", b"small"],
        &[b"it's", b"a b", b"x:y", b""],
        &[b"-x"],
        &[b"--nope"],
    ];
    for args in cases {
        for out in [Out::Pipe, Out::Append, Out::Socket] {
            let o = same_as_cat(&os(args), dir.path(), &In::Bytes(b"in\n"), out);
            assert_eq!(o.code, Some(1), "{args:?}");
        }
    }
    // A write error ends the copy: `write error: No space left on device`.
    let o = same_as_cat(
        &os(&[b"small", b"big"]),
        dir.path(),
        &In::Bytes(b""),
        Out::Full,
    );
    assert_eq!(o.code, Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("write error"));
}

#[test]
fn cat_unreadable_file() {
    if !have("/usr/bin/cat") {
        skip!("coreutils cat is not installed");
    }
    let dir = tree();
    let secret = dir.path().join("secret");
    fs::write(&secret, b"hidden").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).unwrap();
    let args = os(&[b"small", b"secret", b"small"]);
    let go = |prog: &Path, name: &str| {
        let mut cmd = Command::new(prog);
        cmd.args(&args).current_dir(dir.path());
        if util::is_root() {
            // Root reads anything: run both as nobody.
            cmd.uid(65534).gid(65534);
        }
        let o = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).replacen(name, "PROG", 1);
        (o.status.code(), o.stdout, err)
    };
    let real = go(Path::new("cat"), "cat");
    let ours = go(&example("splice_cat"), "splice_cat");
    assert_eq!(ours, real);
    assert_eq!(real.0, Some(1));
    assert!(real.2.contains("Permission denied"), "{}", real.2);
}

#[test]
fn cat_input_file_is_output_file() {
    if !have("/usr/bin/cat") {
        skip!("coreutils cat is not installed");
    }
    let dir = tree();
    // Output appended to the very file read: refused, the others copied.
    for prog in ["cat", "splice_cat"] {
        let path = dir.path().join(format!("self-{prog}"));
        fs::write(&path, b"self\n").unwrap();
    }
    let go = |bin: &Path, name: &str| {
        let path = dir.path().join(format!("self-{name}"));
        let out = OpenOptions::new().append(true).open(&path).unwrap();
        let o = Command::new(bin)
            .arg("small")
            .arg(&path)
            .arg("small")
            .current_dir(dir.path())
            .stdout(out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).replace(name, "PROG");
        (o.status.code(), err, fs::read(&path).unwrap())
    };
    let real = go(Path::new("cat"), "cat");
    let ours = go(&example("splice_cat"), "splice_cat");
    assert_eq!(ours, real);
    assert!(real.1.contains("input file is output file"), "{}", real.1);
}

#[test]
fn cat_closed_standard_descriptors() {
    if !have("/usr/bin/cat") {
        skip!("coreutils cat is not installed");
    }
    let dir = tree();
    let go = |bin: &Path, name: &str, close: i32| {
        let mut cmd = Command::new(bin);
        cmd.arg("small")
            .arg("-")
            .current_dir(dir.path())
            .stderr(Stdio::piped());
        // SAFETY: only close(2) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                libc::close(close);
                Ok(())
            });
        }
        let o = cmd.output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).replace(name, "PROG"),
            o.stdout,
        )
    };
    for fd in [0, 1] {
        let real = go(Path::new("cat"), "cat", fd);
        let ours = go(&example("splice_cat"), "splice_cat", fd);
        assert_eq!(ours, real, "fd {fd} closed");
        assert_eq!(real.0, Some(1));
    }
}

/// A sparse file of 4 GiB and 64 KiB with marks at both ends and around the
/// 4 GiB line.
fn sparse(dir: &Path) -> PathBuf {
    use std::os::unix::fs::FileExt;
    let path = dir.join("sparse");
    let f = File::create(&path).unwrap();
    let len = (4_u64 << 30) + 65536;
    f.set_len(len).unwrap();
    f.write_all_at(b"start", 0).unwrap();
    f.write_all_at(b"across the 4 GiB line", (4 << 30) - 10)
        .unwrap();
    f.write_all_at(b"end", len - 3).unwrap();
    path
}

#[test]
fn sparse_file_past_4_gib() {
    if !have("/usr/bin/cat") || !have("/usr/bin/tee") {
        skip!("needs coreutils cat and tee");
    }
    let dir = tree();
    let path = sparse(dir.path());
    // The whole file into /dev/null: the copy loop runs over all of it
    // (status and messages agree). A pipe or a file would move 4 GiB more.
    same_as_cat(&os(&[b"sparse"]), dir.path(), &In::Bytes(b""), Out::DevNull);
    // Standard input opened at 4 GiB - 64 KiB: the rest of the file, marks
    // across the 4 GiB line and at the end, compared byte for byte.
    let at = In::FileAt(&path, (4 << 30) - 65536);
    for args in [&[][..], &[&b"-"[..]][..]] {
        for out in [Out::Pipe, Out::File, Out::Socket] {
            let o = same_as_cat(&os(args), dir.path(), &at, out);
            assert_eq!(o.stdout.len(), 2 * 65536);
            assert_eq!(&o.stdout[65526..65547], b"across the 4 GiB line");
            assert!(o.stdout.ends_with(b"end"));
        }
    }
    same_as_tee(&[b"copy"], &[b"copy"], &at, Out::Pipe, &|_| {});
}

// ---- tee ----

/// Runs `tee` and the example with the same arguments in twin directories
/// (so each writes its own FILEs) and compares outputs, messages, status
/// and the FILEs' contents.
fn same_as_tee(args: &[&[u8]], files: &[&[u8]], input: &In<'_>, out: Out, prepare: &dyn Fn(&Path)) {
    let real_dir = util::tempdir();
    let ours_dir = util::tempdir();
    for d in [&real_dir, &ours_dir] {
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
        prepare(d.path());
    }
    let real = run(
        Path::new("tee"),
        "tee",
        &os(args),
        real_dir.path(),
        input,
        out,
    );
    let ours = run(
        &example("tee"),
        "tee",
        &os(args),
        ours_dir.path(),
        input,
        out,
    );
    assert_eq!(
        ours, real,
        "tee {args:?} into {out:?}: ours (left) vs tee (right)"
    );
    for f in files {
        let name = OsStr::from_bytes(f);
        let a = fs::read(real_dir.path().join(name)).ok();
        let b = fs::read(ours_dir.path().join(name)).ok();
        assert_eq!(b, a, "tee {args:?}: file {name:?} differs");
    }
}

/// Arguments, or file names, as bytes.
type Args<'a> = &'a [&'a [u8]];

#[test]
fn tee_matches_coreutils() {
    if !have("/usr/bin/tee") {
        skip!("coreutils tee is not installed");
    }
    let data: Vec<u8> = (0..900_000_u32).map(|i| (i % 251) as u8).collect();
    let existing = |d: &Path| {
        fs::write(d.join("one"), b"existing one\n").unwrap();
        fs::write(d.join("two"), b"existing two\n").unwrap();
        fs::create_dir(d.join("dir")).unwrap();
    };
    let cases: &[(Args, Args)] = &[
        (&[], &[]),
        (&[b"one"], &[b"one"]),
        (&[b"one", b"two", b"three"], &[b"one", b"two", b"three"]),
        (&[b"-a", b"one", b"two"], &[b"one", b"two"]),
        (&[b"--append", b"one"], &[b"one"]),
        (&[b"-a", b"--", b"-a"], &[b"-a"]),
        (&[b"-"], &[b"-"]),
        (&[b"n\xe9w \xff"], &[b"n\xe9w \xff"]),
        (&[b"dir", b"one", b"missing/x"], &[b"one"]),
        (&[b"-x"], &[]),
        (&[b"--bogus"], &[]),
    ];
    for (args, files) in cases {
        for out in ALL_OUTS {
            // Standard input as a pipe (tee(2) when the output is a pipe too).
            same_as_tee(args, files, &In::Bytes(&data), out, &existing);
            same_as_tee(args, files, &In::Bytes(b""), out, &existing);
        }
    }
    // Standard input as a file: the ordinary copy.
    let dir = util::tempdir();
    let input = dir.path().join("input");
    fs::write(&input, &data).unwrap();
    for out in [Out::Pipe, Out::File] {
        same_as_tee(
            &[b"one", b"two"],
            &[b"one", b"two"],
            &In::File(&input),
            out,
            &existing,
        );
    }
    // Standard input a directory: `read error`.
    same_as_tee(
        &[b"one"],
        &[b"one"],
        &In::File(dir.path()),
        Out::Pipe,
        &existing,
    );
    // Standard output full.
    same_as_tee(
        &[b"one"],
        &[b"one"],
        &In::Bytes(&data),
        Out::Full,
        &existing,
    );
}

#[test]
fn cat_and_tee_onto_a_terminal() {
    // util-linux `script` runs a command on a fresh pseudo-terminal and
    // copies what it prints: splice refuses a tty, so the fallback runs.
    if !have("/usr/bin/script") || !have("/usr/bin/cat") || !have("/usr/bin/tee") {
        skip!("needs util-linux script, coreutils cat and tee");
    }
    let dir = tree();
    let on_tty = |cmd: String| {
        let o = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (o.status.code(), o.stdout)
    };
    let cat = example("splice_cat");
    let tee = example("tee");
    let real = on_tty("cat small big missing".into());
    let ours = on_tty(format!("'{}' small big missing", cat.display()));
    assert_eq!(ours.0, real.0);
    // The message names the program; the rest must agree.
    let strip =
        |v: &[u8], name: &str| String::from_utf8_lossy(v).replace(&format!("{name}:"), "PROG:");
    assert_eq!(strip(&ours.1, "splice_cat"), strip(&real.1, "cat"));
    assert!(real.1.len() > 700_000);
    let real = on_tty("tee copy < big".into());
    let ours = on_tty(format!("'{}' copy < big", tee.display()));
    assert_eq!(ours, real);
}
