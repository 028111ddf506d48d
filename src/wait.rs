//! Bounded waits for a readable descriptor, and a [`Waker`] that ends them
//! from another thread.
//!
//! Closing a descriptor from one thread while another blocks on it is racy
//! (the number can be reused before the reader notices), so kernfd never
//! relies on it. A [`Waker`] is an eventfd that a waiting reader polls beside
//! its own descriptor; [`Waker::wake`] makes every such wait return.
//!
//! # References
//! [poll(2)](https://man7.org/linux/man-pages/man2/poll.2.html) (`ppoll`),
//! [eventfd(2)](https://man7.org/linux/man-pages/man2/eventfd.2.html)

use core::ops::ControlFlow;
use core::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use rustix::io::Errno;

use crate::Error;
use crate::error::Call;
use crate::eventfd::{EventFd, EventFdFlags};
use crate::fd::Fd;

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
    pub fn new() -> Result<Self, Error> {
        let efd = EventFd::with_flags(0, EventFdFlags::CLOEXEC | EventFdFlags::NONBLOCK)?;
        Ok(Self { efd })
    }

    /// Wakes every reader waiting on this waker, now or later, until
    /// [`reset`](Self::reset). Waking twice is the same as once.
    ///
    /// # Errors
    /// None in practice: the counter cannot saturate from `wake` alone.
    pub fn wake(&self) -> Result<(), Error> {
        // The 1:1 call: the descriptor is non-blocking in the kernel whatever
        // mode `as_eventfd()` was switched to.
        match crate::eventfd::write(&self.efd, 1) {
            Ok(()) | Err(Errno::AGAIN) => Ok(()),
            Err(errno) => Err(Error::Os {
                call: "write",
                errno,
            }),
        }
    }

    /// Clears the woken state; returns whether it was woken.
    ///
    /// # Errors
    /// None in practice.
    pub fn reset(&self) -> Result<bool, Error> {
        // The 1:1 call, so this never blocks: see `wake`.
        match crate::eventfd::read(&self.efd) {
            Ok(_) => Ok(true),
            Err(Errno::AGAIN) => Ok(false),
            Err(errno) => Err(Error::Os {
                call: "read",
                errno,
            }),
        }
    }

    /// Whether it is woken, without clearing it.
    ///
    /// # Errors
    /// None in practice.
    pub fn is_woken(&self) -> Result<bool, Error> {
        let mut fds = [PollFd::new(&self.efd, PollFlags::IN)];
        let n = rustix::event::poll(
            &mut fds,
            Some(&Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            }),
        )
        .call("poll")?;
        Ok(n > 0)
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

impl Wait<'_> {
    /// Whether this is a plain read: no timeout, no waker, no delay.
    fn is_plain(&self) -> bool {
        self.timeout.is_none() && self.waker.is_none() && self.read_delay.is_none()
    }
}

/// A wait in progress: the time left of its timeout, across the repeated
/// polls of a read that lost its records to another reader.
struct Waiting<'a, 'w> {
    fd: BorrowedFd<'a>,
    wait: Wait<'w>,
    deadline: Option<Timespec>,
}

impl<'a, 'w> Waiting<'a, 'w> {
    fn start(fd: BorrowedFd<'a>, wait: &Wait<'w>) -> Self {
        Self {
            fd,
            wait: *wait,
            deadline: wait.timeout.map(|t| add(now(), timespec(t))),
        }
    }

    /// Waits for readiness with what is left of the timeout; `false` when
    /// it ran out or the waker was woken.
    fn ready(&mut self) -> Result<bool, Errno> {
        let mut wait = self.wait;
        if let Some(deadline) = self.deadline {
            wait.timeout = Some(left(now(), deadline));
        }
        Ok(wait_readable(self.fd, &wait)? == Ready::Readable)
    }
}

fn now() -> Timespec {
    rustix::time::clock_gettime(rustix::time::ClockId::Monotonic)
}

fn add(a: Timespec, b: Timespec) -> Timespec {
    let mut t = Timespec {
        tv_sec: a.tv_sec.saturating_add(b.tv_sec),
        tv_nsec: a.tv_nsec + b.tv_nsec,
    };
    if t.tv_nsec >= 1_000_000_000 {
        t.tv_sec = t.tv_sec.saturating_add(1);
        t.tv_nsec -= 1_000_000_000;
    }
    t
}

/// `deadline - now`, or zero once it has passed.
fn left(now: Timespec, deadline: Timespec) -> Duration {
    let ns = |t: Timespec| i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec);
    let d = ns(deadline) - ns(now);
    if d <= 0 {
        Duration::ZERO
    } else {
        let d = u128::try_from(d).unwrap_or(0);
        Duration::new(
            u64::try_from(d / 1_000_000_000).unwrap_or(u64::MAX),
            (d % 1_000_000_000) as u32,
        )
    }
}

