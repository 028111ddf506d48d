//! The safe submission path: [`Scope`], [`Op`], [`InFlight`],
//! [`Completion`].

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::Ordering;
use core::time::Duration;

use rustix::fd::AsFd;
use rustix::io::Errno;

use super::event::result_of;
use super::{
    Context, Events, IoEvent, IoSlice, IoSliceMut, Iocb, RwFlags, event_bytes, io_destroy,
    io_getevents, io_pgetevents, io_submit, parse,
};
use crate::error::{Call, Error, Result};
use crate::signal::SigSet;

/// Bit 63 of `aio_data` marks a request of a [`Scope`].
const TAG: u64 = 1 << 63;

/// A request for the safe path: an [`Iocb`] together with the reference
/// to the memory it points to (`B`), so that the two cannot part.
///
/// `B` is `&mut [u8]` (reads), `&[u8]` or `&mut [u8]` (writes), a slice of
/// [`IoSliceMut`] or [`IoSlice`] (vectored I/O), or `()` (fsync, fdsync,
/// poll).
pub struct Op<B> {
    iocb: Iocb,
    buf: B,
}

impl<B> fmt::Debug for Op<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Op")
            .field("iocb", &self.iocb)
            .finish_non_exhaustive()
    }
}

impl<'b> Op<&'b mut [u8]> {
    /// `PREAD`: reads into `buf` at `offset` (up to `buf.len()` bytes).
    pub fn read(fd: impl AsFd, buf: &'b mut [u8], offset: u64) -> Self {
        let iocb = Iocb::pread(fd, buf.as_mut_ptr(), buf.len(), offset);
        Self { iocb, buf }
    }

    /// `PWRITE` from a buffer held mutably, so that it comes back mutable
    /// for the next read (a copy loop reuses its buffers this way).
    pub fn write_mut(fd: impl AsFd, buf: &'b mut [u8], offset: u64) -> Self {
        let iocb = Iocb::pwrite(fd, buf.as_ptr(), buf.len(), offset);
        Self { iocb, buf }
    }
}

impl<'b> Op<&'b [u8]> {
    /// `PWRITE`: writes `buf` at `offset`.
    pub fn write(fd: impl AsFd, buf: &'b [u8], offset: u64) -> Self {
        let iocb = Iocb::pwrite(fd, buf.as_ptr(), buf.len(), offset);
        Self { iocb, buf }
    }
}

impl<'b, 'i> Op<&'b mut [IoSliceMut<'i>]> {
    /// `PREADV`: scatters a read at `offset` into the buffers of `iov`.
    pub fn readv(fd: impl AsFd, iov: &'b mut [IoSliceMut<'i>], offset: u64) -> Self {
        let iocb = Iocb::preadv(fd, iov, offset);
        Self { iocb, buf: iov }
    }
}

impl<'b, 'i> Op<&'b [IoSlice<'i>]> {
    /// `PWRITEV`: gathers a write at `offset` from the buffers of `iov`.
    pub fn writev(fd: impl AsFd, iov: &'b [IoSlice<'i>], offset: u64) -> Self {
        let iocb = Iocb::pwritev(fd, iov, offset);
        Self { iocb, buf: iov }
    }
}

impl Op<()> {
    /// `FSYNC`.
    pub fn fsync(fd: impl AsFd) -> Self {
        Self {
            iocb: Iocb::fsync(fd),
            buf: (),
        }
    }

    /// `FDSYNC`.
    pub fn fdsync(fd: impl AsFd) -> Self {
        Self {
            iocb: Iocb::fdsync(fd),
            buf: (),
        }
    }

    /// `POLL` for `events`; the result is the ready mask
    /// ([`Iocb::poll_mask`]).
    pub fn poll(fd: impl AsFd, events: rustix::event::PollFlags) -> Self {
        Self {
            iocb: Iocb::poll(fd, events),
            buf: (),
        }
    }
}

impl<B> Op<B> {
    /// See [`Iocb::with_priority`].
    #[must_use]
    pub fn priority(mut self, prio: u16) -> Self {
        self.iocb = self.iocb.with_priority(prio);
        self
    }

