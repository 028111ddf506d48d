//! The UTS names: the host name and the NIS domain name.
//!
//! Each UTS namespace has one host name and one NIS domain name, each at
//! most [`MAX_LEN`] (64) bytes with no terminating NUL. Reading them cannot
//! fail (`uname(2)` copies them out); setting them needs `CAP_SYS_ADMIN` in
//! the user namespace that owns the UTS namespace, so a program sets them
//! inside a fresh UTS namespace (`process::unshare(NamespaceFlags::NEWUTS)`)
//! without touching the machine's.
//!
//! Two layers, as everywhere in kernfd:
//! - [`sethostname`] and [`setdomainname`] pass the bytes to the kernel
//!   as they are and return its errno (a name over 64 bytes is the
//!   kernel's `EINVAL`);
//! - [`set_hostname`] and [`set_domainname`] check the 64-byte rule first
//!   and return [`Error::Rule`] with
//!   [`Rule::HostnameTooLong`] or [`Rule::DomainnameTooLong`], naming the
//!   rule instead of a bare `EINVAL`; a kernel refusal is an
//!   [`Error::Os`] naming the call.
//!
//! [`gethostname`] and [`getdomainname`] copy into caller storage (no heap)
//! and return the bytes; [`hostname`] and [`domainname`] return a [`Name`]
//! that holds its bytes inline.
//!
//! # Example
//! ```
//! let mut buf = [0_u8; kernfd::hostname::BUF_LEN];
//! let name = kernfd::hostname::gethostname(&mut buf);
//! assert!(!name.is_empty() && name.len() <= kernfd::hostname::MAX_LEN);
//! assert_eq!(kernfd::hostname::hostname().as_bytes(), name);
//! ```
//!
//! # References
//! [gethostname(2)](https://man7.org/linux/man-pages/man2/gethostname.2.html),
//! [getdomainname(2)](https://man7.org/linux/man-pages/man2/getdomainname.2.html),
//! [uts_namespaces(7)](https://man7.org/linux/man-pages/man7/uts_namespaces.7.html)

use core::fmt;

use rustix::io::Errno;

use crate::error::{Call, Error, Result, Rule};

/// The longest host or domain name the kernel stores: 64 bytes
/// (`__NEW_UTS_LEN`, `HOST_NAME_MAX`).
pub const MAX_LEN: usize = 64;

/// The size of the storage [`gethostname`] and [`getdomainname`] fill:
/// [`MAX_LEN`] bytes and a NUL.
pub const BUF_LEN: usize = MAX_LEN + 1;

/// Copies `src` (a NUL-free name of at most `MAX_LEN` bytes) into `buf`,
/// NUL-terminated, and returns the name's bytes.
fn copy_name<'b>(buf: &'b mut [u8; BUF_LEN], src: &[u8]) -> &'b [u8] {
    let len = src.len().min(MAX_LEN);
    buf[..len].copy_from_slice(&src[..len]);
    buf[len] = 0;
    &buf[..len]
}

/// `gethostname(buf, 65)`: this UTS namespace's host name, copied into
/// `buf`; returns its bytes (without the NUL).
///
/// Read with `uname(2)`, which cannot fail.
///
/// # References
/// [gethostname(2)](https://man7.org/linux/man-pages/man2/gethostname.2.html)
pub fn gethostname(buf: &mut [u8; BUF_LEN]) -> &[u8] {
    let uts = rustix::system::uname();
    copy_name(buf, uts.nodename().to_bytes())
}

/// `getdomainname(buf, 65)`: this UTS namespace's NIS domain name (the
/// kernel's default is `(none)`), copied into `buf`; returns its bytes.
///
/// # References
/// [getdomainname(2)](https://man7.org/linux/man-pages/man2/getdomainname.2.html)
pub fn getdomainname(buf: &mut [u8; BUF_LEN]) -> &[u8] {
    let uts = rustix::system::uname();
    copy_name(buf, uts.domainname().to_bytes())
}

/// `sethostname(name, len)`: sets this UTS namespace's host name, passing
/// `name` to the kernel unchecked.
///
/// # Errors
/// `EINVAL` for a name over [`MAX_LEN`] bytes; `EPERM` without
/// `CAP_SYS_ADMIN` over the UTS namespace.
///
/// # References
/// [sethostname(2)](https://man7.org/linux/man-pages/man2/sethostname.2.html)
pub fn sethostname(name: &[u8]) -> core::result::Result<(), Errno> {
    rustix::system::sethostname(name)
}

