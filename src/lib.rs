#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! kernfd: the Linux kernel's event and control interfaces with no libc and
//! no heap.
//!
//! - **No libc**: syscalls go through [rustix](https://docs.rs/rustix)'s
//!   `linux_raw` backend, and the few it lacks through the crate's own
//!   inline-assembly module. Static musl and `#![no_std]` binaries welcome.
//! - **No heap**: records are parsed in place, in a buffer you supply (any
//!   alignment, initialised or not), by borrowing iterators.
//! - **No panic on any input**: every parser is bounds-checked and fuzzed; a
//!   malformed record ends iteration with an error that says where and why.
//! - **Least surprise**: close-on-exec by default, errors that name the
//!   limit you hit, queue overflow you cannot overlook.
//!
//! | module | kernel interface |
//! |---|---|
//! | [`inotify`] | inotify(7) |
//! | [`fanotify`] | fanotify(7): notification, permission decisions, FID info records |
//! | [`wait`] | bounded waits and cross-thread wakeups for every reader |
//!
//! # Example
//! ```
//! use kernfd::inotify::{Inotify, WatchFlags};
//!
//! let dir = tempfile::tempdir()?;
//! let inotify = Inotify::new()?;
//! inotify.add_watch(dir.path(), WatchFlags::ALL_EVENTS)?;
//! std::fs::create_dir(dir.path().join("foo"))?;
//!
//! let mut buf = [0_u8; kernfd::inotify::DEFAULT_BUFFER_LEN];
//! for event in inotify.read(&mut buf)? {
//!     let event = event?;
//!     println!("{event} {}", event.mask()); // Event(wd=1, mask=1073742080, ...) CREATE|ISDIR
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(any(feature = "alloc", test, fuzzing))]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod buffer;
pub mod fanotify;
pub mod inotify;
// Until every subsystem that needs it has landed, parts of it are unused.
#[allow(dead_code)]
mod raw;
pub mod wait;

pub use buffer::Buffer;
pub use rustix::io::Errno;
