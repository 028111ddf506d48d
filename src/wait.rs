//! Bounded waits for a readable descriptor, and a [`Waker`] that ends them
//! from another thread.
//!
//! Closing a descriptor from one thread while another blocks on it is racy
//! (the number can be reused before the reader notices), so kernfd never
//! relies on it. A [`Waker`] is an eventfd that a waiting reader polls beside
//! its own descriptor; [`Waker::wake`] makes every such wait return.

use core::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use rustix::io::Errno;

use crate::eventfd::{EventFd, EventFdFlags};

/// Wakes readers blocked in a `read_wait` call, from any thread.
///
/// Backed by an [`EventFd`] (close-on-exec, non-blocking). Once woken it stays
/// woken, so every reader waiting on it returns, until [`Waker::reset`].
///
/// # Example
/// ```
/// use kernfd::inotify::Inotify;
/// use kernfd::wait::{Wait, Waker};
///
/// let inotify = Inotify::new()?;
/// let waker = Waker::new()?;
/// let mut buf = [0_u8; 4096];
/// std::thread::scope(|s| {
///     s.spawn(|| waker.wake().unwrap());
///     // Blocks until the other thread wakes it: no timeout, no events.
///     let events = inotify.read_wait(&mut buf, Wait::new().waker(&waker)).unwrap();
///     assert!(events.is_empty());
/// });
/// assert!(waker.reset()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Waker {
    efd: EventFd,
}

