//! Event masks and their names, as inotify-tools spells them: the output's
//! `CLOSE_WRITE,CLOSE` and `-e`'s case-insensitive list.

use kernfd::inotify::{EventFlags, WatchFlags};

pub(crate) const IN_ACCESS: u32 = EventFlags::ACCESS.bits();
pub(crate) const IN_MODIFY: u32 = EventFlags::MODIFY.bits();
pub(crate) const IN_ATTRIB: u32 = EventFlags::ATTRIB.bits();
pub(crate) const IN_CLOSE_WRITE: u32 = EventFlags::CLOSE_WRITE.bits();
pub(crate) const IN_CLOSE_NOWRITE: u32 = EventFlags::CLOSE_NOWRITE.bits();
pub(crate) const IN_CLOSE: u32 = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE;
pub(crate) const IN_OPEN: u32 = EventFlags::OPEN.bits();
pub(crate) const IN_MOVED_FROM: u32 = EventFlags::MOVED_FROM.bits();
pub(crate) const IN_MOVED_TO: u32 = EventFlags::MOVED_TO.bits();
pub(crate) const IN_MOVE: u32 = IN_MOVED_FROM | IN_MOVED_TO;
pub(crate) const IN_CREATE: u32 = EventFlags::CREATE.bits();
pub(crate) const IN_DELETE: u32 = EventFlags::DELETE.bits();
pub(crate) const IN_DELETE_SELF: u32 = EventFlags::DELETE_SELF.bits();
pub(crate) const IN_MOVE_SELF: u32 = EventFlags::MOVE_SELF.bits();
pub(crate) const IN_UNMOUNT: u32 = EventFlags::UNMOUNT.bits();
pub(crate) const IN_Q_OVERFLOW: u32 = EventFlags::Q_OVERFLOW.bits();
pub(crate) const IN_IGNORED: u32 = EventFlags::IGNORED.bits();
pub(crate) const IN_ISDIR: u32 = EventFlags::ISDIR.bits();
pub(crate) const IN_ONESHOT: u32 = WatchFlags::ONESHOT.bits();
pub(crate) const IN_DONT_FOLLOW: u32 = WatchFlags::DONT_FOLLOW.bits();
pub(crate) const IN_ALL_EVENTS: u32 = EventFlags::ALL_EVENTS.bits();

/// How inotify-tools spells a mask: every name whose bits meet the mask, in
/// this order. `CLOSE` comes after `IGNORED`, so a close prints as
/// `CLOSE_WRITE,CLOSE`.
const EVENT_NAMES: [(u32, &str); 18] = [
    (IN_ACCESS, "ACCESS"),
    (IN_MODIFY, "MODIFY"),
    (IN_ATTRIB, "ATTRIB"),
    (IN_CLOSE_WRITE, "CLOSE_WRITE"),
    (IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"),
    (IN_OPEN, "OPEN"),
    (IN_MOVED_FROM, "MOVED_FROM"),
    (IN_MOVED_TO, "MOVED_TO"),
    (IN_CREATE, "CREATE"),
    (IN_DELETE, "DELETE"),
    (IN_DELETE_SELF, "DELETE_SELF"),
    (IN_UNMOUNT, "UNMOUNT"),
    (IN_Q_OVERFLOW, "Q_OVERFLOW"),
    (IN_IGNORED, "IGNORED"),
    (IN_CLOSE, "CLOSE"),
    (IN_MOVE_SELF, "MOVE_SELF"),
    (IN_ISDIR, "ISDIR"),
    (IN_ONESHOT, "ONESHOT"),
];

/// `inotifytools_event_to_str_sep`: names joined by `sep`; a mask with no
/// known bit prints as `0x%08x`.
pub(crate) fn event_to_str(mask: u32, sep: u8, out: &mut Vec<u8>) {
    let start = out.len();
    for (bits, name) in EVENT_NAMES {
        if mask & bits != 0 {
            if out.len() > start {
                out.push(sep);
            }
            out.extend_from_slice(name.as_bytes());
        }
    }
    if out.len() == start {
        out.extend_from_slice(format!("0x{mask:08x}").as_bytes());
    }
}

/// One event name, case-insensitive, as `-e` takes it; `Some(0)` for empty.
fn one_event(name: &[u8]) -> Option<u32> {
    let table: [(&str, u32); 20] = [
        ("ACCESS", IN_ACCESS),
        ("MODIFY", IN_MODIFY),
        ("ATTRIB", IN_ATTRIB),
        ("CLOSE_WRITE", IN_CLOSE_WRITE),
        ("CLOSE_NOWRITE", IN_CLOSE_NOWRITE),
        ("OPEN", IN_OPEN),
        ("MOVED_FROM", IN_MOVED_FROM),
        ("MOVED_TO", IN_MOVED_TO),
        ("CREATE", IN_CREATE),
        ("DELETE", IN_DELETE),
        ("DELETE_SELF", IN_DELETE_SELF),
        ("UNMOUNT", IN_UNMOUNT),
        ("Q_OVERFLOW", IN_Q_OVERFLOW),
        ("IGNORED", IN_IGNORED),
        ("CLOSE", IN_CLOSE),
        ("MOVE_SELF", IN_MOVE_SELF),
        ("MOVE", IN_MOVE),
        ("ISDIR", IN_ISDIR),
        ("ONESHOT", IN_ONESHOT),
        ("ALL_EVENTS", IN_ALL_EVENTS),
    ];
    if name.is_empty() {
        return Some(0);
    }
    table
        .iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        .map(|&(_, bits)| bits)
}

/// `inotifytools_str_to_event_sep(s, ',')`: `None` for an unknown name. An
/// empty element or a trailing comma makes the whole list 0, as in C.
pub(crate) fn str_to_event(s: &[u8]) -> Option<u32> {
    let mut ret = 0;
    if s.is_empty() {
        return Some(0);
    }
    let mut parts = s.split(|&b| b == b',').peekable();
    while let Some(part) = parts.next() {
        match one_event(part)? {
            0 => return Some(0),
            bits => ret |= bits,
        }
        if parts.peek().is_some_and(|p| p.is_empty()) {
            // "create," : the C loop sees the separator at the very end.
            return Some(0);
        }
    }
    Some(ret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_inotify_tools_order() {
        let mut v = Vec::new();
        event_to_str(IN_CLOSE_WRITE, b',', &mut v);
        assert_eq!(v, b"CLOSE_WRITE,CLOSE");
        v.clear();
        event_to_str(IN_CREATE | IN_ISDIR, b':', &mut v);
        assert_eq!(v, b"CREATE:ISDIR");
        v.clear();
        event_to_str(0x0200_0000, b',', &mut v);
        assert_eq!(v, b"0x02000000");
    }

    #[test]
    fn event_lists() {
        assert_eq!(str_to_event(b"create,Delete"), Some(IN_CREATE | IN_DELETE));
        assert_eq!(str_to_event(b"close"), Some(IN_CLOSE));
        assert_eq!(str_to_event(b"create,"), Some(0));
        assert_eq!(str_to_event(b"bogus"), None);
    }
}
