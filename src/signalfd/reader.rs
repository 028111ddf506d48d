//! Butter's event-object reader for signalfd: one record at a time,
//! reading from the kernel only when the buffered ones are used up.

use core::mem::MaybeUninit;

use super::{ParseError, SIGINFO_LEN, Siginfo, Siginfos, SignalFd, parse};
use crate::buffer::{Buffer, uninit};
use crate::error::{Error, Result};
use crate::reader::{Core, plain, waited};
use crate::wait::Wait;

/// Reads a [`SignalFd`] one `signalfd_siginfo` at a time into a buffer it
/// borrows: Butter's `read_event` and `read_events`. It owns nothing and
/// allocates nothing.
///
/// # Example
/// ```
/// use kernfd::signal::{self, SigSet, Signal};
/// use kernfd::signalfd::{Reader, SignalFd};
///
/// std::thread::spawn(|| {
///     let set = SigSet::from([Signal::USR1, Signal::USR2]);
///     signal::block(&set)?;
///     let signals = SignalFd::new(&set)?;
///     signal::raise(Signal::USR1)?;
///     signal::raise(Signal::USR2)?;
///     let mut buf = [0_u8; 4 * 128];
///     let mut reader = Reader::new(&signals, &mut buf)?;
///     assert_eq!(reader.read_event()?.unwrap().signal(), Some(Signal::USR1));
///     assert_eq!(reader.read_event()?.unwrap().signal(), Some(Signal::USR2));
///     Ok::<(), kernfd::Error>(())
/// })
/// .join()
/// .unwrap()?;
/// # Ok::<(), kernfd::Error>(())
/// ```
#[derive(Debug)]
pub struct Reader<'a> {
    signals: &'a SignalFd,
    core: Core<'a>,
}

/// One record off the front of `bytes`, and the bytes it took.
fn one(bytes: &[u8]) -> (Option<core::result::Result<Siginfo<'_>, ParseError>>, usize) {
    let mut infos = parse(bytes);
    let item = infos.next();
    (item, infos.offset())
}

impl<'a> Reader<'a> {
    /// A reader of `signals` into `buf`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than one record
    /// ([`SIGINFO_LEN`]).
    pub fn new<B: Buffer + ?Sized>(signals: &'a SignalFd, buf: &'a mut B) -> Result<Self> {
        let buf: &'a mut [MaybeUninit<u8>] = uninit(buf);
        if buf.len() < SIGINFO_LEN {
            return Err(Error::BufferTooSmall {
                len: buf.len(),
                needed: SIGINFO_LEN,
            });
        }
        Ok(Self {
            signals,
            core: Core::new(buf),
        })
    }

    /// The next record: a buffered one, or the first of a fresh read (which
    /// waits unless the descriptor is non-blocking). The inner `Result` is
    /// the record, or the parser's error for a truncated one.
    ///
    /// # Errors
    /// As [`SignalFd::read`].
    pub fn read_event(&mut self) -> Result<core::result::Result<Siginfo<'_>, ParseError>> {
        let item = self.core.next(plain(&self.signals.fd), one)?;
        item.flatten().ok_or(Error::EndOfFile { call: "read" })
    }

    /// [`read_event`](Self::read_event) with a bounded wait: `None` when
    /// nothing was buffered and the wait ended first.
    ///
    /// # Errors
    /// As [`SignalFd::read_wait`].
    pub fn read_event_wait(
        &mut self,
        wait: Wait<'_>,
    ) -> Result<Option<core::result::Result<Siginfo<'_>, ParseError>>> {
        Ok(self
            .core
            .next(waited(&self.signals.fd, wait), one)?
            .flatten())
    }

    /// Every buffered record, or (when none is left) those of a fresh read.
    ///
    /// # Errors
    /// As [`SignalFd::read`].
    pub fn read_events(&mut self) -> Result<Siginfos<'_>> {
        let infos = self.core.rest(plain(&self.signals.fd), parse)?;
        Ok(infos.unwrap_or(Siginfos::EMPTY))
    }

    /// Bytes read from the kernel and not handed out yet.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.core.buffered()
    }
}
