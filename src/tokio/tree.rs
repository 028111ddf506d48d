//! The recursive tree watcher, async: [`AsyncTree`] and its [`TreeStream`].
//!
//! A [`Tree`] updates itself as it reads (`read` takes `&mut self`), so it
//! is wrapped on its own rather than as a shared [`Async`](super::Async):
//! its async calls take `&mut self` too, through `AsyncFd::get_mut`.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::pin::Pin;
use core::task::{Context, Poll};

use ::tokio::io::unix::AsyncFd;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use rustix::io::Errno;

use super::from_io;
use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::inotify::{DEFAULT_BUFFER_LEN, EventFlags, Inotify, Tree, TreeItem};
use crate::wait::Flow;

/// A [`Tree`] as tokio's `AsyncFd` needs it: its inotify's raw descriptor.
#[derive(Debug)]
struct Registered(Tree);

impl AsRawFd for Registered {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// A recursive [`Tree`] watcher registered with the tokio reactor.
///
/// [`read`](Self::read) awaits the tree's inotify instance and hands every
/// item of one read to a callback, exactly as [`Tree::read`] does (the
/// same borrowed [`TreeItem`]s, the tree updated on the way);
/// [`stream`](Self::stream) gives owned items instead. Reach
/// [`Tree::rescan`] and the other calls through
/// [`get_mut`](Self::get_mut).
///
/// There is no one-item-at-a-time reader: a read's items are handed out as
/// the tree applies them (each path is built in the tree's scratch buffer),
/// so they cannot wait in a buffer; the [`TreeStream`] queues owned copies.
///
/// # Example
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use kernfd::inotify::{Tree, TreeItem, WatchFlags};
/// use kernfd::tokio::AsyncTree;
///
/// let dir = tempfile::tempdir()?;
/// let mut tree = AsyncTree::new(Tree::new(dir.path(), WatchFlags::CREATE)?)?;
/// std::fs::create_dir_all(dir.path().join("a/b"))?;
/// std::fs::write(dir.path().join("a/b/f"), b"")?;
/// let mut buf = [0_u8; 4096];
/// let mut paths = Vec::new();
/// while !paths.iter().any(|p| p == "a/b/f") {
///     // The callback returns `()`: name the error type `read` returns.
///     tree.read::<_, kernfd::Error, _>(&mut buf, |item| {
///         if let TreeItem::Event(e) = item {
///             paths.push(e.path().display().to_string());
///         }
///     })
///     .await?;
/// }
/// assert_eq!(paths[0], "a");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncTree {
    fd: AsyncFd<Registered>,
    was_nonblocking: bool,
}

