//! The event loop of `examples/event_loop.rs`, as a `#![no_std]`,
//! `#![no_main]`, statically linked x86_64 program: kernfd (with
//! `default-features = false`) and rustix's epoll, no std, no heap.
//!
//! One epoll loop over an inotify watch on a directory (argument 1, or
//! `.`), a signalfd for SIGINT/SIGTERM/SIGHUP, a 2-second periodic timerfd,
//! and an eventfd that a worker writes to every 3 seconds. The worker is a
//! forked child process (there are no threads without std), killed by the
//! kernel when the parent exits (`PR_SET_PDEATHSIG`). SIGINT ends the loop.
//!
//! No C runtime either: the program has its own `_start`, and links with
//! `rust-lld` alone (see `.cargo/config.toml`).
//!
//! ```text
//! cd examples/nostd-loop && cargo build --release
//! ./target/x86_64-unknown-linux-musl/release/nostd-loop /tmp
//! file target/x86_64-unknown-linux-musl/release/nostd-loop   # statically linked
//! sh check.sh   # build, check static + size, drive it with files and signals
//! ```
#![no_std]
#![no_main]

use core::ffi::CStr;
use core::fmt::{self, Write};
use core::mem::MaybeUninit;
use core::time::Duration;

use kernfd::Errno;
use kernfd::eventfd::{EventFd, EventFdFlags};
use kernfd::inotify::{InitFlags, Inotify, WatchFlags};
use kernfd::signal::{self, SigSet, Signal};
use kernfd::signalfd::{SIGINFO_LEN, SignalFd, SignalFdFlags};
use kernfd::timerfd::{Clock, Outcome, TimerFd, TimerFdFlags};
use rustix::event::epoll;

const SIGNALS: SigSet = SigSet::empty()
    .with(Signal::INT)
    .with(Signal::TERM)
    .with(Signal::HUP);

const INOTIFY: u64 = 0;
const SIGNALFD: u64 = 1;
const TIMER: u64 = 2;
const WORKER: u64 = 3;

/// A line buffer on the stack, written to stdout on newline.
struct Out {
    buf: [u8; 512],
    len: usize,
}

impl Out {
    fn flush(&mut self) {
        // SAFETY: this program never closes descriptor 1.
        let stdout = unsafe { rustix::stdio::stdout() };
        let mut at = 0;
        while at < self.len {
            match rustix::io::write(stdout, &self.buf[at..self.len]) {
                Ok(n) => at += n,
                Err(Errno::INTR) => {}
                Err(_) => break,
            }
        }
        self.len = 0;
    }
}

impl Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
            if b == b'\n' {
                self.flush();
            }
        }
        Ok(())
    }
}