    /// See [`Iocb::with_rw_flags`].
    #[must_use]
    pub fn rw_flags(mut self, flags: RwFlags) -> Self {
        self.iocb = self.iocb.with_rw_flags(flags);
        self
    }

    /// See [`Iocb::with_eventfd`]: `kernfd`'s
    /// [`EventFd`](crate::eventfd::EventFd) (or any descriptor, which the
    /// kernel checks).
    #[must_use]
    pub fn eventfd(mut self, eventfd: impl AsFd) -> Self {
        self.iocb = self.iocb.with_eventfd(eventfd);
        self
    }

    /// Transfers at most `len` bytes (for `PREAD`/`PWRITE`: a prefix of the
    /// buffer; the whole buffer still comes back).
    #[must_use]
    pub fn len(mut self, len: usize) -> Self {
        if matches!(self.iocb.opcode(), 0 | 1) {
            self.iocb = self.iocb.truncated(len as u64);
        }
        self
    }

    /// The request as it will be submitted (`aio_data` is set by the
    /// scope).
    #[must_use]
    pub fn iocb(&self) -> &Iocb {
        &self.iocb
    }
}

/// A refused submission: the error and the request, buffer included.
#[derive(Debug)]
pub struct Rejected<B> {
    /// Why the kernel refused it (`Error::Os` from `io_submit`).
    pub error: Error,
    /// The request, for a retry or to take the buffer back
    /// ([`Op::into_buf`]).
    pub op: Op<B>,
}

impl<B> Op<B> {
    /// The buffer reference, given back.
    pub fn into_buf(self) -> B {
        self.buf
    }
}

impl<B> From<Rejected<B>> for Error {
    fn from(r: Rejected<B>) -> Self {
        r.error
    }
}

impl<B> fmt::Display for Rejected<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

/// A submitted request of a [`Scope`]: holds the reference to its buffer,
/// without lending it, until [`finish`](Self::finish) with its completion.
#[must_use = "the buffer comes back only through `finish`"]
pub struct InFlight<'scope, B> {
    buf: B,
    id: u64,
    _scope: PhantomData<&'scope mut &'scope ()>,
}

impl<B> fmt::Debug for InFlight<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InFlight")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<'scope, B> InFlight<'scope, B> {
    /// The request's id, the `aio_data` its completion carries
    /// ([`Completion::id`]).
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Gives the buffer back with the result (bytes transferred, poll mask,
    /// or the errno the request failed with), if `c` is this request's
    /// completion; otherwise gives `self` back unchanged.
    ///
    /// # Errors
    /// `Err(self)` when `c` belongs to another request.
    pub fn finish(
        self,
        c: &Completion<'scope>,
    ) -> core::result::Result<(B, core::result::Result<u64, Errno>), Self> {
        if c.data == self.id {
            Ok((self.buf, result_of(c.res)))
        } else {
            Err(self)
        }
    }
}

/// A completion reaped in a [`Scope`], branded with it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Completion<'scope> {
    data: u64,
    obj: u64,
    res: i64,
    res2: i64,
    _scope: PhantomData<&'scope mut &'scope ()>,
}

impl Completion<'_> {
    /// The `aio_data`: the id of the request ([`InFlight::id`]), or the
    /// caller's data for a request submitted through the raw path before
    /// the scope opened.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.data
    }

    /// The result: bytes transferred, the poll mask, 0 for fsync.
    ///
    /// # Errors
    /// The errno the request failed with.
    pub fn result(&self) -> core::result::Result<u64, Errno> {
        result_of(self.res)
    }

    /// The raw `res`.
    #[must_use]
    pub fn res(&self) -> i64 {
        self.res
    }

    /// The raw `res2`.
    #[must_use]
    pub fn res2(&self) -> i64 {
        self.res2
    }

    /// The `obj`: the address the `iocb` was submitted from.
    #[must_use]
    pub fn obj(&self) -> u64 {
        self.obj
    }
}

impl fmt::Debug for Completion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("id", &self.data)
            .field("res", &self.res)
            .finish_non_exhaustive()
    }
}

