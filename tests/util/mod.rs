//! Helpers shared by the integration tests: temp dirs, visible skips
//! (`skip!`, `or_skip!`), descriptor counting, a counting allocator,
//! running a test body in a child process, in fresh namespaces where it
//! mounts (`in_child`, `in_child_ns`, `in_mount_ns` + `tmpfs`), so
//! system-changing tests never touch the machine, machine-wide limits read
//! when they matter (`with_limit`, `inotify_limits`), and per-facility
//! fixtures (`fanotify`).
#![allow(dead_code, unreachable_pub)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

pub mod fanotify;

/// Skips the rest of a test, saying why: prints `SKIPPED <test>: <why>` on
/// the process's real stderr (not the harness's captured output, so the
/// line shows in every log, passing or not) and returns.
#[macro_export]
macro_rules! skip {
    ($($arg:tt)*) => {{
        $crate::util::skipped(module_path!(), &format!($($arg)*));
        return;
    }};
}

/// Prints `SKIPPED <test>: <why>` straight to file descriptor 2. The test
/// is named by its thread (libtest names each test's thread after it), or
/// by `module` in a binary without the harness.
pub fn skipped(module: &str, why: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let name = match thread.name() {
        Some(name) if name != "main" => name,
        _ => module,
    };
    let line = format!("SKIPPED {name}: {why}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// A fresh temporary directory, removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temp dir")
}

/// Whether we run as root (CI does) in the initial user namespace, where
/// the capabilities the kernel checks there are ours; privileged tests skip
/// otherwise. Uid 0 in a child's own user namespace is not root here.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root() && in_initial_user_ns()
}

/// Whether this process is in the initial user namespace: its uid map is
/// the identity over every uid (`0 0 4294967295`).
pub fn in_initial_user_ns() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|map| map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
}

/// The number of open descriptors of this process.
pub fn count_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
        - 1
}

/// The open descriptors of this process, sorted, with what they point to.
pub fn list_fds() -> Vec<(i32, std::path::PathBuf)> {
    let mut v: Vec<_> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let fd: i32 = e.file_name().to_str()?.parse().ok()?;
            Some((fd, std::fs::read_link(e.path()).ok()?))
        })
        .collect();
    v.sort();
    v
}

/// A global allocator that counts allocations while counting is on.
///
/// Declare it in a test binary with
/// `#[global_allocator] static A: util::CountingAlloc = util::CountingAlloc;`
/// and measure with [`count_allocs`].
pub struct CountingAlloc;

