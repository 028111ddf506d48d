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
//! | [`signal`] | `signal(7)`: `Signal`, the kernel's `SigSet`, the thread's mask (`rt_sigprocmask`) |
//! | [`signalfd`] | `signalfd(2)` |
//! | [`timerfd`] | `timerfd_create(2)` |
//! | [`eventfd`] | `eventfd(2)` |
//!
//! # Unsafe policy
//! - `unsafe` lives in a few places only: `raw/` (the inline-assembly
//!   syscalls and the one function that turns a return value into an
//!   [`Errno`] or an owned descriptor), the `abi` files of subsystems whose
//!   structs linux-raw-sys lacks (each with `const` size and offset
//!   assertions), and the few lines that adopt descriptors or view buffers.
//! - Every `unsafe` block carries a `// SAFETY:` comment naming the invariant
//!   it relies on (`clippy::undocumented_unsafe_blocks`), and
//!   `unsafe_op_in_unsafe_fn` is denied.
//! - Parsers read no memory through raw pointers: headers are copied out
//!   with `from_ne_bytes`, lengths are checked, names are borrowed
//!   subslices. The one exception is measured and fenced: on `x86_64` the
//!   inotify name scan compares a borrowed `&[u8; 16]` with SSE2 (part of
//!   the `x86_64` baseline), which halves its instructions per event; a safe
//!   twin is compiled everywhere else and the tests check the two agree.
//! - A kernel contract that can break memory safety stays an `unsafe fn`
//!   with a precise `# Safety` section; nothing is made "safe" by hoping.
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
mod error;
pub mod fanotify;
mod fd;
pub mod inotify;
mod shared;
// Until every subsystem that needs it has landed, parts of it are unused.
pub mod eventfd;
#[allow(dead_code)]
mod raw;
mod record;
pub mod signal;
pub mod signalfd;
pub mod timerfd;
pub mod wait;

pub use buffer::Buffer;
pub use error::{Error, Limit, Result, Rule};
/// The rustix this crate is built on: public signatures use its types
/// (`OFlags`, `CWD`, `path::Arg`, `Itimerspec`, epoll), so name them through
/// this re-export rather than a second, possibly different, rustix.
pub use rustix;
pub use rustix::io::Errno;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