/// The completions of one [`Scope::getevents`]: an iterator of
/// [`Completion`]s over the filled part of the caller's array.
#[derive(Debug)]
#[must_use = "completions hand buffers back; iterate them"]
pub struct Completions<'b, 'scope> {
    events: Events<'b>,
    _scope: PhantomData<&'scope mut &'scope ()>,
}

impl<'scope> Iterator for Completions<'_, 'scope> {
    type Item = Completion<'scope>;

    fn next(&mut self) -> Option<Completion<'scope>> {
        // The kernel fills whole records, so the parser yields no error.
        let e = self.events.find_map(core::result::Result::ok)?;
        Some(Completion {
            data: e.data(),
            obj: e.obj(),
            res: e.res(),
            res2: e.res2(),
            _scope: PhantomData,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.events.size_hint()
    }
}

impl ExactSizeIterator for Completions<'_, '_> {}
impl core::iter::FusedIterator for Completions<'_, '_> {}

/// An open submission scope of a [`Context`] ([`Context::scope`]), in
/// which each request holds the reference to its buffer until its own
/// completion hands it back.
///
///
/// Why it is sound, in three facts:
/// 1. [`Op`] constructors take the buffers as references, and
///    [`Scope::submit`] requires them to outlive `'scope`; the reference is
///    moved into the [`InFlight`] handle, which never lends it out. So the
///    borrow checker rejects any use, move or drop of the buffer from the
///    submission until the end of the scope, except through the reference
///    that [`InFlight::finish`] returns.
/// 2. `finish` returns it only for a [`Completion`] of this very request:
///    completions are branded with the invariant `'scope` lifetime and
///    carry a per-scope id (bit 63 set) that no other request of the scope
///    shares, and the kernel posts exactly one completion per request.
/// 3. [`Context::scope`] does not return, normally or by unwinding, until
///    every request submitted in the scope has completed: it counts them
///    and drains the ring before `'scope` ends. The caller never holds a
///    guard, so there is nothing to leak with `mem::forget`; forgetting an
///    `InFlight` only keeps its buffer borrowed to the end of the scope.
///
/// The following fail to compile.
///
/// Using a buffer while the kernel may write to it:
/// ```compile_fail,E0506
/// # use kernfd::aio::{Context, Op};
/// # let file = tempfile::tempfile().unwrap();
/// let mut ctx = Context::new(4).unwrap();
/// let mut buf = [0_u8; 4096];
/// ctx.scope(|s| {
///     let op = s.submit(Op::read(&file, &mut buf, 0)).unwrap();
///     buf[0] = 1; // error: `buf` is still borrowed by the request
///     drop(op);
/// });
/// ```
///
/// Reading it before the completion, even after dropping the handle:
/// ```compile_fail,E0502
/// # use kernfd::aio::{Context, Op};
/// # let file = tempfile::tempfile().unwrap();
/// let mut ctx = Context::new(4).unwrap();
/// let mut buf = [0_u8; 4096];
/// ctx.scope(|s| {
///     let op = s.submit(Op::read(&file, &mut buf, 0)).unwrap();
///     drop(op);
///     println!("{}", buf[0]); // error: borrowed until the scope ends
/// });
/// ```
///
/// Submitting a buffer that does not outlive the scope:
/// ```compile_fail,E0597
/// # use kernfd::aio::{Context, Op};
/// # let file = tempfile::tempfile().unwrap();
/// let mut ctx = Context::new(4).unwrap();
/// ctx.scope(|s| {
///     let mut buf = [0_u8; 4096];
///     s.submit(Op::read(&file, &mut buf, 0)).unwrap(); // error: `buf` dropped while borrowed
/// });
/// ```
///
/// Moving (or dropping) the buffer's owner while in flight:
/// ```compile_fail,E0505
/// # use kernfd::aio::{Context, Op};
/// # let file = tempfile::tempfile().unwrap();
/// let mut ctx = Context::new(4).unwrap();
/// let mut buf = vec![0_u8; 4096];
/// ctx.scope(|s| {
///     let _op = s.submit(Op::read(&file, &mut buf, 0)).unwrap();
///     drop(buf); // error: cannot move out of `buf` while borrowed
/// });
/// ```
///
/// Reaping through the context while a scope is open (it would steal the
/// scope's completions):
/// ```compile_fail,E0502
/// # use kernfd::aio::{Context, IoEvent, Op};
/// # let file = tempfile::tempfile().unwrap();
/// let mut ctx = Context::new(4).unwrap();
/// let mut ev = [IoEvent::ZERO; 4];
/// ctx.scope(|s| {
///     let _ = ctx.getevents(1, &mut ev, None); // error: `ctx` is mutably borrowed
/// });
/// ```
///
/// Finishing a request with a completion of another scope:
/// ```compile_fail,E0521
/// # use kernfd::aio::{Context, IoEvent, Op};
/// # let file = tempfile::tempfile().unwrap();
/// let (mut a, mut b) = (Context::new(4).unwrap(), Context::new(4).unwrap());
/// let mut buf = [0_u8; 16];
/// let mut ev = [IoEvent::ZERO; 4];
/// a.scope(|sa| {
///     let op = sa.submit(Op::read(&file, &mut buf, 0)).unwrap();
///     b.scope(|sb| {
///         let c = sb.getevents(0, &mut ev, None).unwrap().next().unwrap();
///         let _ = op.finish(&c); // error: lifetime mismatch between the scopes
///     });
/// });
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    ctx: &'env Context,
    /// The next request number; ids are `TAG | number`.
    next: Cell<u64>,
    /// Requests submitted and not yet reaped.
    inflight: Cell<usize>,
    _brand: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("ctx", &self.ctx.as_raw())
            .field("in_flight", &self.inflight.get())
            .finish_non_exhaustive()
    }
}