/// `setdomainname(name, len)`: sets this UTS namespace's NIS domain name,
/// passing `name` to the kernel unchecked.
///
/// # Errors
/// `EINVAL` for a name over [`MAX_LEN`] bytes; `EPERM` without
/// `CAP_SYS_ADMIN` over the UTS namespace.
///
/// # References
/// [setdomainname(2)](https://man7.org/linux/man-pages/man2/setdomainname.2.html)
pub fn setdomainname(name: &[u8]) -> core::result::Result<(), Errno> {
    rustix::system::setdomainname(name)
}

/// Sets the host name, refusing a name over [`MAX_LEN`] bytes before the
/// kernel sees it.
///
/// # Errors
/// [`Error::Rule`] with [`Rule::HostnameTooLong`] for a name over 64
/// bytes; [`Error::Os`] from `sethostname` (`EPERM` without
/// `CAP_SYS_ADMIN`).
///
/// # References
/// [sethostname(2)](https://man7.org/linux/man-pages/man2/sethostname.2.html)
pub fn set_hostname(name: impl AsRef<[u8]>) -> Result<()> {
    let name = name.as_ref();
    if name.len() > MAX_LEN {
        return Err(Error::Rule(Rule::HostnameTooLong));
    }
    sethostname(name).call("sethostname")
}

/// Sets the NIS domain name, refusing a name over [`MAX_LEN`] bytes
/// before the kernel sees it.
///
/// # Errors
/// [`Error::Rule`] with [`Rule::DomainnameTooLong`] for a name over 64
/// bytes; [`Error::Os`] from `setdomainname` (`EPERM` without
/// `CAP_SYS_ADMIN`).
///
/// # References
/// [setdomainname(2)](https://man7.org/linux/man-pages/man2/setdomainname.2.html)
pub fn set_domainname(name: impl AsRef<[u8]>) -> Result<()> {
    let name = name.as_ref();
    if name.len() > MAX_LEN {
        return Err(Error::Rule(Rule::DomainnameTooLong));
    }
    setdomainname(name).call("setdomainname")
}

/// A host or domain name held inline (no heap): at most [`MAX_LEN`] bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Name {
    buf: [u8; BUF_LEN],
    len: u8,
}

impl Name {
    fn from_gets(get: fn(&mut [u8; BUF_LEN]) -> &[u8]) -> Self {
        let mut buf = [0_u8; BUF_LEN];
        let len = get(&mut buf).len() as u8;
        Self { buf, len }
    }

    /// The name's bytes, without a NUL.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// The name as text, where it is UTF-8 (the kernel does not require it).
    #[must_use]
    pub fn to_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }
}

impl fmt::Display for Name {
    /// The name, with any invalid UTF-8 shown as U+FFFD.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.as_bytes().utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name(\"{}\")", self.as_bytes().escape_ascii())
    }
}

/// This UTS namespace's host name, held inline.
#[must_use]
pub fn hostname() -> Name {
    Name::from_gets(gethostname)
}

/// This UTS namespace's NIS domain name, held inline.
#[must_use]
pub fn domainname() -> Name {
    Name::from_gets(getdomainname)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls")]
    fn buffers_are_nul_terminated_and_agree() {
        let mut buf = [0xff_u8; BUF_LEN];
        let len = gethostname(&mut buf).len();
        assert_eq!(buf[len], 0);
        assert_eq!(hostname().as_bytes(), &buf[..len]);
        let mut buf = [0xff_u8; BUF_LEN];
        let len = getdomainname(&mut buf).len();
        assert_eq!(buf[len], 0);
        assert_eq!(domainname().as_bytes(), &buf[..len]);
    }

    #[test]
    fn too_long_is_refused_before_the_kernel() {
        // Unprivileged or not, the rule is checked first: no EPERM here.
        let long = [b'a'; MAX_LEN + 1];
        assert_eq!(set_hostname(long), Err(Error::Rule(Rule::HostnameTooLong)));
        assert_eq!(
            set_domainname(long),
            Err(Error::Rule(Rule::DomainnameTooLong))
        );
        assert_eq!(
            Error::Rule(Rule::HostnameTooLong).errno(),
            Some(Errno::INVAL)
        );
    }

    #[test]
    fn display_replaces_invalid_utf8() {
        let mut n = Name {
            buf: [0; BUF_LEN],
            len: 3,
        };
        n.buf[..3].copy_from_slice(b"a\xffb");
        assert_eq!(alloc::format!("{n}"), "a\u{fffd}b");
        assert_eq!(alloc::format!("{n:?}"), "Name(\"a\\xffb\")");
        assert_eq!(n.to_str(), None);
    }
}
