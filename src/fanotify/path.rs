//! From a file-identifier record to a path: what every FID-mode program
//! writes for itself otherwise.

use core::mem::MaybeUninit;

use rustix::fd::AsFd;
use rustix::fs::OFlags;
use rustix::io::Errno;

use super::{Fid, fd_path, open_by_handle_at};
use crate::buffer::{Buffer, uninit};
use crate::error::{Error, Result};

/// What [`fid_path`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FidPath<'b> {
    /// The object's path; for a `*DFID_NAME` record, its directory's path,
    /// `/` and the entry's name. A directory that was deleted since reads
    /// as `"/its/path (deleted)"`, as the kernel writes it.
    Path(&'b [u8]),
    /// `ESTALE`: the object the handle names no longer exists (it was
    /// deleted and its last reference closed), so no path can be had.
    Stale,
}

/// The path of the object a FID record names: `open_by_handle_at` on
/// `mount_fd` (any descriptor on the record's filesystem: an open
/// directory of the mount you marked), then the descriptor's path, written
/// into `buf`; no allocation. For the `*DFID_NAME` kinds the entry's name
/// is appended after a `/` (not for the name `"."`, which the kernel uses
/// for events on the directory itself).
///
/// The path comes from `/proc/self/fd`: it says where the object is now
/// (after a rename, its new place), and it is only as trustworthy as the
/// `/proc` the process sees. Use it to show or log, not to decide.
///
/// # Errors
/// `open_by_handle_at`'s: `EPERM` without `CAP_DAC_READ_SEARCH`, `EBADF`,
/// `EINVAL` for a handle of another filesystem type; `readlink`'s:
/// `ENAMETOOLONG` when the path and name do not fit in `buf`, `ENOENT`
/// without `/proc`. A vanished object is not an error: [`FidPath::Stale`].
///
/// # Example
/// ```no_run
/// use kernfd::fanotify::{self, EventFlags, Fanotify, FidPath, InitFlags, MarkType};
///
/// let fan = Fanotify::new(InitFlags::REPORT_DFID_NAME)?;
/// fan.add(MarkType::Filesystem, EventFlags::CREATE | EventFlags::DELETE, "/home")?;
/// let mount = std::fs::File::open("/home")?;
/// let (mut buf, mut path) = ([0_u8; 4096], [0_u8; 4096 + 256]);
/// for event in fan.read(&mut buf)? {
///     let event = event?;
///     if let Some(fid) = event.fid() {
///         match fanotify::fid_path(&mount, &fid, &mut path)? {
///             FidPath::Path(p) => println!("{} {}", event.mask(), String::from_utf8_lossy(p)),
///             FidPath::Stale => println!("{} (gone)", event.mask()),
///             _ => {}
///         }
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
/// [open_by_handle_at(2)](https://man7.org/linux/man-pages/man2/open_by_handle_at.2.html),
/// [fanotify(7)](https://man7.org/linux/man-pages/man7/fanotify.7.html)
pub fn fid_path<'b, B: Buffer + ?Sized>(
    mount_fd: impl AsFd,
    fid: &Fid<'_>,
    buf: &'b mut B,
) -> Result<FidPath<'b>> {
    let fd = match open_by_handle_at(mount_fd, fid.handle(), OFlags::PATH | OFlags::CLOEXEC) {
        Ok(fd) => fd,
        Err(Errno::STALE) => return Ok(FidPath::Stale),
        Err(errno) => return Err(Error::os("open_by_handle_at", errno)),
    };
    let buf: &'b mut [MaybeUninit<u8>] = uninit(buf);
    let dir_len = fd_path(&fd, &mut *buf)
        .map_err(|errno| Error::os("readlink", errno))?
        .len();
    let name = match fid.name_bytes() {
        Some(b".") | None => &[][..],
        Some(name) => name,
    };
    let len = if name.is_empty() {
        dir_len
    } else {
        let end = dir_len + 1 + name.len();
        let Some(tail) = buf.get_mut(dir_len..end) else {
            return Err(Error::os("readlink", Errno::NAMETOOLONG));
        };
        tail[0].write(b'/');
        for (slot, &b) in tail[1..].iter_mut().zip(name) {
            slot.write(b);
        }
        end
    };
    // SAFETY: the first `dir_len` bytes were written by `readlink`, the
    // rest just above; `len <= buf.len()`, and `buf` is borrowed for `'b`.
    let path = unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), len) };
    Ok(FidPath::Path(path))
}

/// [`fid_path`] as an owned `PathBuf`; `None` when the object is gone
/// (`ESTALE`).
///
/// # Errors
/// As [`fid_path`].
#[cfg(feature = "std")]
pub fn fid_path_buf(mount_fd: impl AsFd, fid: &Fid<'_>) -> Result<Option<std::path::PathBuf>> {
    use std::os::unix::ffi::OsStrExt;
    let mut buf = [0_u8; 4096 + 256];
    Ok(match fid_path(mount_fd, fid, &mut buf)? {
        FidPath::Path(p) => Some(std::ffi::OsStr::from_bytes(p).into()),
        FidPath::Stale => None,
    })
}