thread_local! {
    /// Whether this thread's allocations are being counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` with counting on for the calling thread and returns its result
/// and the number of allocations that thread made meanwhile. Other threads
/// (the test harness's, other tests') are not counted. Tests using it hold
/// [`serial`] so that the shared counter is theirs alone.
pub fn count_allocs<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let _serial = serial();
    ALLOCS.store(0, Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (out, ALLOCS.load(Ordering::SeqCst))
}

/// Serialises tests that measure process-wide state (allocations, fds).
/// Not reentrant: [`count_allocs`] takes it itself.
pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Locks [`SERIAL`], ignoring poisoning by an earlier failed test.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The environment variable that tells a re-executed test binary it is the
/// child of [`in_child`].
pub const CHILD_ENV: &str = "KERNFD_TEST_CHILD";

/// Runs the test named `name` again, alone, in a child process of this test
/// binary, and asserts that it passed there. Call it first thing in a test:
///
/// ```ignore
/// #[test]
/// fn changes_the_mask() {
///     if util::in_child("changes_the_mask") { return; }
///     // Only the child gets here: change what you like.
/// }
/// ```
///
/// Returns `true` in the parent (once the child passed) and `false` in the
/// child, which then runs the body; its verdict is its exit status.
pub fn in_child(name: &str) -> bool {
    in_child_ns(name, rustix::thread::UnshareFlags::empty())
}

/// Like [`in_child`], with the child started in new namespaces: `ns` is
/// unshared between fork and exec (while the child is single-threaded, as
/// `CLONE_NEWUSER` requires). With `NEWUSER` the caller's uid and gid map to
/// root inside; with `NEWNS` the whole tree is made private, so nothing the
/// child mounts reaches the machine. Where the namespaces cannot be entered
/// (user namespaces disabled), it says `SKIPPED <name>: <why>` and returns
/// `true`, so the test ends.
pub fn in_child_ns(name: &str, ns: rustix::thread::UnshareFlags) -> bool {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(CHILD_ENV).is_some_and(|v| v == name) {
        return false;
    }
    let exe = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new(exe);
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name);
    if !ns.is_empty() {
        let (uid, gid) = (
            rustix::process::getuid().as_raw(),
            rustix::process::getgid().as_raw(),
        );
        // SAFETY: the closure runs between fork and exec; it only makes
        // syscalls on stack data and allocates nothing.
        unsafe {
            cmd.pre_exec(move || enter_namespaces(ns, uid, gid).map_err(std::io::Error::from));
        }
    }
    // Output goes to a file (no pipe to fill up); a child that hangs is
    // killed after a deadline, so a deadlock fails the test instead of
    // stalling the whole run.
    let log = tempfile::tempfile().expect("a temp file for the child's output");
    cmd.stdout(log.try_clone().unwrap())
        .stderr(log.try_clone().unwrap());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        // The pre-exec unshare failed: namespaces are unavailable here
        // (user namespaces disabled, or too many of them).
        Err(err) if !ns.is_empty() => {
            skipped(name, &format!("cannot enter namespaces {ns:?}: {err}"));
            return true;
        }
        Err(err) => panic!("spawn the test binary: {err}"),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("child test {name} did not finish within 300 s: killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let mut text = String::new();
    {
        use std::io::{Read, Seek};
        let mut log = log;
        log.rewind().unwrap();
        let mut bytes = Vec::new();
        log.read_to_end(&mut bytes).unwrap();
        text.push_str(&String::from_utf8_lossy(&bytes));
    }
    // Forward skips so they stay visible, past the harness's capture (in
    // the child, one may follow libtest's `test <name> ... ` on its line).
    for line in text
        .lines()
        .filter_map(|l| l.find("SKIPPED ").map(|i| &l[i..]))
    {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
    assert!(status.success(), "child test {name} failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "child ran no test {name}:\n{text}"
    );
    true
}

/// Between fork and exec: unshare `ns`, map ids, make mounts private.
fn enter_namespaces(
    ns: rustix::thread::UnshareFlags,
    uid: u32,
    gid: u32,
) -> rustix::io::Result<()> {
    use rustix::fs::{Mode, OFlags, open};
    use rustix::thread::UnshareFlags;
    // SAFETY: the forked child has a single thread and shares nothing.
    unsafe { rustix::thread::unshare_unsafe(ns)? };
    if ns.contains(UnshareFlags::NEWUSER) {
        let write = |path: &str, line: &[u8]| -> rustix::io::Result<()> {
            let fd = open(path, OFlags::WRONLY, Mode::empty())?;
            rustix::io::write(&fd, line).map(drop)
        };
        write("/proc/self/setgroups", b"deny")?;
        let mut buf = [0_u8; 32];
        write("/proc/self/uid_map", id_map_line(&mut buf, uid))?;
        write("/proc/self/gid_map", id_map_line(&mut buf, gid))?;
    }
    if ns.contains(UnshareFlags::NEWNS) {
        rustix::mount::mount_change(
            "/",
            rustix::mount::MountPropagationFlags::PRIVATE
                | rustix::mount::MountPropagationFlags::REC,
        )?;
    }
    Ok(())
}

/// `"0 <id> 1"` in `buf`, without allocating.
fn id_map_line(buf: &mut [u8; 32], id: u32) -> &[u8] {
    let mut digits = [0_u8; 10];
    let mut n = id;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf[..2].copy_from_slice(b"0 ");
    for i in 0..len {
        buf[2 + i] = digits[len - 1 - i];
    }
    buf[2 + len..4 + len].copy_from_slice(b" 1");
    &buf[..4 + len]
}

/// The namespaces a test that mounts runs in: a private mount namespace
/// and, unless we are root, a user namespace mapping us to root inside it
/// (where mounting tmpfs is allowed). Root keeps the initial user namespace
/// and with it the capabilities fanotify checks there.
pub fn mount_ns() -> rustix::thread::UnshareFlags {
    use rustix::thread::UnshareFlags;
    if is_root() {
        UnshareFlags::NEWNS
    } else {
        UnshareFlags::NEWNS | UnshareFlags::NEWUSER
    }
}

/// [`in_child_ns`] with [`mount_ns`] for the calling test (named by its
/// thread, as libtest names it): it runs again in a child where it may
/// mount (see [`tmpfs`]) without touching the machine. Returns `true` in
/// the parent, `false` in the child, which then runs the body.
pub fn in_mount_ns() -> bool {
    let name = test_name();
    in_child_ns(&name, mount_ns())
}

/// The calling test's full name (`module::test`), from its thread's name.
pub fn test_name() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .expect("called from a libtest test thread")
        .to_owned()
}

/// `Ok(v)` gives `v`; `Err(why)` skips the test with `why` (see [`skip!`]).
#[macro_export]
macro_rules! or_skip {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(why) => $crate::skip!("{}", why),
        }
    };
}