/// Why the program stopped early: which call, and the kernel's errno.
enum Failure {
    Os(&'static str, Errno),
}

trait Context<T> {
    fn ctx(self, what: &'static str) -> Result<T, Failure>;
}

impl<T> Context<T> for Result<T, Errno> {
    fn ctx(self, what: &'static str) -> Result<T, Failure> {
        self.map_err(|e| Failure::Os(what, e))
    }
}

/// kernfd's objects fail with `kernfd::Error`; every error they can return
/// here has an errno (`EIO` stands in for one that has none).
impl<T> Context<T> for Result<T, kernfd::Error> {
    fn ctx(self, what: &'static str) -> Result<T, Failure> {
        self.map_err(|e| Failure::Os(what, e.errno().unwrap_or(Errno::IO)))
    }
}

/// `fork()`, issued raw: there is no libc wrapper to call here.
fn fork() -> Result<u32, Errno> {
    let ret: isize;
    // SAFETY: fork takes no arguments and touches no memory of ours; the
    // program is single-threaded, so the child's copy is consistent.
    unsafe {
        core::arch::asm!("syscall", inlateout("rax") 57_isize => ret,
            lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    if ret < 0 {
        Err(Errno::from_raw_os_error(-ret as i32))
    } else {
        Ok(ret as u32)
    }
}

/// `exit_group(code)`: ends the process without running anything else.
fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group does not return.
    unsafe {
        core::arch::asm!("syscall", in("rax") 231_isize, in("rdi") code as isize,
            options(noreturn, nostack));
    }
}

/// The worker: adds 1 to the eventfd every 3 seconds until the parent dies.
fn worker(efd: &EventFd) -> ! {
    // Die with the parent, even if it dies before this line.
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    if rustix::process::getppid().is_none_or(|p| p.as_raw_nonzero().get() == 1) {
        exit_group(0);
    }
    loop {
        let ts = rustix::time::Timespec {
            tv_sec: 3,
            tv_nsec: 0,
        };
        let _ = rustix::thread::nanosleep(&ts);
        let _ = efd.write(1);
    }
}

fn run(dir: &CStr, out: &mut Out) -> Result<(), Failure> {
    signal::block(&SIGNALS).ctx("sigprocmask")?;
    let inotify =
        Inotify::with_flags(InitFlags::CLOEXEC | InitFlags::NONBLOCK).ctx("inotify_init1")?;
    inotify
        .add_watch(
            dir,
            WatchFlags::CREATE
                | WatchFlags::DELETE
                | WatchFlags::CLOSE_WRITE
                | WatchFlags::MOVE
                | WatchFlags::DELETE_SELF,
        )
        .ctx("inotify_add_watch")?;
    let signals = SignalFd::with_flags(&SIGNALS, SignalFdFlags::CLOEXEC | SignalFdFlags::NONBLOCK)
        .ctx("signalfd4")?;
    let timer = TimerFd::with_clock(
        Clock::MONOTONIC,
        TimerFdFlags::CLOEXEC | TimerFdFlags::NONBLOCK,
    )
    .ctx("timerfd_create")?;
    let tick = Duration::from_secs(2);
    timer.set_after(tick, tick).ctx("timerfd_settime")?;
    let efd =
        EventFd::with_flags(0, EventFdFlags::CLOEXEC | EventFdFlags::NONBLOCK).ctx("eventfd2")?;
    if fork().ctx("fork")? == 0 {
        worker(&efd);
    }

    let ep = epoll::create(epoll::CreateFlags::CLOEXEC).ctx("epoll_create1")?;
    let level = epoll::EventFlags::IN;
    epoll::add(&ep, &inotify, epoll::EventData::new_u64(INOTIFY), level).ctx("epoll_ctl")?;
    epoll::add(&ep, &signals, epoll::EventData::new_u64(SIGNALFD), level).ctx("epoll_ctl")?;
    epoll::add(&ep, &timer, epoll::EventData::new_u64(TIMER), level).ctx("epoll_ctl")?;
    epoll::add(&ep, &efd, epoll::EventData::new_u64(WORKER), level).ctx("epoll_ctl")?;

    let _ = writeln!(
        out,
        "pid {}: watching {}; Ctrl-C to stop",
        rustix::process::getpid().as_raw_nonzero(),
        dir.to_str().unwrap_or("?")
    );
    let mut events = [MaybeUninit::<epoll::Event>::uninit(); 8];
    let mut buf = [0_u8; 4096];
    let mut sigbuf = [0_u8; 8 * SIGINFO_LEN];
    let (mut ticks, mut work) = (0_u64, 0_u64);
    loop {
        let (ready, _) = match epoll::wait(&ep, &mut events, None) {
            Ok(r) => r,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Failure::Os("epoll_wait", e)),
        };
        let mut stop = false;
        for ev in ready.iter() {
            match ev.data.u64() {
                INOTIFY => loop {
                    let events = match inotify.read(&mut buf) {
                        Ok(events) => events,
                        Err(e) if e.errno() == Some(Errno::AGAIN) => break,
                        Err(e) => {
                            return Err(Failure::Os("read inotify", e.errno().unwrap_or(Errno::IO)));
                        }
                    };
                    for event in events {
                        let _ = match event {
                            Ok(e) => writeln!(out, "inotify: {e} {}", e.mask()),
                            Err(e) => writeln!(out, "inotify: {e}"),
                        };
                    }
                },
                SIGNALFD => loop {
                    let infos = match signals.read(&mut sigbuf) {
                        Ok(infos) => infos,
                        Err(e) if e.errno() == Some(Errno::AGAIN) => break,
                        Err(e) => {
                            return Err(Failure::Os(
                                "read signalfd",
                                e.errno().unwrap_or(Errno::IO),
                            ));
                        }
                    };
                    for info in infos.flatten() {
                        let _ = writeln!(out, "signal: {info}");
                        stop |= info.signal() == Some(Signal::INT);
                    }
                },
                TIMER => match timer.read() {
                    Ok(Outcome::Expired(n)) => {
                        ticks += n;
                        let _ = writeln!(out, "timer: {n} tick(s), {ticks} in all");
                    }
                    Ok(Outcome::Canceled) => {
                        let _ = writeln!(out, "timer: canceled");
                    }
                    Err(e) if e.errno() == Some(Errno::AGAIN) => {}
                    Err(e) => {
                        return Err(Failure::Os("read timerfd", e.errno().unwrap_or(Errno::IO)));
                    }
                },
                _ => match efd.read() {
                    Ok(n) => {
                        work += n;
                        let _ = writeln!(out, "worker: +{n}, {work} in all");
                    }
                    Err(e) if e.errno() == Some(Errno::AGAIN) => {}
                    Err(e) => {
                        return Err(Failure::Os("read eventfd", e.errno().unwrap_or(Errno::IO)));
                    }
                },
            }
        }
        if stop {
            let _ = writeln!(out, "SIGINT: bye ({ticks} ticks, {work} from the worker)");
            return Ok(());
        }
    }
}

// The process entry point, with no C runtime: the kernel starts `_start`
// with the stack pointer at `argc`, followed by `argv[]`. Align the stack
// as the ABI wants for a call, and hand that pointer to Rust.
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym entry,
);

/// Called by `_start` with the initial stack pointer; never returns.
///
/// # Safety
/// `sp` is the process's initial stack pointer, as the kernel set it up
/// for `execve`: `argc`, then `argc` pointers to C strings.
unsafe extern "C" fn entry(sp: *const usize) -> ! {
    // SAFETY: the kernel's initial stack layout (caller's contract).
    let (argc, argv) = unsafe { (*sp, sp.add(1).cast::<*const u8>()) };
    let dir = if argc > 1 {
        // SAFETY: `argv[1]` exists and is a NUL-terminated string.
        unsafe { c_str(*argv.add(1)) }
    } else {
        c"."
    };
    let mut out = Out {
        buf: [0; 512],
        len: 0,
    };
    let code = match run(dir, &mut out) {
        Ok(()) => 0,
        Err(Failure::Os(what, e)) => {
            let _ = writeln!(out, "nostd-loop: {what}: {e}");
            1
        }
    };
    exit_group(code)
}

/// The C string at `p`, measured here (there is no libc `strlen`).
///
/// # Safety
/// `p` points to a NUL-terminated string that outlives the program.
unsafe fn c_str(p: *const u8) -> &'static CStr {
    let mut len = 0;
    // SAFETY: the string is NUL-terminated (caller's contract), so every
    // byte up to and including the NUL is readable.
    while unsafe { core::ptr::read_volatile(p.add(len)) } != 0 {
        len += 1;
    }
    // SAFETY: `len + 1` bytes are readable and the last one is the only NUL.
    unsafe { CStr::from_bytes_with_nul_unchecked(core::slice::from_raw_parts(p, len + 1)) }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    exit_group(101)
}