impl Waker {
    /// Creates a waker that is not woken.
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE` when out of descriptors, `ENOMEM`.
    pub fn new() -> Result<Self, Errno> {
        let efd = EventFd::with_flags(0, EventFdFlags::CLOEXEC | EventFdFlags::NONBLOCK)?;
        Ok(Self { efd })
    }

    /// Wakes every reader waiting on this waker, now or later, until
    /// [`reset`](Self::reset). Waking twice is the same as once.
    ///
    /// # Errors
    /// None in practice: the counter cannot saturate from `wake` alone.
    pub fn wake(&self) -> Result<(), Errno> {
        match self.efd.write(1) {
            Ok(()) | Err(Errno::AGAIN) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Clears the woken state; returns whether it was woken.
    ///
    /// # Errors
    /// None in practice.
    pub fn reset(&self) -> Result<bool, Errno> {
        match self.efd.read() {
            Ok(_) => Ok(true),
            Err(Errno::AGAIN) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether it is woken, without clearing it.
    ///
    /// # Errors
    /// None in practice.
    pub fn is_woken(&self) -> Result<bool, Errno> {
        let mut fds = [PollFd::new(&self.efd, PollFlags::IN)];
        Ok(rustix::event::poll(
            &mut fds,
            Some(&Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            }),
        )? > 0)
    }

    /// The non-blocking [`EventFd`] behind the waker.
    #[must_use]
    pub fn as_eventfd(&self) -> &EventFd {
        &self.efd
    }
}

impl From<Waker> for EventFd {
    fn from(w: Waker) -> Self {
        w.efd
    }
}

impl AsFd for Waker {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.efd.as_fd()
    }
}

impl AsRawFd for Waker {
    fn as_raw_fd(&self) -> RawFd {
        self.efd.as_raw_fd()
    }
}

/// How long a `read_wait` may block: inotify_simple's `timeout` and
/// `read_delay`, plus a [`Waker`].
///
/// The default waits forever with no delay and no waker, which is a plain
/// blocking read.
#[derive(Clone, Copy, Debug, Default)]
#[must_use]
pub struct Wait<'w> {
    pub(crate) timeout: Option<Duration>,
    pub(crate) read_delay: Option<Duration>,
    pub(crate) waker: Option<&'w Waker>,
}

impl<'w> Wait<'w> {
    /// Wait forever, no delay, no waker.
    pub const fn new() -> Self {
        Self {
            timeout: None,
            read_delay: None,
            waker: None,
        }
    }

    /// Give up after `timeout` if nothing became readable (then the read
    /// returns no records). `Duration::ZERO` only checks.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Once the first record is ready, wait `delay` more before reading, so
    /// that a burst is read in one go.
    pub const fn read_delay(mut self, delay: Duration) -> Self {
        self.read_delay = Some(delay);
        self
    }

    /// Also return (with no records) when `waker` is woken, during the wait
    /// or the read delay.
    pub const fn waker(mut self, waker: &'w Waker) -> Self {
        self.waker = Some(waker);
        self
    }
}

/// What a wait ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ready {
    /// The descriptor is readable (after any read delay).
    Readable,
    /// The timeout passed, or the waker was woken, first.
    Nothing,
}

fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}

/// Waits as `wait` says for `fd` to become readable.
///
/// `EINTR` from `ppoll` is returned to the caller, never retried.
pub(crate) fn wait_readable(fd: BorrowedFd<'_>, wait: &Wait<'_>) -> Result<Ready, Errno> {
    if wait.timeout.is_none() && wait.waker.is_none() && wait.read_delay.is_none() {
        // A plain blocking read needs no poll.
        return Ok(Ready::Readable);
    }
    let timeout = wait.timeout.map(timespec);
    let ready = if let Some(w) = wait.waker {
        let mut fds = [
            PollFd::new(&fd, PollFlags::IN),
            PollFd::new(w, PollFlags::IN),
        ];
        rustix::event::poll(&mut fds, timeout.as_ref())?;
        if !fds[1].revents().is_empty() {
            return Ok(Ready::Nothing);
        }
        !fds[0].revents().is_empty()
    } else {
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        rustix::event::poll(&mut fds, timeout.as_ref())? > 0
    };
    if !ready {
        return Ok(Ready::Nothing);
    }
    if let Some(delay) = wait.read_delay {
        let delay = timespec(delay);
        match wait.waker {
            // The delay ends early if the waker fires; what is queued is read.
            Some(w) => {
                let mut fds = [PollFd::new(w, PollFlags::IN)];
                rustix::event::poll(&mut fds, Some(&delay))?;
            }
            None => match rustix::thread::nanosleep(&delay) {
                rustix::thread::NanosleepRelativeResult::Ok => {}
                rustix::thread::NanosleepRelativeResult::Interrupted(_) => return Err(Errno::INTR),
                rustix::thread::NanosleepRelativeResult::Err(e) => return Err(e),
            },
        }
    }
    Ok(Ready::Readable)
}

/// Waits as `wait` says for `fd` to become readable, then reads once with
/// `read`. `None` when the timeout passed or the waker was woken first, and
/// also when the read finds nothing (`EAGAIN`) although the descriptor was
/// readable a moment ago (another reader took it) and the caller asked for a
/// bounded wait; a plain blocking wait returns that `EAGAIN` as is.
#[inline]
pub(crate) fn read_after_wait<T>(
    fd: BorrowedFd<'_>,
    wait: &Wait<'_>,
    read: impl FnOnce() -> Result<T, Errno>,
) -> Result<Option<T>, Errno> {
    if wait_readable(fd, wait)? == Ready::Nothing {
        return Ok(None);
    }
    match read() {
        Ok(v) => Ok(Some(v)),
        Err(Errno::AGAIN) if wait.timeout.is_some() || wait.waker.is_some() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads `fd` into `buf` again and again until the kernel has nothing more
/// queued, handing each filled slice to `each`: `EAGAIN` ends it on a
/// non-blocking descriptor, a zero-timeout poll on a blocking one (so it
/// never blocks). Errors other than `EAGAIN` are returned; what `each` was
/// handed before stays handed over.
#[inline]
pub(crate) fn drain_reads(
    fd: BorrowedFd<'_>,
    buf: &mut [core::mem::MaybeUninit<u8>],
    mut each: impl FnMut(&[u8]),
) -> Result<(), Errno> {
    let nonblocking = rustix::fs::fcntl_getfl(fd)?.contains(rustix::fs::OFlags::NONBLOCK);
    let now = Wait::new().timeout(Duration::ZERO);
    loop {
        if !nonblocking && wait_readable(fd, &now)? == Ready::Nothing {
            return Ok(());
        }
        match crate::buffer::read_into(fd, &mut *buf) {
            Ok(bytes) => each(bytes),
            Err(Errno::AGAIN) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
