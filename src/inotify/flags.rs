//! Flag sets for `inotify_init1`, `inotify_add_watch` and event masks.

use core::fmt;

use crate::shared::write_flags;

use linux_raw_sys::general as c;

bitflags::bitflags! {
    /// Flags for [`Inotify::with_flags`](super::Inotify::with_flags)
    /// (`inotify_init1`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct InitFlags: u32 {
        /// `IN_CLOEXEC`: close the descriptor on `execve`.
        const CLOEXEC = c::IN_CLOEXEC;
        /// `IN_NONBLOCK`: reads fail with `EAGAIN` instead of blocking.
        const NONBLOCK = c::IN_NONBLOCK;
    }
}

/// Declares the event bits shared by the watch and event flag types, in the
/// kernel's bit order (the order they print and iterate in).
macro_rules! inotify_flags {
    (
        $(#[$meta:meta])* $name:ident { $($(#[doc = $fd:literal])* $flag:ident = $value:expr;)* }
    ) => {
        bitflags::bitflags! {
            $(#[$meta])*
            #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct $name: u32 {
                /// `IN_ACCESS`: a file was read.
                const ACCESS = c::IN_ACCESS;
                /// `IN_MODIFY`: a file was written.
                const MODIFY = c::IN_MODIFY;
                /// `IN_ATTRIB`: metadata changed (permissions, timestamps,
                /// extended attributes, link count, owner).
                const ATTRIB = c::IN_ATTRIB;
                /// `IN_CLOSE_WRITE`: a file opened for writing was closed.
                const CLOSE_WRITE = c::IN_CLOSE_WRITE;
                /// `IN_CLOSE_NOWRITE`: a file not opened for writing was closed.
                const CLOSE_NOWRITE = c::IN_CLOSE_NOWRITE;
                /// `IN_OPEN`: a file or directory was opened.
                const OPEN = c::IN_OPEN;
                /// `IN_MOVED_FROM`: an entry was renamed out of a watched directory.
                const MOVED_FROM = c::IN_MOVED_FROM;
                /// `IN_MOVED_TO`: an entry was renamed into a watched directory.
                const MOVED_TO = c::IN_MOVED_TO;
                /// `IN_CREATE`: an entry was created in a watched directory.
                const CREATE = c::IN_CREATE;
                /// `IN_DELETE`: an entry was deleted from a watched directory.
                const DELETE = c::IN_DELETE;
                /// `IN_DELETE_SELF`: the watched object itself was deleted.
                const DELETE_SELF = c::IN_DELETE_SELF;
                /// `IN_MOVE_SELF`: the watched object itself was moved.
                const MOVE_SELF = c::IN_MOVE_SELF;
                $($(#[doc = $fd])* const $flag = $value;)*
            }
        }

        impl $name {
            /// `IN_ALL_EVENTS`: every event a watch can ask for.
            pub const ALL_EVENTS: Self = Self::from_bits_retain(c::IN_ALL_EVENTS);
            /// `IN_MOVE`: `MOVED_FROM | MOVED_TO`.
            pub const MOVE: Self = Self::from_bits_retain(c::IN_MOVE);
            /// `IN_CLOSE`: `CLOSE_WRITE | CLOSE_NOWRITE`.
            pub const CLOSE: Self = Self::from_bits_retain(c::IN_CLOSE);

            /// The single flags set in this mask, in bit order; unknown bits
            /// come last, one by one. This is inotify_simple's
            /// `flags.from_mask`.
            pub fn flags(self) -> impl Iterator<Item = Self> + Clone {
                let bits = self.bits();
                (0..32).map(|i| 1_u32 << i).filter(move |b| bits & b != 0).map(Self::from_bits_retain)
            }

            /// The name of a single known flag (`"CREATE"`), `None` for an
            /// unknown bit or a set of several.
            #[must_use]
            pub fn name(self) -> Option<&'static str> {
                Self::all().iter_names().find(|(_, f)| *f == self).map(|(n, _)| n)
            }
        }

        /// Flags by name joined with `|` (`CREATE|ISDIR`); unknown bits in hex.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_flags(f, u64::from(self.bits()), Self::all().iter_names().map(|(n, v)| (n, u64::from(v.bits()))))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }
    };
}

inotify_flags! {
    /// What a watch asks for: event bits plus the options that steer
    /// [`Inotify::add_watch`](super::Inotify::add_watch) (`IN_*` of
    /// `inotify_add_watch(2)`).
    ///
    /// Unknown bits are kept and passed to the kernel, which rejects what it
    /// does not know with `EINVAL`.
    WatchFlags {
        /// `IN_ONLYDIR`: fail with `ENOTDIR` unless the path is a directory.
        ONLYDIR = c::IN_ONLYDIR;
        /// `IN_DONT_FOLLOW`: do not follow a final symbolic link; watch the link.
        DONT_FOLLOW = c::IN_DONT_FOLLOW;
        /// `IN_EXCL_UNLINK`: stop reporting events for children after they are
        /// unlinked from the watched directory.
        EXCL_UNLINK = c::IN_EXCL_UNLINK;
        /// `IN_MASK_CREATE`: fail with `EEXIST` if the object is already
        /// watched, instead of changing the watch (Linux 4.18).
        MASK_CREATE = c::IN_MASK_CREATE;
        /// `IN_MASK_ADD`: add to an existing watch's mask instead of replacing it.
        MASK_ADD = c::IN_MASK_ADD;
        /// `IN_ONESHOT`: remove the watch after its first event.
        ONESHOT = c::IN_ONESHOT;
    }
}

inotify_flags! {
    /// The mask of one event: what happened, plus the kernel's
    /// `IN_UNMOUNT`, `IN_Q_OVERFLOW`, `IN_IGNORED` and `IN_ISDIR` bits.
    ///
    /// Prints by name (`CREATE|ISDIR`) and keeps unknown bits.
    EventFlags {
        /// `IN_UNMOUNT`: the filesystem holding the watched object was unmounted.
        UNMOUNT = c::IN_UNMOUNT;
        /// `IN_Q_OVERFLOW`: the event queue overflowed (`wd` is -1).
        Q_OVERFLOW = c::IN_Q_OVERFLOW;
        /// `IN_IGNORED`: the watch was removed, explicitly or because its
        /// object went away; its wd may be reused.
        IGNORED = c::IN_IGNORED;
        /// `IN_ISDIR`: the subject of this event is a directory.
        ISDIR = c::IN_ISDIR;
    }
}

impl From<EventFlags> for WatchFlags {
    /// The event bits of `events` as a watch mask (`IN_ALL_EVENTS` bits only).
    fn from(events: EventFlags) -> Self {
        Self::from_bits_retain(events.bits() & c::IN_ALL_EVENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::{format, vec::Vec};

    #[test]
    fn display_by_name_and_keeps_unknown_bits() {
        let m = EventFlags::CREATE | EventFlags::ISDIR;
        assert_eq!(format!("{m}"), "CREATE|ISDIR");
        assert_eq!(format!("{m:?}"), "EventFlags(CREATE|ISDIR)");
        let odd = EventFlags::from_bits_retain(c::IN_MODIFY | 0x1000);
        assert_eq!(format!("{odd}"), "MODIFY|0x1000");
        assert_eq!(format!("{}", EventFlags::empty()), "0");
        assert_eq!(
            format!("{}", WatchFlags::CLOSE | WatchFlags::ONLYDIR),
            "CLOSE_WRITE|CLOSE_NOWRITE|ONLYDIR"
        );
    }

    #[test]
    fn flags_iterate_in_bit_order_like_from_mask() {
        let m = EventFlags::from_bits_retain(1_073_742_080);
        let names: Vec<_> = m.flags().map(|f| f.name().unwrap()).collect();
        assert_eq!(names, ["CREATE", "ISDIR"]);
        let odd: Vec<_> = EventFlags::from_bits_retain(0x1002).flags().collect();
        assert_eq!(
            odd,
            [EventFlags::MODIFY, EventFlags::from_bits_retain(0x1000)]
        );
        assert_eq!(odd[1].name(), None);
        assert_eq!(
            EventFlags::CLOSE.name(),
            None,
            "a composite is not one flag"
        );
    }

    #[test]
    fn composites_match_the_kernel() {
        assert_eq!(WatchFlags::ALL_EVENTS.bits(), 0xfff);
        assert_eq!(
            WatchFlags::MOVE,
            WatchFlags::MOVED_FROM | WatchFlags::MOVED_TO
        );
        assert_eq!(
            EventFlags::CLOSE,
            EventFlags::CLOSE_WRITE | EventFlags::CLOSE_NOWRITE
        );
        assert_eq!(
            WatchFlags::from(EventFlags::CREATE | EventFlags::ISDIR),
            WatchFlags::CREATE
        );
        assert_eq!(WatchFlags::all().bits(), 0xb700_0fff);
    }
}
