//! How fanotify events print: one line, in the style of inotify's
//! `Event(wd=1, mask=..., ...)`.

use core::fmt;

use super::{Event, Fid, Info, OwnedEvent};
use crate::shared::ByteStr;

/// `Event(mask=CREATE|ONDIR, pid=1234, fd=7)`, then each info record:
/// `DFID_NAME(fsid=…, handle=1:0a0b…, name='new')`, `pidfd=5`,
/// `error=5 x3`, `range=4096+512`, `mnt_id=42`, `info_type=9`. Names are
/// escaped so the line stays one line whatever bytes they hold.
///
/// ```
/// let mut bytes = vec![0_u8; 24];
/// bytes[..4].copy_from_slice(&24_u32.to_ne_bytes()); // event_len
/// bytes[4] = 3; // metadata version
/// bytes[6..8].copy_from_slice(&24_u16.to_ne_bytes()); // metadata_len
/// bytes[8..16].copy_from_slice(&0x20_u64.to_ne_bytes()); // FAN_OPEN
/// bytes[16..20].copy_from_slice(&7_i32.to_ne_bytes()); // fd
/// bytes[20..24].copy_from_slice(&1234_i32.to_ne_bytes()); // pid
/// let event = kernfd::fanotify::parse(&bytes).next().unwrap()?;
/// assert_eq!(event.to_string(), "Event(mask=OPEN, pid=1234, fd=7)");
/// # Ok::<(), kernfd::fanotify::EventError>(())
/// ```
impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Event(mask={}, pid={}", self.mask(), self.pid())?;
        if let Some(fd) = self.fd() {
            write!(f, ", fd={fd}")?;
        }
        if let Some(errno) = self.fd_error() {
            write!(f, ", fd_error={}", errno.raw_os_error())?;
        }
        for info in self.infos() {
            f.write_str(", ")?;
            match info {
                Info::Fid(fid) => write_fid(f, &fid)?,
                Info::Pidfd(fd) => write!(f, "pidfd={fd}")?,
                Info::Error { error, count } => write!(f, "error={error} x{count}")?,
                Info::Range { offset, count } => write!(f, "range={offset}+{count}")?,
                Info::Mnt { mnt_id } => write!(f, "mnt_id={mnt_id}")?,
                Info::Unknown { info_type, .. } => write!(f, "info_type={info_type}")?,
            }
        }
        f.write_str(")")
    }
}

fn write_fid(f: &mut fmt::Formatter<'_>, fid: &Fid<'_>) -> fmt::Result {
    let kind = match fid.kind() {
        super::FidKind::Fid => "FID",
        super::FidKind::Dfid => "DFID",
        super::FidKind::DfidName => "DFID_NAME",
        super::FidKind::OldDfidName => "OLD_DFID_NAME",
        super::FidKind::NewDfidName => "NEW_DFID_NAME",
    };
    let [a, b] = fid.fsid();
    let handle = fid.handle();
    write!(
        f,
        "{kind}(fsid={:x}.{:x}, handle={}:",
        a as u32,
        b as u32,
        handle.handle_type()
    )?;
    for byte in handle.bytes() {
        write!(f, "{byte:02x}")?;
    }
    if let Some(name) = fid.name_bytes() {
        write!(f, ", name='{}'", ByteStr(name))?;
    }
    f.write_str(")")
}

/// As the borrowed [`Event`] prints.
impl fmt::Display for OwnedEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.event(), f)
    }
}