impl Context {
    /// Opens a scope for safe submission: runs `f` with a [`Scope`], then
    /// waits for every request submitted in it to complete before
    /// returning (also when `f` panics).
    ///
    /// Buffers given to [`Scope::submit`] must outlive the scope and stay
    /// borrowed by their request until [`InFlight::finish`] gives them
    /// back (or to the end of the scope); the borrow checker enforces it
    /// (see the module's compile-fail examples). Completions left in the
    /// ring when `f` returns are reaped and discarded. Completions of
    /// requests submitted through the raw path earlier may show up in the
    /// scope's [`getevents`](Scope::getevents) (with their own data) and
    /// are discarded when the scope drains.
    ///
    /// Two ways to make the scope wait long: a `POLL` request left in flight
    /// keeps it open until its descriptor becomes ready, and completions
    /// reaped behind its back through the raw id
    /// (`io_getevents(ctx.as_raw(), ..)` in another
    /// thread) are never counted, so it waits for them forever. Either is a
    /// hang, never a buffer freed under the kernel.
    ///
    /// No allocation: the scope's state is two counters on the stack.
    pub fn scope<'env, F, T>(&'env mut self, f: F) -> T
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
    {
        let scope = Scope {
            ctx: self,
            next: Cell::new(0),
            inflight: Cell::new(0),
            _brand: PhantomData,
            _env: PhantomData,
        };
        let drain = Drain(&scope);
        let out = f(&scope);
        drop(drain);
        out
    }
}

/// Drains the scope on drop, so unwinding waits too.
struct Drain<'a, 'scope, 'env>(&'a Scope<'scope, 'env>);

impl Drop for Drain<'_, '_, '_> {
    fn drop(&mut self) {
        self.0.drain();
    }
}

