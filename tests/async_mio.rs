//! `mio::event::Source` for every descriptor object: one `Poll` over all of
//! them at once, edge-triggered, with reregister and deregister. Needs
//! `--features mio` (CI: `--all-features`).
#![cfg(feature = "mio")]

mod util;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kernfd::Errno;
use kernfd::eventfd::EventFd;
use kernfd::fanotify::{EventFlags as FanFlags, InitFlags as FanInit, MarkType};
use kernfd::inotify::{Inotify, WatchFlags};
use kernfd::signal::{self, SigSet, Signal};
use kernfd::signalfd::SignalFd;
use kernfd::timerfd::TimerFd;
use mio::{Events, Interest, Poll, Token};

/// Polls until every token in `want` was seen (or 5 s pass); returns the
/// tokens seen, readable ones only.
fn poll_for(poll: &mut Poll, want: &BTreeSet<usize>) -> BTreeSet<usize> {
    let mut events = Events::with_capacity(16);
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !want.is_subset(&seen) && Instant::now() < deadline {
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        for event in &events {
            assert!(event.is_readable(), "{event:?}");
            seen.insert(event.token().0);
        }
    }
    seen
}

/// Whether a zero-timeout poll reports nothing.
fn quiet(poll: &mut Poll) -> bool {
    let mut events = Events::with_capacity(16);
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    events.is_empty()
}

#[test]
#[allow(clippy::too_many_lines)] // one scenario: register, fire, drain, rearm, deregister
fn one_poll_over_every_object() {
    // A child: it blocks signals and, as root, mounts a tmpfs for fanotify.
    let parent = if util::is_root() {
        util::in_mount_ns()
    } else {
        util::in_child("one_poll_over_every_object")
    };
    if parent {
        return;
    }
    let mut poll = Poll::new().unwrap();
    let registry = poll.registry().try_clone().unwrap();

    let dir = util::tempdir();
    let mut inotify = Inotify::new().unwrap();
    inotify.set_nonblocking(true).unwrap();
    util::within_inotify_limits(inotify.add_watch(dir.path(), WatchFlags::CREATE));
    registry
        .register(&mut inotify, Token(1), Interest::READABLE)
        .unwrap();

    let mut timer = TimerFd::new().unwrap();
    timer.set_nonblocking(true).unwrap();
    registry
        .register(&mut timer, Token(2), Interest::READABLE)
        .unwrap();

    let mut counter = EventFd::new(0).unwrap();
    counter.set_nonblocking(true).unwrap();
    registry
        .register(&mut counter, Token(3), Interest::READABLE)
        .unwrap();

    signal::block(&SigSet::from(Signal::USR1)).unwrap();
    let mut signals = SignalFd::new(&SigSet::from(Signal::USR1)).unwrap();
    signals.set_nonblocking(true).unwrap();
    registry
        .register(&mut signals, Token(4), Interest::READABLE)
        .unwrap();

    // fanotify needs CAP_SYS_ADMIN in the initial user namespace.
    let fanotify = if util::is_root() {
        util::fanotify::watched_tmpfs(FanInit::CLASS_NOTIF, MarkType::Mount, FanFlags::CLOSE_WRITE)
    } else {
        Err("fanotify needs CAP_SYS_ADMIN".to_owned())
    };
    let mut fan = match fanotify {
        Ok((tmpfs, mut fan)) => {
            fan.set_nonblocking(true).unwrap();
            registry
                .register(&mut fan, Token(5), Interest::READABLE)
                .unwrap();
            Some((tmpfs, fan))
        }
        Err(why) => {
            util::skipped(
                "one_poll_over_every_object",
                &format!("(fanotify part only) {why}"),
            );
            None
        }
    };

    assert!(quiet(&mut poll), "nothing happened yet");
    std::fs::File::create(dir.path().join("new")).unwrap();
    timer
        .set_after(Duration::from_millis(1), Duration::ZERO)
        .unwrap();
    counter.write(3).unwrap();
    signal::raise(Signal::USR1).unwrap();
    let mut want: BTreeSet<usize> = [1, 2, 3, 4].into();
    if let Some((tmpfs, _)) = &fan {
        std::fs::write(tmpfs.path().join("x"), b"1").unwrap();
        want.insert(5);
    }
    assert_eq!(poll_for(&mut poll, &want), want);

    // Edge-triggered: drain each until EAGAIN; nothing more is reported.
    let mut buf = [0_u8; 4096];
    assert_eq!(inotify.read(&mut buf).unwrap().count(), 1);
    assert_eq!(
        inotify.read(&mut buf).unwrap_err().errno(),
        Some(Errno::AGAIN)
    );
    assert!(timer.read().is_ok());
    assert_eq!(counter.read().unwrap(), 3);
    assert_eq!(signals.read(&mut buf).unwrap().count(), 1);
    if let Some((_, fan)) = &fan {
        let mut buf = [0_u8; 4096];
        assert_eq!(fan.read(&mut buf).unwrap().count(), 1);
    }
    assert!(quiet(&mut poll), "every queue is empty");

    // A second round after the drain is reported again.
    counter.write(1).unwrap();
    assert_eq!(poll_for(&mut poll, &[3].into()), [3].into());
    assert_eq!(counter.read().unwrap(), 1);

    // Reregister: the eventfd for writable, under a new token.
    registry
        .reregister(&mut counter, Token(30), Interest::WRITABLE)
        .unwrap();
    let mut events = Events::with_capacity(4);
    poll.poll(&mut events, Some(Duration::from_secs(1)))
        .unwrap();
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.token(), e.is_writable()))
        .collect();
    assert_eq!(got, [(Token(30), true)]);

    // Deregister every one: later events are not reported.
    registry.deregister(&mut inotify).unwrap();
    registry.deregister(&mut timer).unwrap();
    registry.deregister(&mut counter).unwrap();
    registry.deregister(&mut signals).unwrap();
    if let Some((_, fan)) = &mut fan {
        registry.deregister(fan).unwrap();
    }
    std::fs::File::create(dir.path().join("later")).unwrap();
    counter.write(1).unwrap();
    timer
        .set_after(Duration::from_millis(1), Duration::ZERO)
        .unwrap();
    signal::raise(Signal::USR1).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert!(quiet(&mut poll), "deregistered");
    assert_eq!(
        inotify.read(&mut buf).unwrap().count(),
        1,
        "the event is still queued"
    );
    assert_eq!(counter.read().unwrap(), 1);
}