/// One non-blocking read of `tree`, applied: `None` when the kernel said
/// `EAGAIN` (nothing was consumed).
fn attempt<B, E, R>(
    tree: &mut Tree,
    buf: &mut B,
    f: &mut impl FnMut(TreeItem<'_>) -> R,
) -> Option<core::result::Result<usize, E>>
where
    B: Buffer + ?Sized,
    E: From<Error>,
    R: Flow<E>,
{
    let inotify = tree.inotify();
    if !inotify.is_nonblocking() {
        if let Err(e) = inotify.set_nonblocking(true) {
            return Some(Err(e.into()));
        }
    }
    match inotify.read(buf) {
        Err(Error::Os { errno, .. }) if errno == Errno::AGAIN => None,
        Err(e) => Some(Err(e.into())),
        Ok(events) => Some(tree.apply(events, f)),
    }
}

impl AsyncTree {
    /// Registers `tree`'s inotify instance with the current tokio
    /// runtime's reactor and switches its mode to non-blocking.
    ///
    /// # Errors
    /// As [`Async::new`](super::Async::new); the tree is dropped then.
    ///
    /// # Panics
    /// Inside a runtime built without `enable_io` (tokio's own panic).
    pub fn new(tree: Tree) -> Result<Self> {
        if ::tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::Os {
                call: "tokio",
                errno: Errno::IO,
            });
        }
        let inotify = tree.inotify();
        let was_nonblocking = inotify.is_nonblocking();
        inotify.set_nonblocking(true)?;
        // SAFETY: the tree owns its inotify descriptor, closes it only when
        // dropped, and `Registered::as_raw_fd` always returns that one.
        let fd = unsafe { AsyncFd::register(Registered(tree)) }
            .map_err(|e| from_io(&e.into_parts().1))?;
        Ok(Self {
            fd,
            was_nonblocking,
        })
    }

    /// The tree.
    #[must_use]
    pub fn get_ref(&self) -> &Tree {
        &self.fd.get_ref().0
    }

    /// The tree, mutably: for [`Tree::rescan`] after a
    /// [`TreeItem::RescanNeeded`]. Keep its inotify non-blocking (the next
    /// async call switches it back if not).
    #[must_use]
    pub fn get_mut(&mut self) -> &mut Tree {
        &mut self.fd.get_mut().0
    }

    /// The tree's inotify instance.
    #[must_use]
    pub fn inotify(&self) -> &Inotify {
        self.get_ref().inotify()
    }

    /// Deregisters the tree and gives it back, its inotify in the mode it
    /// had.
    ///
    /// # Errors
    /// None in practice (restoring the mode is an atomic store).
    pub fn into_inner(self) -> Result<Tree> {
        let tree = self.fd.into_inner().0;
        tree.inotify().set_nonblocking(self.was_nonblocking)?;
        Ok(tree)
    }

    /// [`Tree::read`], awaiting the first event: reads once into `buf`,
    /// applies every event to the tree and hands each item to `f`; returns
    /// how many it handed over (possibly 0, when the read held only
    /// events the tree consumes itself, such as `IGNORED`).
    ///
    /// # Cancellation safety
    /// Cancellation safe: the read, and the handing out of its items,
    /// happen only in the poll that returns `Ready`, so a future dropped
    /// while pending consumed no event.
    ///
    /// # Errors
    /// As [`Tree::read`] (never `EAGAIN`); tokio errors as in
    /// [`Async::new`](super::Async::new); whatever `f` returns.
    pub async fn read<B, E, R>(
        &mut self,
        buf: &mut B,
        mut f: impl FnMut(TreeItem<'_>) -> R,
    ) -> core::result::Result<usize, E>
    where
        B: Buffer + ?Sized,
        E: From<Error>,
        R: Flow<E>,
    {
        // Try first: checks that come before any syscall (a short buffer)
        // fail at once.
        if let Some(got) = attempt(&mut self.fd.get_mut().0, buf, &mut f) {
            return got;
        }
        loop {
            let mut guard = self
                .fd
                .readable_mut()
                .await
                .map_err(|e| E::from(from_io(&e)))?;
            if let Some(got) = attempt(&mut guard.get_inner_mut().0, buf, &mut f) {
                return got;
            }
            guard.clear_ready();
        }
    }

    /// A [`TreeStream`] of owned items ([`OwnedTreeItem`]), read through
    /// a buffer of [`DEFAULT_BUFFER_LEN`] bytes.
    ///
    /// # Cancellation safety
    /// Cancellation safe: see [`TreeStream`].
    ///
    /// # Example
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_core::Stream as _;
    /// use kernfd::inotify::{EventFlags, Tree, WatchFlags};
    /// use kernfd::tokio::{AsyncTree, OwnedTreeItem};
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir(dir.path().join("sub"))?;
    /// let mut tree = AsyncTree::new(Tree::new(dir.path(), WatchFlags::CLOSE_WRITE)?)?;
    /// let mut items = tree.stream();
    /// std::fs::write(dir.path().join("sub/f"), b"x")?;
    /// let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut items).poll_next(cx));
    /// let Some(Ok(OwnedTreeItem::Event(e))) = next.await else { panic!() };
    /// assert_eq!((e.path.as_slice(), e.mask), (&b"sub/f"[..], EventFlags::CLOSE_WRITE));
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn stream(&mut self) -> TreeStream<'_> {
        TreeStream {
            tree: self,
            buf: alloc::vec![0; DEFAULT_BUFFER_LEN],
            queue: VecDeque::new(),
        }
    }
}