/// A fresh tmpfs mounted on a new temporary directory, in a child started
/// by [`in_mount_ns`]: it and its mount vanish with the child.
pub fn tmpfs() -> tempfile::TempDir {
    assert!(
        std::env::var_os(CHILD_ENV).is_some(),
        "util::tmpfs only in a child with a private mount namespace (util::in_mount_ns)"
    );
    mount_tmpfs()
}

/// The mount behind [`tmpfs`], for a process that made its own mounts
/// private (unshared `NEWNS` and made `/` private, as `benches/fanotify.rs`
/// does): a fresh tmpfs on a new temporary directory.
pub fn mount_tmpfs() -> tempfile::TempDir {
    let dir = tempdir();
    rustix::mount::mount(
        "kernfd-test",
        dir.path(),
        "tmpfs",
        rustix::mount::MountFlags::empty(),
        None,
    )
    .expect("mount tmpfs in a private mount namespace");
    dir
}

/// A machine-wide limit (a sysctl under `/proc/sys`), as a number.
pub fn read_limit(sysctl: &str) -> usize {
    let text = std::fs::read_to_string(sysctl).unwrap_or_else(|e| panic!("read {sysctl}: {e}"));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("parse {sysctl} ({text:?}): {e}"))
}

/// Makes an object that copies `sysctl` when it is made (an inotify or
/// fanotify group copies `max_queued_events` at init), and returns it with
/// the value it copied: the limit is read before and after, and the object
/// made again until both agree, so another program changing the sysctl
/// meanwhile cannot make the test expect the wrong number.
pub fn with_limit<T>(sysctl: &str, mut make: impl FnMut() -> T) -> (T, usize) {
    for _ in 0..100 {
        let before = read_limit(sysctl);
        let object = make();
        if read_limit(sysctl) == before {
            return (object, before);
        }
    }
    panic!("{sysctl} kept changing while the test made its object");
}

/// Asserts whether `fd` is close-on-exec.
pub fn assert_cloexec(fd: impl rustix::fd::AsFd, cloexec: bool) {
    let flags = rustix::io::fcntl_getfd(fd).unwrap();
    assert_eq!(
        flags.contains(rustix::io::FdFlags::CLOEXEC),
        cloexec,
        "{flags:?}"
    );
}

/// Asserts that `fd` is `O_NONBLOCK` in the kernel: kernfd keeps its
/// descriptors so whatever mode the object reports.
pub fn assert_kernel_nonblocking(fd: impl rustix::fd::AsFd) {
    let flags = rustix::fs::fcntl_getfl(fd).unwrap();
    assert!(
        flags.contains(rustix::fs::OFlags::NONBLOCK),
        "kernfd keeps the descriptor O_NONBLOCK in the kernel: {flags:?}"
    );
}

/// Sends `signal` to thread `tid` of this process after `delay`, from a
/// new thread (joined through the handle).
pub fn signal_thread_after(
    tid: rustix::thread::Pid,
    signal: libc::c_int,
    delay: std::time::Duration,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        // SAFETY: tgkill takes plain integers; it signals a thread of our
        // own process, whose handler the caller installed.
        let r = unsafe {
            libc::syscall(
                libc::SYS_tgkill,
                libc::getpid(),
                tid.as_raw_nonzero().get(),
                signal,
            )
        };
        assert_eq!(r, 0, "tgkill: {}", std::io::Error::last_os_error());
    })
}