#[test]
fn register_twice_is_eexist_and_deregister_unregistered_is_enoent() {
    let poll = Poll::new().unwrap();
    let mut counter = EventFd::new(0).unwrap();
    poll.registry()
        .register(&mut counter, Token(0), Interest::READABLE)
        .unwrap();
    let e = poll
        .registry()
        .register(&mut counter, Token(1), Interest::READABLE)
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
    let mut other = TimerFd::new().unwrap();
    let e = poll.registry().deregister(&mut other).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    let e = poll
        .registry()
        .reregister(&mut other, Token(2), Interest::READABLE)
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
}

#[test]
fn a_tree_and_a_seccomp_listener_in_one_poll() {
    use kernfd::inotify::{Tree, TreeItem};
    use kernfd::seccomp::{
        self, Action, Arch, Builder, FilterFlags, Instruction, Listener, NOTIF_LEN, Response,
        SyscallRule,
    };
    // A child: the listener's filter is installed on one of its threads.
    if util::in_child("a_tree_and_a_seccomp_listener_in_one_poll") {
        return;
    }
    let mut poll = Poll::new().unwrap();
    let registry = poll.registry().try_clone().unwrap();

    let dir = util::tempdir();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let mut tree = util::within_inotify_limits(Tree::new(dir.path(), WatchFlags::CREATE));
    tree.inotify().set_nonblocking(true).unwrap();
    registry
        .register(&mut tree, Token(1), Interest::READABLE)
        .unwrap();

    let (tx, rx) = std::sync::mpsc::channel();
    let (go, go_rx) = std::sync::mpsc::channel::<()>();
    let getppid = Arch::native().syscall("getppid").unwrap();
    let target = std::thread::spawn(move || {
        let mut st = [Instruction::default(); 64];
        let f = Builder::new(Arch::native(), Action::Allow)
            .build(&[SyscallRule::new(getppid, Action::UserNotif)], &mut st)
            .unwrap();
        seccomp::set_no_new_privs().unwrap();
        let installed = f.install_listener(FilterFlags::empty());
        let ok = installed.is_ok();
        tx.send(installed).unwrap();
        if ok {
            go_rx.recv().unwrap();
            // SAFETY: no memory is touched.
            unsafe { libc::syscall(libc::SYS_getppid) }
        } else {
            0
        }
    });
    let mut listener: Listener = match rx.recv().unwrap() {
        Ok(l) => l,
        Err(e) => {
            target.join().unwrap();
            skip!("seccomp user notification unavailable: {e}");
        }
    };
    listener.set_nonblocking(true).unwrap();
    registry
        .register(&mut listener, Token(2), Interest::READABLE)
        .unwrap();

    assert!(quiet(&mut poll), "nothing happened yet");
    std::fs::File::create(dir.path().join("sub/new")).unwrap();
    go.send(()).unwrap();
    let want: BTreeSet<usize> = [1, 2].into();
    assert_eq!(poll_for(&mut poll, &want), want);

    // Drain each until EAGAIN.
    let mut buf = [0_u8; 4096];
    let mut paths = Vec::new();
    let n: usize = tree
        .read(&mut buf, |item| {
            if let TreeItem::Event(e) = item {
                paths.push(e.path_bytes().to_vec());
            }
        })
        .map_err(|e: kernfd::Error| e)
        .unwrap();
    assert_eq!((n, paths), (1, vec![b"sub/new".to_vec()]));
    let e: kernfd::Error = tree.read(&mut buf, |_| ()).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::AGAIN));
    let mut nbuf = [0_u8; NOTIF_LEN];
    let n = listener.recv(&mut nbuf).unwrap();
    assert_eq!(
        listener.recv(&mut nbuf).unwrap_err().errno(),
        Some(Errno::AGAIN)
    );
    assert!(quiet(&mut poll), "every queue is empty");
    listener.respond(n.id(), Response::Value(5)).unwrap();
    assert_eq!(target.join().unwrap(), 5);
    // The filter's last thread is gone: the listener hangs up.
    let mut events = Events::with_capacity(4);
    poll.poll(&mut events, Some(Duration::from_secs(5)))
        .unwrap();
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.token(), e.is_read_closed()))
        .collect();
    assert_eq!(got, [(Token(2), true)]);

    // Deregistered: later events are not reported.
    registry.deregister(&mut tree).unwrap();
    registry.deregister(&mut listener).unwrap();
    std::fs::File::create(dir.path().join("sub/later")).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert!(quiet(&mut poll), "deregistered");
}