/// Waits as `wait` says for the object's descriptor to become readable, then
/// reads into `buf`. `None` when the timeout passed or the waker was woken
/// first. If another reader empties the queue between the wait and the
/// read, it waits again for what is left of the timeout: the descriptor is
/// `O_NONBLOCK` in the kernel, so the read itself never blocks and a bounded
/// wait stays bounded. A plain wait is the object's plain read.
pub(crate) fn read_after_wait<'b>(
    fd: &Fd,
    wait: &Wait<'_>,
    buf: &'b mut [core::mem::MaybeUninit<u8>],
) -> Result<Option<&'b [u8]>, Errno> {
    if wait.is_plain() {
        return fd.read(buf).map(Some);
    }
    let mut waiting = Waiting::start(fd.as_fd(), wait);
    if !waiting.ready()? {
        return Ok(None);
    }
    crate::buffer::read_retry(fd.as_fd(), buf, || waiting.ready())
}

/// [`read_after_wait`] for a fixed-size read (`read` is the 1:1 call on the
/// descriptor, which fails with `EAGAIN` when nothing is there).
pub(crate) fn value_after_wait<T>(
    fd: &Fd,
    wait: &Wait<'_>,
    mut read: impl FnMut() -> Result<T, Errno>,
) -> Result<Option<T>, Errno> {
    if wait.is_plain() {
        return value_mode(fd, PollFlags::IN, read).map(Some);
    }
    let mut waiting = Waiting::start(fd.as_fd(), wait);
    if !waiting.ready()? {
        return Ok(None);
    }
    loop {
        match read() {
            Ok(v) => return Ok(Some(v)),
            Err(Errno::AGAIN) => {
                if !waiting.ready()? {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// A fixed-size read or write in the object's mode: `EAGAIN` when
/// non-blocking, otherwise poll for `ready` and try again until it goes
/// through.
pub(crate) fn value_mode<T>(
    fd: &Fd,
    ready: PollFlags,
    mut io: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    loop {
        match io() {
            Err(Errno::AGAIN) if !fd.is_nonblocking() => {
                rustix::event::poll(&mut [PollFd::new(fd, ready)], None)?;
            }
            other => return other,
        }
    }
}

/// What a `drain` callback returns: `()` (go on), [`ControlFlow`] (stop
/// early with `Break`), `Result<(), E>` or `Result<ControlFlow<()>, E>`
/// (so `?` works inside the callback; an `Err` stops the drain and is
/// returned).
///
/// With `()` or `ControlFlow`, the drain's error type is
/// [`kernfd::Error`](crate::Error); with a `Result`, it is the callback's
/// `E`, which a `kernfd::Error` must convert into.
///
/// Sealed: implemented for those four types only.
pub trait Flow<E>: sealed::Sealed {
    /// `Ok(true)` to go on, `Ok(false)` to stop, `Err` to stop and fail.
    #[doc(hidden)]
    fn flow(self) -> Result<bool, E>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for () {}
    impl Sealed for core::ops::ControlFlow<()> {}
    impl<E> Sealed for Result<(), E> {}
    impl<E> Sealed for Result<core::ops::ControlFlow<()>, E> {}
}

impl Flow<Error> for () {
    #[inline]
    fn flow(self) -> Result<bool, Error> {
        Ok(true)
    }
}

impl Flow<Error> for ControlFlow<()> {
    #[inline]
    fn flow(self) -> Result<bool, Error> {
        Ok(self.is_continue())
    }
}

impl<E> Flow<E> for Result<(), E> {
    #[inline]
    fn flow(self) -> Result<bool, E> {
        self.map(|()| true)
    }
}

impl<E> Flow<E> for Result<ControlFlow<()>, E> {
    #[inline]
    fn flow(self) -> Result<bool, E> {
        self.map(|c| c.is_continue())
    }
}

/// Reads the object's descriptor into `buf` again and again until the
/// kernel has nothing more queued (`EAGAIN`: the descriptor is `O_NONBLOCK`
/// in the kernel, so this never blocks, whatever the object's mode), handing
/// each filled slice to `each`. A read of zero bytes ends it with
/// [`Error::EndOfFile`]: the descriptor is not a record queue. `each`
/// returns whether to go on; an error from it ends the drain too and is
/// returned. What `each` was handed before stays handed over.
#[inline]
pub(crate) fn drain_reads<E: From<Error>>(
    fd: &Fd,
    buf: &mut [core::mem::MaybeUninit<u8>],
    mut each: impl FnMut(&[u8]) -> Result<bool, E>,
) -> Result<(), E> {
    loop {
        match crate::buffer::read_into(fd, &mut *buf) {
            Ok([]) => return Err(Error::EndOfFile { call: "read" }.into()),
            Ok(bytes) => {
                if !each(bytes)? {
                    return Ok(());
                }
            }
            Err(Errno::AGAIN) => return Ok(()),
            Err(errno) => {
                return Err(Error::Os {
                    call: "read",
                    errno,
                }
                .into());
            }
        }
    }
}

/// The owned layer's view of a read: an errno with the call's name, and a
/// zero-byte read as [`Error::EndOfFile`].
#[inline]
pub(crate) fn records(got: Result<&[u8], Errno>) -> Result<&[u8], Error> {
    match got {
        Ok([]) => Err(Error::EndOfFile { call: "read" }),
        Ok(bytes) => Ok(bytes),
        Err(errno) => Err(Error::Os {
            call: "read",
            errno,
        }),
    }
}
