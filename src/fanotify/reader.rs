//! Butter's event-object reader for fanotify: one event at a time, reading
//! from the kernel only when the buffered ones are used up.

use core::mem::MaybeUninit;

use super::{EventError, Fanotify, MIN_BUFFER_LEN, OwnedEvent, OwnedEvents, parse};
use crate::buffer::{Buffer, uninit};
use crate::error::{Error, Result};
use crate::reader::{Core, plain, waited};
use crate::wait::Wait;

/// Reads a [`Fanotify`] group one event at a time into a buffer it borrows:
/// Butter's `read_event` and `read_events`. It owns nothing and allocates
/// nothing.
///
/// Each event takes ownership of its fd and pidfd when it is handed out;
/// the events still buffered when the reader drops are adopted then, their
/// descriptors closed and their permission events answered with the group's
/// default response, as when an [`OwnedEvents`] is dropped.
///
/// # Example
/// ```no_run
/// use kernfd::fanotify::{EventFlags, Fanotify, InitFlags, MarkType, Reader};
///
/// let fan = Fanotify::new(InitFlags::REPORT_DFID_NAME)?;
/// fan.add(MarkType::Inode, EventFlags::CREATE, "/tmp")?;
/// let mut buf = [0_u8; kernfd::fanotify::DEFAULT_BUFFER_LEN];
/// let mut reader = Reader::new(&fan, &mut buf)?;
/// loop {
///     let event = reader.read_event()??;
///     println!("{event}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Reader<'a> {
    fan: &'a Fanotify,
    core: Core<'a>,
}

/// One event off the front of `bytes`, read from `fan`, and the bytes it
/// took.
///
/// # Safety
/// `bytes` are from a read of `fan` and were not handed out before.
unsafe fn one<'b>(
    fan: &'b Fanotify,
    bytes: &'b [u8],
) -> (
    Option<core::result::Result<OwnedEvent<'b>, EventError>>,
    usize,
) {
    // SAFETY: forwarded: these records' descriptors are this process's and
    // nobody else's, and only the first is adopted here.
    let mut events = unsafe { OwnedEvents::adopt(parse(bytes), fan.group()) };
    let item = events.next();
    let used = events.offset();
    events.disarm();
    (item, used)
}

impl<'a> Reader<'a> {
    /// A reader of `fan` into `buf`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than
    /// [`MIN_BUFFER_LEN`].
    pub fn new<B: Buffer + ?Sized>(fan: &'a Fanotify, buf: &'a mut B) -> Result<Self> {
        let buf: &'a mut [MaybeUninit<u8>] = uninit(buf);
        if buf.len() < MIN_BUFFER_LEN {
            return Err(Error::BufferTooSmall {
                len: buf.len(),
                needed: MIN_BUFFER_LEN,
            });
        }
        Ok(Self {
            fan,
            core: Core::new(buf),
        })
    }

    /// The next event: a buffered one, or the first of a fresh read (which
    /// waits unless the group is non-blocking). The inner `Result` is the
    /// event or what the parser found instead (a queue overflow, or a
    /// malformed record, after which the rest of that read is dropped).
    ///
    /// # Errors
    /// As [`Fanotify::read`].
    pub fn read_event(&mut self) -> Result<core::result::Result<OwnedEvent<'_>, EventError>> {
        let fan = self.fan;
        // SAFETY: the core hands each buffered byte out once, from a read of
        // `fan`.
        let item = self.core.next(plain(&fan.fd), |b| unsafe { one(fan, b) })?;
        item.flatten().ok_or(Error::EndOfFile { call: "read" })
    }

    /// [`read_event`](Self::read_event) with a bounded wait: `None` when
    /// nothing was buffered and the wait ended first.
    ///
    /// # Errors
    /// As [`Fanotify::read_wait`].
    pub fn read_event_wait(
        &mut self,
        wait: Wait<'_>,
    ) -> Result<Option<core::result::Result<OwnedEvent<'_>, EventError>>> {
        let fan = self.fan;
        // SAFETY: as in `read_event`.
        let item = self
            .core
            .next(waited(&fan.fd, wait), |b| unsafe { one(fan, b) })?;
        Ok(item.flatten())
    }

    /// Every buffered event, or (when none is left) those of a fresh read.
    ///
    /// # Errors
    /// As [`Fanotify::read`].
    pub fn read_events(&mut self) -> Result<OwnedEvents<'_>> {
        let fan = self.fan;
        // SAFETY: as in `read_event`; the iterator adopts what it yields and,
        // when dropped, the rest.
        let events = self.core.rest(plain(&fan.fd), |b| unsafe {
            OwnedEvents::adopt(parse(b), fan.group())
        })?;
        Ok(events.unwrap_or(OwnedEvents::EMPTY))
    }

    /// Bytes read from the kernel and not handed out yet.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.core.buffered()
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let fan = self.fan;
        self.core.take(|b| {
            // SAFETY: the bytes not handed out yet, from a read of `fan`:
            // adopt them so their descriptors close and their permission
            // events are answered.
            let rest = unsafe { OwnedEvents::adopt(parse(b), fan.group()) };
            drop(rest);
            ((), b.len())
        });
    }
}
