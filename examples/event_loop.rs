//! One epoll loop over four kernel event sources, allocation-free once
//! started:
//!
//! - an inotify watch on a directory (files created, written, deleted,
//!   moved),
//! - a signalfd for SIGINT, SIGTERM and SIGHUP (SIGINT ends the loop),
//! - a periodic timerfd,
//! - an eventfd that a worker thread writes to.
//!
//! It prints what arrives. Try it:
//!
//! ```text
//! cargo run --example event_loop -- /tmp
//! touch /tmp/hello; kill -HUP <pid>; kill -TERM <pid>; then Ctrl-C
//! ```
//!
//! The loop is a library-like [`EventLoop`] so that `tests/event_loop.rs`
//! can drive it with real signals, files and timer ticks under a counting
//! allocator, and prove that [`EventLoop::run`] makes no heap allocation.

use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use kernfd::eventfd::{EventFd, EventFdFlags};
use kernfd::inotify::{InitFlags, Inotify, WatchFlags};
use kernfd::rustix::event::epoll;
use kernfd::rustix::fd::OwnedFd;
use kernfd::signal::{self, SigSet, Signal};
use kernfd::signalfd::{SIGINFO_LEN, SignalFd, SignalFdFlags};
use kernfd::timerfd::{Clock, Outcome, TimerFd, TimerFdFlags};

/// The signals the loop takes through its signalfd.
pub const SIGNALS: SigSet = SigSet::empty()
    .with(Signal::INT)
    .with(Signal::TERM)
    .with(Signal::HUP);

const INOTIFY: u64 = 0;
const SIGNALFD: u64 = 1;
const TIMER: u64 = 2;
const WORKER: u64 = 3;

/// What the loop saw, returned when SIGINT ends it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// inotify events read.
    pub inotify_events: u64,
    /// SIGHUP records read.
    pub hups: u64,
    /// SIGTERM records read.
    pub terms: u64,
    /// Timer expirations counted.
    pub ticks: u64,
    /// Reads of the worker's eventfd.
    pub wakeups: u64,
    /// The sum of the worker's eventfd counters read.
    pub worker_total: u64,
}

/// State shared with the worker thread.
#[derive(Debug, Default)]
pub struct Shared {
    /// Set to stop the worker.
    pub stop: AtomicBool,
    /// How many times the worker has written to the eventfd.
    pub sent: AtomicU64,
}

