//! Butter's event-object reader for inotify: one event at a time, reading
//! from the kernel only when the buffered ones are used up.

use core::mem::MaybeUninit;

use super::{Event, EventError, Events, Inotify, MIN_BUFFER_LEN, parse};
use crate::buffer::{Buffer, uninit};
use crate::error::{Error, Result};
use crate::reader::{Core, plain, waited};
use crate::wait::Wait;

/// Reads an [`Inotify`] instance one event at a time into a buffer it
/// borrows: Butter's `read_event` and `read_events`. It owns nothing and
/// allocates nothing; the events it hands out borrow the buffer until the
/// next call.
///
/// # Example
/// ```
/// use kernfd::inotify::{EventFlags, Inotify, Reader, WatchFlags};
///
/// let dir = tempfile::tempdir()?;
/// let inotify = Inotify::new()?;
/// inotify.add_watch(dir.path(), WatchFlags::CREATE)?;
/// std::fs::File::create(dir.path().join("a"))?;
/// std::fs::File::create(dir.path().join("b"))?;
///
/// let mut buf = [0_u8; 4096];
/// let mut reader = Reader::new(&inotify, &mut buf)?;
/// let first = reader.read_event()??; // one read takes both from the kernel
/// assert_eq!(first.name_bytes(), b"a");
/// assert!(reader.buffered() > 0);
/// let second = reader.read_event()??; // no syscall: it was buffered
/// assert_eq!((second.name_bytes(), second.mask()), (&b"b"[..], EventFlags::CREATE));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Reader<'a> {
    inotify: &'a Inotify,
    core: Core<'a>,
}

/// One event off the front of `bytes`, and the bytes it took.
fn one(bytes: &[u8]) -> (Option<core::result::Result<Event<'_>, EventError>>, usize) {
    let mut events = parse(bytes);
    let item = events.next();
    (item, events.offset())
}

impl<'a> Reader<'a> {
    /// A reader of `inotify` into `buf`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than
    /// [`MIN_BUFFER_LEN`].
    pub fn new<B: Buffer + ?Sized>(inotify: &'a Inotify, buf: &'a mut B) -> Result<Self> {
        let buf: &'a mut [MaybeUninit<u8>] = uninit(buf);
        if buf.len() < MIN_BUFFER_LEN {
            return Err(Error::BufferTooSmall {
                len: buf.len(),
                needed: MIN_BUFFER_LEN,
            });
        }
        Ok(Self {
            inotify,
            core: Core::new(buf),
        })
    }

    /// The next event: a buffered one, or the first of a fresh read (which
    /// waits unless the instance is non-blocking).
    ///
    /// The inner `Result` is the event or what the parser found instead:
    /// a queue overflow, or a malformed record (the rest of that read is
    /// then dropped).
    ///
    /// # Errors
    /// As [`Inotify::read`].
    pub fn read_event(&mut self) -> Result<core::result::Result<Event<'_>, EventError>> {
        let item = self.core.next(plain(&self.inotify.fd), one)?;
        item.flatten().ok_or(Error::EndOfFile { call: "read" })
    }

    /// [`read_event`](Self::read_event) with a bounded wait: `None` when
    /// nothing was buffered and the wait ended first (timeout or waker).
    ///
    /// # Errors
    /// As [`Inotify::read_wait`].
    pub fn read_event_wait(
        &mut self,
        wait: Wait<'_>,
    ) -> Result<Option<core::result::Result<Event<'_>, EventError>>> {
        Ok(self
            .core
            .next(waited(&self.inotify.fd, wait), one)?
            .flatten())
    }

    /// Every buffered event, or (when none is left) those of a fresh read.
    ///
    /// # Errors
    /// As [`Inotify::read`].
    pub fn read_events(&mut self) -> Result<Events<'_>> {
        let events = self.core.rest(plain(&self.inotify.fd), parse)?;
        Ok(events.unwrap_or(Events::EMPTY))
    }

    /// Bytes read from the kernel and not handed out yet: `0` means the
    /// next call reads.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.core.buffered()
    }
}
