//! Permission decisions: [`Response`] and the 1:1 [`respond`] that writes
//! one (`struct fanotify_response`, and an audit-rule record) to the group.

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use rustix::io::Errno;

use super::abi;

/// A permission decision, written to the group with [`respond`].
///
/// ```
/// use kernfd::fanotify::{AuditRule, Response};
/// use kernfd::Errno;
///
/// let allow = Response::ALLOW;
/// let deny_busy = Response::deny_with(Errno::BUSY)?; // pre-content groups
/// let audited = Response::DENY.audit().audit_rule(AuditRule { rule_number: 7, subj_trust: 0, obj_trust: 0 });
/// assert_eq!(allow.bits(), 1);
/// assert_eq!(deny_busy.bits(), 2 | (16 << 24));
/// assert_eq!(audited.bits(), 2 | 0x10 | 0x20);
/// // The kernel's field holds 8 bits: a larger errno is refused, not cut.
/// assert!(Response::deny_with(Errno::from_raw_os_error(272)).is_err());
/// # Ok::<(), kernfd::Error>(())
/// ```
#[doc(alias = "fanotify_response")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Response {
    bits: u32,
    rule: Option<AuditRule>,
}

/// `struct fanotify_response_info_audit_rule`: which rule made a decision,
/// for the audit record (`FAN_INFO`; Linux 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AuditRule {
    /// The deciding rule's number.
    pub rule_number: u32,
    /// The subject's trust (0 unknown, 1 no, 2 yes).
    pub subj_trust: u32,
    /// The object's trust (0 unknown, 1 no, 2 yes).
    pub obj_trust: u32,
}

impl Response {
    /// `FAN_ALLOW`.
    pub const ALLOW: Self = Self {
        bits: abi::FAN_ALLOW,
        rule: None,
    };
    /// `FAN_DENY`: the operation fails with `EPERM`.
    pub const DENY: Self = Self {
        bits: abi::FAN_DENY,
        rule: None,
    };

    /// `FAN_DENY_ERRNO(errno)`: deny with another errno (Linux 6.14, for
    /// `CLASS_PRE_CONTENT` groups only; the kernel accepts `EPERM`, `EIO`,
    /// `EBUSY`, `ETXTBSY`, `EAGAIN`, `ENOSPC` and `EDQUOT`, and answers
    /// others, or this on other groups, with `EINVAL`).
    ///
    /// # Errors
    /// [`Rule::FanotifyDenyErrno`](crate::Rule::FanotifyDenyErrno) when
    /// `errno` does not fit the kernel's 8-bit field (1 to 255): it is
    /// refused rather than cut to another errno.
    pub fn deny_with(errno: Errno) -> crate::Result<Self> {
        match u32::try_from(errno.raw_os_error()) {
            Ok(e @ 1..) if e <= abi::FAN_ERRNO_MASK => Ok(Self {
                bits: abi::FAN_DENY | (e << abi::FAN_ERRNO_SHIFT),
                rule: None,
            }),
            _ => Err(crate::Error::Rule(crate::Rule::FanotifyDenyErrno)),
        }
    }

    /// Adds `FAN_AUDIT`: have the kernel log the decision to the audit
    /// subsystem (the group needs [`InitFlags::ENABLE_AUDIT`](super::InitFlags::ENABLE_AUDIT), else
    /// `EINVAL`).
    #[must_use]
    pub const fn audit(mut self) -> Self {
        self.bits |= abi::FAN_AUDIT;
        self
    }

    /// Adds `FAN_INFO` with an audit-rule record (Linux 6.3).
    #[must_use]
    pub const fn audit_rule(mut self, rule: AuditRule) -> Self {
        self.bits |= abi::FAN_INFO;
        self.rule = Some(rule);
        self
    }

    /// The `response` word as written to the kernel.
    #[must_use]
    pub const fn bits(&self) -> u32 {
        self.bits
    }