impl<'scope> Scope<'scope, '_> {
    /// `io_submit` of one request: on success the buffer reference moves
    /// into the returned [`InFlight`] until its completion gives it back.
    ///
    /// Buffered (non-`O_DIRECT`) I/O on most filesystems completes inside
    /// this call (see the module docs).
    ///
    /// # Errors
    /// [`Rejected`] with `Error::Os { call: "io_submit", .. }` (the errnos
    /// of [`io_submit`](super::io_submit)) and the request, buffer
    /// included. An error found while running the request (a misaligned
    /// `O_DIRECT` transfer, end of device) comes in its completion instead.
    pub fn submit<B: 'scope>(
        &self,
        op: Op<B>,
    ) -> core::result::Result<InFlight<'scope, B>, Rejected<B>> {
        let n = self.next.get();
        let id = TAG | n;
        let iocb = op.iocb.with_data(id);
        // SAFETY: the buffers `iocb` points to are those `op.buf` refers to
        // (the `Op` constructors pair them), borrowed for `'scope`; the
        // reference moves into the `InFlight`, which never lends it out, and
        // comes back only with this request's completion. `Context::scope`
        // waits for every submitted request before `'scope` ends. `iov`
        // arrays are part of `op.buf`. The id has bit 63 set and is unique in
        // the scope.
        match unsafe { io_submit(self.ctx.as_raw(), &[&iocb]) } {
            Ok(1) => {
                self.next.set(n + 1);
                self.inflight.set(self.inflight.get() + 1);
                Ok(InFlight {
                    buf: op.buf,
                    id,
                    _scope: PhantomData,
                })
            }
            Ok(_) => Err(Rejected {
                error: Error::os("io_submit", Errno::AGAIN),
                op,
            }),
            Err(errno) => Err(Rejected {
                error: Error::os("io_submit", errno),
                op,
            }),
        }
    }

    /// `io_submit` of a batch from caller storage, with no allocation: the
    /// `Some` requests of `ops` go in, in order, as few `io_submit` calls as
    /// the kernel allows (up to 32 requests per call). Each request that
    /// goes in is taken out of `ops[i]` and its handle stored in
    /// `handles[i]` (the same index, overwriting what was there); returns
    /// how many went in.
    ///
    /// # Errors
    /// A [`Partial`](super::Partial) saying how many went in and the error
    /// of the first refused (`Error::Os { call: "io_submit", .. }`): that
    /// request and the ones after it stay in `ops`, untouched.
    /// [`Error::BufferTooSmall`] (nothing submitted) when `handles` is
    /// shorter than `ops`.
    ///
    /// # Example
    /// ```
    /// use std::io::Write;
    /// use kernfd::aio::{Context, IoEvent, Op};
    ///
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"abcdef")?;
    /// let mut ctx = Context::new(4)?;
    /// let (mut a, mut b) = ([0_u8; 3], [0_u8; 3]);
    /// let mut events = [IoEvent::ZERO; 4];
    /// ctx.scope(|s| -> kernfd::Result<()> {
    ///     let mut ops = [Some(Op::read(&file, &mut a, 0)), Some(Op::read(&file, &mut b, 3))];
    ///     let mut handles = [None, None];
    ///     assert_eq!(s.submit_batch(&mut ops, &mut handles)?, 2);
    ///     let mut got = 0;
    ///     while got < 2 {
    ///         got += s.getevents(1, &mut events, None)?.len();
    ///     }
    ///     Ok(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn submit_batch<B: 'scope>(
        &self,
        ops: &mut [Option<Op<B>>],
        handles: &mut [Option<InFlight<'scope, B>>],
    ) -> core::result::Result<usize, super::Partial> {
        const CHUNK: usize = 32;
        if handles.len() < ops.len() {
            return Err(super::Partial {
                submitted: 0,
                error: Error::BufferTooSmall {
                    len: handles.len(),
                    needed: ops.len(),
                },
            });
        }
        let mut submitted = 0;
        let mut at = 0;
        while at < ops.len() {
            // The next up to CHUNK requests, copied with their ids: the
            // kernel reads the iocbs only during io_submit.
            let mut index = [0_usize; CHUNK];
            let mut iocbs: [Iocb; CHUNK] =
                core::array::from_fn(|_| Iocb(super::abi::iocb::default()));
            let mut n = 0;
            while at < ops.len() && n < CHUNK {
                if let Some(op) = &ops[at] {
                    index[n] = at;
                    iocbs[n] = op.iocb.with_data(TAG | (self.next.get() + n as u64));
                    n += 1;
                }
                at += 1;
            }
            let ptrs: [&Iocb; CHUNK] = core::array::from_fn(|k| &iocbs[k]);
            let mut done = 0;
            while done < n {
                // SAFETY: as in `submit`: each iocb points to the buffers of
                // the `Op` it was copied from, whose reference moves into the
                // `InFlight` below as soon as the kernel has taken it.
                let r = unsafe { io_submit(self.ctx.as_raw(), &ptrs[done..n]) };
                let k = match r {
                    Ok(k) if k > 0 => k,
                    Ok(_) | Err(_) => {
                        let errno = r.err().unwrap_or(Errno::AGAIN);
                        return Err(super::Partial {
                            submitted,
                            error: Error::os("io_submit", errno),
                        });
                    }
                };
                for m in done..done + k {
                    let i = index[m];
                    // Always `Some`: gathered above, and `ops` is ours.
                    if let Some(op) = ops[i].take() {
                        handles[i] = Some(InFlight {
                            buf: op.buf,
                            id: iocbs[m].data(),
                            _scope: PhantomData,
                        });
                    }
                }
                self.next.set(self.next.get() + k as u64);
                self.inflight.set(self.inflight.get() + k);
                submitted += k;
                done += k;
            }
        }
        Ok(submitted)
    }

    /// How many requests of this scope have not been reaped yet.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.inflight.get()
    }

    /// `io_getevents` in the scope: waits for at least `min_nr`
    /// completions or the timeout, reads up to `events.len()` into
    /// `events`, and yields them as [`Completion`]s. No allocation.
    ///
    /// # Errors
    /// `Os` with `io_getevents` (`EINTR`; `EINVAL` for `min_nr >
    /// events.len()`).
    pub fn getevents<'b>(
        &self,
        min_nr: usize,
        events: &'b mut [IoEvent],
        timeout: Option<Duration>,
    ) -> Result<Completions<'b, 'scope>> {
        let n = io_getevents(self.ctx.as_raw(), min_nr, events, timeout).call("io_getevents")?;
        Ok(self.account(&events[..n]))
    }

    /// `io_pgetevents` in the scope: as [`getevents`](Self::getevents) with
    /// the thread's signal mask set to `mask` while waiting.
    ///
    /// # Errors
    /// `Os` with `io_pgetevents` (`EINTR` when a signal `mask` leaves
    /// unblocked arrives).
    pub fn pgetevents<'b>(
        &self,
        min_nr: usize,
        events: &'b mut [IoEvent],
        timeout: Option<Duration>,
        mask: &SigSet,
    ) -> Result<Completions<'b, 'scope>> {
        let n = io_pgetevents(self.ctx.as_raw(), min_nr, events, timeout, Some(mask))
            .call("io_pgetevents")?;
        Ok(self.account(&events[..n]))
    }

    /// Counts the scope's completions among `events` and wraps them.
    fn account<'b>(&self, events: &'b [IoEvent]) -> Completions<'b, 'scope> {
        let mine = events.iter().filter(|e| self.is_mine(e.0.data)).count();
        self.inflight.set(self.inflight.get().saturating_sub(mine));
        Completions {
            events: parse(event_bytes(events)),
            _scope: PhantomData,
        }
    }

    fn is_mine(&self, data: u64) -> bool {
        data & TAG != 0 && (data & !TAG) < self.next.get()
    }

    /// Waits until every request of the scope has completed.
    fn drain(&self) {
        let mut events = [IoEvent::ZERO; 16];
        while self.inflight.get() > 0 {
            match io_getevents(self.ctx.as_raw(), 1, &mut events, None) {
                Ok(n) => {
                    let _ = self.account(&events[..n]);
                }
                Err(Errno::INTR) => {}
                Err(_) => {
                    // Only a broken `unsafe` contract gets here (the context
                    // destroyed under the scope). io_destroy waits for every
                    // request still in flight, so no buffer is written after
                    // the scope ends.
                    let id = self.ctx.id.swap(0, Ordering::Relaxed);
                    if id != 0 {
                        // SAFETY: the scope ends here and the context is marked
                        // destroyed, so its drop does not destroy the id again.
                        let _ = unsafe { io_destroy(id) };
                    }
                    self.inflight.set(0);
                }
            }
        }
    }
}
