//! Helpers shared by the integration tests: temp dirs, visible skips,
//! descriptor counting, a counting allocator, and running a test body in a
//! child process (so system-changing tests never touch the machine).
#![allow(dead_code, unreachable_pub)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Skips the rest of a test, saying why on stderr (visible with
/// `--nocapture` and in CI logs), and counts it in `SKIPPED`.
#[macro_export]
macro_rules! skip {
    ($($arg:tt)*) => {{
        eprintln!("SKIPPED {}: {}", module_path!(), format!($($arg)*));
        return;
    }};
}

/// A fresh temporary directory, removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temp dir")
}

/// Whether we run as root (CI does); privileged tests skip otherwise.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
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
/// child mounts reaches the machine.
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
    let mut child = cmd.spawn().expect("spawn the test binary");
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
    // Forward skips and diagnostics so they stay visible.
    for line in text
        .lines()
        .filter(|l| l.starts_with("SKIPPED") || l.contains("panicked"))
    {
        eprintln!("{line}");
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

/// In a child made by [`in_child`]: a private mount namespace (and, unless
/// root, a user namespace that maps us to root), so mounts made here vanish
/// with the process. `Err` with the errno when namespaces are unavailable.
pub fn private_mount_ns() -> Result<(), rustix::io::Errno> {
    use rustix::thread::UnshareFlags;
    assert!(
        std::env::var_os(CHILD_ENV).is_some(),
        "only in a child process"
    );
    let mut flags = UnshareFlags::NEWNS;
    if !is_root() {
        flags |= UnshareFlags::NEWUSER;
    }
    // SAFETY: the child is single-threaded under --test-threads=1 (the
    // harness's main thread waits), and nothing here shares fs state.
    unsafe { rustix::thread::unshare_unsafe(flags)? };
    // Stop mount events propagating back to the parent namespace.
    rustix::mount::mount_change(
        "/",
        rustix::mount::MountPropagationFlags::PRIVATE | rustix::mount::MountPropagationFlags::REC,
    )?;
    Ok(())
}

/// The binary of example `name`, built if missing or older than its
/// source or the library's. `cargo test` builds examples next to the test
/// binary (`target/<profile>/examples/`); otherwise (`cargo test --test x`)
/// it is built here, in a target directory of its own, so as not to wait on
/// the lock of the running `cargo test`.
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
    let mut newest = mtime(&root.join("examples").join(format!("{name}.rs")));
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
    if bin.exists() && mtime(&bin) >= newest {
        return bin;
    }
    let target = profile_dir.join(format!("{name}-example-build"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--example", name, "--target-dir"])
        .arg(&target)
        .current_dir(root)
        .status()
        .expect("run cargo build --example");
    assert!(status.success(), "cargo build --example {name} failed");
    target.join("debug/examples").join(name)
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