/// The loop and everything it owns, all set up in [`EventLoop::new`].
#[derive(Debug)]
pub struct EventLoop {
    epoll: OwnedFd,
    inotify: Inotify,
    signals: SignalFd,
    timer: TimerFd,
    worker_fd: Arc<EventFd>,
    /// Shared with the worker thread.
    pub shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl EventLoop {
    /// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call it
    /// before any other thread is spawned, so that every thread inherits
    /// the mask and the signals reach the signalfd), then sets up the four
    /// sources and starts the worker, which adds 1 to the eventfd every
    /// `work_every`.
    ///
    /// # Errors
    /// Any setup failure.
    pub fn new(dir: &Path, tick: Duration, work_every: Duration) -> io::Result<Self> {
        signal::block(&SIGNALS)?;
        let inotify = Inotify::with_flags(InitFlags::CLOEXEC | InitFlags::NONBLOCK)?;
        inotify.add_watch(
            dir,
            WatchFlags::CREATE
                | WatchFlags::DELETE
                | WatchFlags::CLOSE_WRITE
                | WatchFlags::MOVE
                | WatchFlags::DELETE_SELF,
        )?;
        let signals =
            SignalFd::with_flags(&SIGNALS, SignalFdFlags::CLOEXEC | SignalFdFlags::NONBLOCK)?;
        let timer = TimerFd::with_clock(
            Clock::MONOTONIC,
            TimerFdFlags::CLOEXEC | TimerFdFlags::NONBLOCK,
        )?;
        timer.set_after(tick, tick)?;
        let worker_fd = Arc::new(EventFd::with_flags(
            0,
            EventFdFlags::CLOEXEC | EventFdFlags::NONBLOCK,
        )?);

        let ep = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let level = epoll::EventFlags::IN;
        epoll::add(&ep, &inotify, epoll::EventData::new_u64(INOTIFY), level)?;
        epoll::add(&ep, &signals, epoll::EventData::new_u64(SIGNALFD), level)?;
        epoll::add(&ep, &timer, epoll::EventData::new_u64(TIMER), level)?;
        epoll::add(&ep, &*worker_fd, epoll::EventData::new_u64(WORKER), level)?;

        let shared = Arc::new(Shared::default());
        let worker = {
            let (fd, shared) = (Arc::clone(&worker_fd), Arc::clone(&shared));
            std::thread::Builder::new()
                .name("worker".into())
                .spawn(move || {
                    while !shared.stop.load(Ordering::Relaxed) {
                        std::thread::sleep(work_every);
                        // EAGAIN only if the counter were near u64::MAX.
                        if fd.write(1).is_ok() {
                            shared.sent.fetch_add(1, Ordering::Release);
                        }
                    }
                })?
        };
        Ok(Self {
            epoll: ep,
            inotify,
            signals,
            timer,
            worker_fd,
            shared,
            worker: Some(worker),
        })
    }

    /// Runs until SIGINT, printing each arrival to `out`. Allocates nothing
    /// (as long as `out` does not).
    ///
    /// # Errors
    /// A failing read or write.
    pub fn run(&mut self, out: &mut dyn Write) -> io::Result<Stats> {
        let mut stats = Stats::default();
        let mut events = [MaybeUninit::<epoll::Event>::uninit(); 8];
        let mut buf = [0_u8; 4096];
        let mut sigbuf = [0_u8; 8 * SIGINFO_LEN];
        loop {
            let (ready, _) = match epoll::wait(&self.epoll, &mut events, None) {
                Ok(r) => r,
                Err(kernfd::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            };
            let mut stop = false;
            for ev in ready.iter() {
                match ev.data.u64() {
                    INOTIFY => loop {
                        let events = match self.inotify.read(&mut buf) {
                            Ok(events) => events,
                            Err(e) if e.errno() == Some(kernfd::Errno::AGAIN) => break,
                            Err(e) => return Err(e.into()),
                        };
                        for event in events {
                            match event {
                                Ok(e) => writeln!(out, "inotify: {e} {}", e.mask())?,
                                Err(e) => writeln!(out, "inotify: {e}")?,
                            }
                            stats.inotify_events += 1;
                        }
                    },
                    SIGNALFD => loop {
                        let infos = match self.signals.read(&mut sigbuf) {
                            Ok(infos) => infos,
                            Err(e) if e.errno() == Some(kernfd::Errno::AGAIN) => break,
                            Err(e) => return Err(e.into()),
                        };
                        for info in infos {
                            let info = info.map_err(io::Error::other)?;
                            writeln!(out, "signal: {info}")?;
                            match info.signal() {
                                Some(Signal::INT) => stop = true,
                                Some(Signal::TERM) => stats.terms += 1,
                                Some(Signal::HUP) => stats.hups += 1,
                                _ => {}
                            }
                        }
                    },
                    TIMER => match self.timer.read() {
                        Ok(Outcome::Expired(n)) => {
                            stats.ticks += n;
                            writeln!(out, "timer: {n} tick(s), {} in all", stats.ticks)?;
                        }
                        Ok(Outcome::Canceled) => writeln!(out, "timer: canceled")?,
                        Err(e) if e.errno() == Some(kernfd::Errno::AGAIN) => {}
                        Err(e) => return Err(e.into()),
                    },
                    WORKER => match self.worker_fd.read() {
                        Ok(n) => {
                            stats.wakeups += 1;
                            stats.worker_total += n;
                            writeln!(out, "worker: +{n}, {} in all", stats.worker_total)?;
                        }
                        Err(e) if e.errno() == Some(kernfd::Errno::AGAIN) => {}
                        Err(e) => return Err(e.into()),
                    },
                    _ => unreachable!("only four sources are registered"),
                }
            }
            if stop {
                writeln!(out, "SIGINT: bye")?;
                return Ok(stats);
            }
        }
    }

    /// Stops and joins the worker.
    pub fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[allow(dead_code)] // unused where a test includes this file
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os().nth(1).unwrap_or_else(|| ".".into());
    let mut lp = EventLoop::new(
        Path::new(&dir),
        Duration::from_secs(2),
        Duration::from_millis(3100),
    )?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "pid {}: watching {}; try touch, kill -HUP/-TERM {0}, Ctrl-C to stop",
        std::process::id(),
        Path::new(&dir).display()
    )?;
    out.flush()?;
    let stats = lp.run(&mut out)?;
    lp.shutdown();
    writeln!(out, "{stats:?}")?;
    Ok(())
}
