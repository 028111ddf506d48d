//! `mio::event::Source` for every descriptor object (feature `mio`), through
//! `SourceFd` on its descriptor. kernfd keeps each descriptor `O_NONBLOCK`
//! in the kernel, as mio expects; switch the object's mode to non-blocking
//! too (`set_nonblocking(true)`) so that its reads return `EAGAIN` instead
//! of polling, and read until they do (mio is edge-triggered).

use ::mio::unix::SourceFd;
use ::mio::{Interest, Registry, Token, event::Source};
use rustix::fd::{AsFd, AsRawFd};

/// Implements `Source` for each type, by its raw descriptor.
macro_rules! source {
    ($($ty:ty),* $(,)?) => {$(
        impl Source for $ty {
            fn register(
                &mut self,
                registry: &Registry,
                token: Token,
                interests: Interest,
            ) -> std::io::Result<()> {
                SourceFd(&self.as_fd().as_raw_fd()).register(registry, token, interests)
            }

            fn reregister(
                &mut self,
                registry: &Registry,
                token: Token,
                interests: Interest,
            ) -> std::io::Result<()> {
                SourceFd(&self.as_fd().as_raw_fd()).reregister(registry, token, interests)
            }

            fn deregister(&mut self, registry: &Registry) -> std::io::Result<()> {
                SourceFd(&self.as_fd().as_raw_fd()).deregister(registry)
            }
        }
    )*};
}

source!(
    crate::inotify::Inotify,
    crate::fanotify::Fanotify,
    crate::signalfd::SignalFd,
    crate::timerfd::TimerFd,
    crate::eventfd::EventFd,
    crate::inotify::Tree,
    crate::seccomp::Listener,
);
