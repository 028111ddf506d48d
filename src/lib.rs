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
//! | [`hostname`] | `gethostname(2)`, `sethostname(2)`, the NIS domain name (UTS namespace) |
//! | [`mount`] | `mount(2)`, `umount2(2)`, `pivot_root(2)`, the new mount API, `mount_setattr(2)` |
//! | [`process`] | `getpid(2)`, `getppid(2)`, `gettid(2)` uncached; `unshare(2)`, `setns(2)` |
//! | [`seccomp`] | `seccomp(2)`: strict and filter modes, an allocation-free filter builder, a BPF evaluator, user notification |
//! | [`aio`] | native Linux AIO: `io_setup(2)`, `io_submit(2)`, `io_getevents(2)`, with a borrow-checked safe path |
//! | [`pipe`] | `splice(2)`, `tee(2)`, `vmsplice(2)`, pipe sizing, a zero-copy copy loop |
//! | `tokio` (feature `tokio`) | every descriptor object as tokio futures (`Async<T>`; `AsyncTree` for the recursive watcher, `AsyncAio` for AIO completions), cancellation safe; with feature `mio`, each is a `mio::event::Source` |
//!
//! And the pieces every module shares:
//!
//! | item | what it is |
//! |---|---|
//! | [`Error`], [`Limit`], [`Rule`] | the one error of the object layer: the failing call's name, the limit and its sysctl, the rule broken |
//! | [`Buffer`] | the caller buffers records are read into (`[u8]`, `[MaybeUninit<u8>]`, arrays, `Vec`), any alignment |
//! | [`wait`] | `Wait` (timeout, read delay) and `Waker`, used by every reader; [`wait::Flow`] for drain callbacks |
//! | [`rustix`] | re-exported: public signatures use its types |
//! | `fd` (private) | the descriptor every owned object holds: `O_NONBLOCK` in the kernel, the object's blocking mode beside it |
//! | `raw` (private) | the inline-assembly syscalls rustix lacks, `x86_64` and `aarch64` |
//!
//! The 1:1 syscall functions return the kernel's [`Errno`]; everything above
//! them returns [`Error`]. Adding a facility follows one template:
//! `CONTRIBUTING.md` in the repository.
//!
//! # One loop over several objects
//! Every object is a descriptor, so one `epoll` set (through the re-exported
//! rustix) serves them all:
//! ```
//! use std::time::Duration;
//! use kernfd::eventfd::EventFd;
//! use kernfd::inotify::{Inotify, WatchFlags};
//! use kernfd::rustix::buffer::spare_capacity;
//! use kernfd::rustix::event::epoll;
//! use kernfd::timerfd::TimerFd;
//!
//! let dir = tempfile::tempdir()?;
//! let inotify = Inotify::new()?;
//! inotify.set_nonblocking(true)?;
//! inotify.add_watch(dir.path(), WatchFlags::CREATE)?;
//! let timer = TimerFd::new()?;
//! timer.set_after(Duration::from_millis(1), Duration::ZERO)?;
//! let counter = EventFd::new(0)?;
//! counter.write(1)?;
//!
//! let ep = epoll::create(epoll::CreateFlags::CLOEXEC)?;
//! epoll::add(&ep, &inotify, epoll::EventData::new_u64(1), epoll::EventFlags::IN)?;
//! epoll::add(&ep, &timer, epoll::EventData::new_u64(2), epoll::EventFlags::IN)?;
//! epoll::add(&ep, &counter, epoll::EventData::new_u64(3), epoll::EventFlags::IN)?;
//! std::fs::File::create(dir.path().join("new"))?;
//!
//! let (mut seen, mut buf) = (Vec::new(), [0_u8; 4096]);
//! let mut ready = Vec::with_capacity(8);
//! while seen.len() < 3 {
//!     ready.clear();
//!     epoll::wait(&ep, spare_capacity(&mut ready), None)?;
//!     for ev in &ready {
//!         match ev.data.u64() {
//!             1 => inotify.drain(&mut buf, |_| ()).map(drop)?,
//!             2 => timer.read().map(drop)?,
//!             _ => counter.read().map(drop)?,
//!         }
//!         seen.push(ev.data.u64());
//!     }
//! }
//! seen.sort();
//! assert_eq!(seen, [1, 2, 3]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
//!   subslices. The one exception is measured and fenced: the inotify
//!   name scan compares a borrowed `&[u8; 16]` with SSE2 on `x86_64` and
//!   NEON on little-endian `aarch64` (each part of its target's
//!   baseline), 28 instead of 47
//!   instructions per inotify event on `x86_64` and 30 instead of 42 on
//!   aarch64 (`sh benches/aarch64-scan.sh`); a safe twin is compiled
//!   everywhere else and the tests check they agree.
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
mod reader;
mod shared;
// Until every subsystem that needs it has landed, parts of it are unused.
pub mod aio;
pub mod eventfd;
pub mod hostname;
#[cfg(feature = "mio")]
mod mio;
pub mod mount;
pub mod pipe;
pub mod process;
#[allow(dead_code)]
mod raw;
mod record;
pub mod seccomp;
pub mod signal;
pub mod signalfd;
pub mod timerfd;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;
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