    /// The bytes written: `fanotify_response`, then the audit-rule record
    /// if any. Returns the buffer and the used length.
    fn encode(&self, event_fd: RawFd) -> ([u8; RESPONSE_MAX], usize) {
        use abi::{fanotify_response as Head, fanotify_response_info_audit_rule as Rule};
        use core::mem::offset_of;
        let mut b = [0_u8; RESPONSE_MAX];
        let mut put = |at: usize, bytes: &[u8]| {
            if let Some(dst) = b.get_mut(at..at + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
        };
        put(offset_of!(Head, fd), &event_fd.to_ne_bytes());
        put(offset_of!(Head, response), &self.bits.to_ne_bytes());
        let Some(rule) = self.rule else {
            return (b, size_of::<Head>());
        };
        let at = size_of::<Head>();
        let info_type = abi::FAN_RESPONSE_INFO_AUDIT_RULE;
        put(at + offset_of!(Rule, hdr.info_type), &[info_type]);
        let len = size_of::<Rule>() as u16;
        put(at + offset_of!(Rule, hdr.len), &len.to_ne_bytes());
        put(
            at + offset_of!(Rule, rule_number),
            &rule.rule_number.to_ne_bytes(),
        );
        put(
            at + offset_of!(Rule, subj_trust),
            &rule.subj_trust.to_ne_bytes(),
        );
        put(
            at + offset_of!(Rule, obj_trust),
            &rule.obj_trust.to_ne_bytes(),
        );
        (b, RESPONSE_MAX)
    }
}

/// The longest response: `fanotify_response` and one audit-rule record.
const RESPONSE_MAX: usize =
    size_of::<abi::fanotify_response>() + size_of::<abi::fanotify_response_info_audit_rule>();

/// `write(fd, &fanotify_response{event_fd, response}, …)`: answer a
/// permission event.
///
/// `event_fd` is borrowed from the event, so the answer cannot reach a
/// descriptor number that was closed and reused.
///
/// # Errors
/// `ENOENT` (no pending permission event has this fd: already answered, or
/// not a permission event), `EINVAL` (a malformed response: `FAN_AUDIT`
/// without `ENABLE_AUDIT`, a custom errno the group or kernel does not
/// accept, a bad info record), `EBADF`.
///
/// # References
/// [fanotify(7)](https://man7.org/linux/man-pages/man7/fanotify.7.html),
/// "Dealing with permission events"
pub fn respond(fd: impl AsFd, event_fd: BorrowedFd<'_>, response: Response) -> Result<(), Errno> {
    let (bytes, len) = response.encode(event_fd.as_raw_fd());
    rustix::io::write(fd, &bytes[..len]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes `respond` writes, field by field, as the uapi lays them out.
    #[test]
    fn encode_lays_out_the_uapi_structs() {
        let (b, len) = Response::ALLOW.encode(7);
        assert_eq!(len, 8);
        assert_eq!(b[..4], 7_i32.to_ne_bytes());
        assert_eq!(b[4..8], 1_u32.to_ne_bytes());
        assert!(b[8..].iter().all(|&x| x == 0));

        let rule = AuditRule {
            rule_number: 0x0102_0304,
            subj_trust: 2,
            obj_trust: 1,
        };
        let (b, len) = Response::deny_with(Errno::BUSY)
            .unwrap()
            .audit()
            .audit_rule(rule)
            .encode(-3);
        assert_eq!(len, 24);
        assert_eq!(b[..4], (-3_i32).to_ne_bytes());
        assert_eq!(b[4..8], (2_u32 | 0x10 | 0x20 | (16 << 24)).to_ne_bytes());
        assert_eq!(b[8..10], [1, 0]); // info_type AUDIT_RULE, pad
        assert_eq!(b[10..12], 16_u16.to_ne_bytes());
        assert_eq!(b[12..16], 0x0102_0304_u32.to_ne_bytes());
        assert_eq!(b[16..20], 2_u32.to_ne_bytes());
        assert_eq!(b[20..24], 1_u32.to_ne_bytes());
    }
}