impl AsRawFd for AsyncTree {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for AsyncTree {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

/// An owned [`TreeEvent`](crate::inotify::TreeEvent), as [`TreeStream`]
/// yields it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OwnedTreeEvent {
    /// The path relative to the root, as bytes (empty for the root):
    /// [`TreeEvent::path_bytes`](crate::inotify::TreeEvent::path_bytes).
    pub path: Vec<u8>,
    /// What happened ([`TreeEvent::mask`](crate::inotify::TreeEvent::mask)).
    pub mask: EventFlags,
    /// Ties a `MOVED_FROM` to its `MOVED_TO`; 0 otherwise.
    pub cookie: u32,
    /// Found by listing a directory rather than reported by the kernel
    /// ([`TreeEvent::found_by_scan`](crate::inotify::TreeEvent::found_by_scan)).
    pub found_by_scan: bool,
}

impl OwnedTreeEvent {
    /// The path relative to the root, as a `Path`.
    #[must_use]
    pub fn path(&self) -> &std::path::Path {
        use std::os::unix::ffi::OsStrExt;
        std::path::Path::new(std::ffi::OsStr::from_bytes(&self.path))
    }
}

/// An owned [`TreeItem`], as [`TreeStream`] yields it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OwnedTreeItem {
    /// An event, with its path.
    Event(OwnedTreeEvent),
    /// A directory that could not be watched ([`TreeItem::Unwatched`]).
    Unwatched {
        /// The directory, relative to the root.
        path: Vec<u8>,
        /// Why it could not be watched.
        error: Error,
    },
    /// The kernel's queue overflowed: call [`TreeStream::rescan`].
    RescanNeeded,
}

impl From<TreeItem<'_>> for OwnedTreeItem {
    fn from(item: TreeItem<'_>) -> Self {
        match item {
            TreeItem::Event(e) => Self::Event(OwnedTreeEvent {
                path: e.path_bytes().to_vec(),
                mask: e.mask(),
                cookie: e.cookie(),
                found_by_scan: e.found_by_scan(),
            }),
            TreeItem::Unwatched { path, error } => Self::Unwatched {
                path: path.to_vec(),
                error,
            },
            TreeItem::RescanNeeded => Self::RescanNeeded,
        }
    }
}

/// A `futures_core::Stream` of owned tree items, made by
/// [`AsyncTree::stream`].
///
/// It owns a read buffer and a queue: each read is applied to the tree and
/// its items turned into owned ones at once, so dropping a pending `next()`
/// (or the stream between items) loses nothing that was read — only the
/// queued items of a dropped stream go with it. It allocates per item (the
/// owned path).
///
/// It never ends: an error from a read is yielded as an item and the next
/// poll reads again. After an [`OwnedTreeItem::RescanNeeded`], call
/// [`rescan`](Self::rescan): its items join the queue.
#[derive(Debug)]
pub struct TreeStream<'a> {
    tree: &'a mut AsyncTree,
    buf: Vec<u8>,
    queue: VecDeque<OwnedTreeItem>,
}

impl TreeStream<'_> {
    /// The tree.
    #[must_use]
    pub fn tree(&self) -> &Tree {
        self.tree.get_ref()
    }

    /// [`Tree::rescan`], its items queued after those already queued;
    /// returns how many it queued.
    ///
    /// # Errors
    /// As [`Tree::rescan`].
    pub fn rescan(&mut self) -> Result<usize> {
        let queue = &mut self.queue;
        self.tree
            .get_mut()
            .rescan(|item| queue.push_back(item.into()))
    }
}

impl futures_core::Stream for TreeStream<'_> {
    type Item = Result<OwnedTreeItem>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.queue.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            let mut guard = match this.tree.fd.poll_read_ready_mut(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(from_io(&e)))),
                Poll::Ready(Ok(guard)) => guard,
            };
            let queue = &mut this.queue;
            let got = attempt(
                &mut guard.get_inner_mut().0,
                this.buf.as_mut_slice(),
                &mut |item: TreeItem<'_>| queue.push_back(item.into()),
            );
            match got {
                None => guard.clear_ready(),
                Some(Err::<usize, Error>(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(_)) => {}
            }
        }
    }
}
