//! Helpers shared by the integration tests: temp dirs, visible skips,
//! descriptor counting, a counting allocator, and running a test body in a
//! child process (so system-changing tests never touch the machine).
#![allow(dead_code, unreachable_pub)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
    std::fs::read_dir("/proc/self/fd").expect("read /proc/self/fd").count() - 1
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

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
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
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` with counting on and returns its result and the number of
/// allocations (in any thread) made meanwhile. Tests using it should run
/// alone in their binary or hold [`SERIAL`], since the count is global.
pub fn count_allocs<T>(f: impl FnOnce() -> T) -> (T, usize) {
    ALLOCS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let out = f();
    COUNTING.store(false, Ordering::SeqCst);
    (out, ALLOCS.load(Ordering::SeqCst))
}

/// Serialises tests that measure process-wide state (allocations, fds).
pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Locks [`SERIAL`], ignoring poisoning by an earlier failed test.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
    if std::env::var_os(CHILD_ENV).is_some_and(|v| v == name) {
        return false;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .output()
        .expect("spawn the test binary");
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    // Forward skips and diagnostics so they stay visible.
    for line in text.lines().filter(|l| l.starts_with("SKIPPED") || l.contains("panicked")) {
        eprintln!("{line}");
    }
    assert!(out.status.success(), "child test {name} failed:\n{text}");
    assert!(text.contains("1 passed"), "child ran no test {name}:\n{text}");
    true
}

/// In a child made by [`in_child`]: a private mount namespace (and, unless
/// root, a user namespace that maps us to root), so mounts made here vanish
/// with the process. `Err` with the errno when namespaces are unavailable.
pub fn private_mount_ns() -> Result<(), rustix::io::Errno> {
    use rustix::thread::UnshareFlags;
    assert!(std::env::var_os(CHILD_ENV).is_some(), "only in a child process");
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