/// The inotify limits that can refuse a test's instance or watch, as they
/// are now (for failure messages: another program may have changed them,
/// or may hold watches of the same user): the machine's and this user
/// namespace's, which the kernel checks at every level up to the initial
/// one.
pub fn inotify_limits() -> String {
    [
        "/proc/sys/fs/inotify/max_user_watches",
        "/proc/sys/fs/inotify/max_user_instances",
        "/proc/sys/fs/inotify/max_queued_events",
        "/proc/sys/user/max_inotify_watches",
        "/proc/sys/user/max_inotify_instances",
    ]
    .iter()
    .map(|p| {
        let v = std::fs::read_to_string(p).map_or_else(|e| e.to_string(), |v| v.trim().to_owned());
        format!("{} = {v}", p.trim_start_matches("/proc/sys/"))
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// `result`'s value; its error panics with [`inotify_limits`] as they are.
#[track_caller]
pub fn within_inotify_limits<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{e} (limits now: {})", inotify_limits()))
}

/// The namespaces for a test that needs `CAP_SYS_ADMIN` over `ns`: `ns`
/// itself as root, `ns | NEWUSER` otherwise (the user namespace grants the
/// capability over the others). `None` when this user cannot create a user
/// namespace here (checked by starting `/bin/true` in one): skip then.
pub fn sandbox_ns(ns: rustix::thread::UnshareFlags) -> Option<rustix::thread::UnshareFlags> {
    use rustix::thread::UnshareFlags;
    use std::os::unix::process::CommandExt;
    if is_root() {
        return Some(ns);
    }
    let mut cmd = std::process::Command::new("/bin/true");
    // SAFETY: between fork and exec; one syscall, no allocation.
    unsafe {
        cmd.pre_exec(|| {
            rustix::thread::unshare_unsafe(UnshareFlags::NEWUSER).map_err(std::io::Error::from)
        });
    }
    let ok = cmd.status().is_ok_and(|s| s.success());
    ok.then_some(ns | UnshareFlags::NEWUSER)
}

/// In a child made by [`in_child`]: drops every privilege for good (no
/// supplementary groups, gid and uid 65534), so calls needing
/// `CAP_SYS_ADMIN` fail with `EPERM`.
pub fn drop_to_nobody() {
    assert!(
        std::env::var_os(CHILD_ENV).is_some(),
        "only in a child process"
    );
    // SAFETY: plain syscalls on no memory but a null list; the child runs
    // its test alone, and glibc applies the ids to every thread.
    unsafe {
        if is_root() {
            assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
        }
        assert_eq!(libc::setgid(65534), 0);
        assert_eq!(libc::setuid(65534), 0);
    }
}

/// The example program `name`, built for the tests: `cargo test` builds
/// examples next to the test binaries (`target/<profile>/examples/`); when
/// it is missing or older than its source (`cargo test --test <name>`), it
/// is built here into a target directory of its own, so as not to wait on
/// the lock of the running cargo.
pub fn example_bin(name: &str) -> std::path::PathBuf {
    use std::path::Path;
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join("examples").join(name);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut newest = mtime(&root.join(format!("examples/{name}.rs")));
    let mut dirs = vec![root.join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                newest = newest.max(mtime(&p));
            }
        }
    }
    let target = profile_dir.join(format!("{name}-example-build"));
    let built = target.join("debug/examples").join(name);
    for candidate in [&bin, &built] {
        if candidate.exists() && mtime(candidate) >= newest {
            return candidate.clone();
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--example", name, "--target-dir"])
        .arg(&target)
        .current_dir(root)
        .status()
        .expect("run cargo build --example");
    assert!(status.success(), "cargo build --example {name} failed");
    built
}

/// A fresh temp dir on a disk filesystem (not tmpfs): under the target
/// directory, or under `$TMPDIR` where the target directory is not writable
/// (the suite run as nobody). `Err` with why when neither works.
#[allow(clippy::unnecessary_cast)] // `f_type`'s type differs between arches
pub fn disk_tempdir() -> Result<tempfile::TempDir, String> {
    use std::fmt::Write;
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    let mut why = String::new();
    for parent in [
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        std::env::temp_dir(),
    ] {
        match tempfile::tempdir_in(&parent) {
            Ok(d) => {
                if rustix::fs::statfs(d.path()).is_ok_and(|s| s.f_type as i64 != TMPFS_MAGIC) {
                    return Ok(d);
                }
                let _ = write!(why, "{} is tmpfs; ", parent.display());
            }
            Err(e) => {
                let _ = write!(why, "{}: {e}; ", parent.display());
            }
        }
    }
    Err(why)
}
