//! One error story: every owned object fails with `kernfd::Error`, which
//! names the failing call, the limit and its sysctl, or the rule broken.

mod util;

use std::io;

use kernfd::eventfd::EventFd;
use kernfd::fanotify::{EventFlags, Fanotify, InitFlags, MarkType};
use kernfd::inotify::{Inotify, WatchFlags};
use kernfd::signal::{SigSet, Signal};
use kernfd::signalfd::SignalFd;
use kernfd::timerfd::TimerFd;
use kernfd::{Errno, Error, Limit, Rule};

#[test]
fn kernel_errors_name_the_call() {
    let inotify = Inotify::new().unwrap();
    let e = inotify
        .add_watch("/no/such/path", WatchFlags::CREATE)
        .unwrap_err();
    assert_eq!(e, Error::os("inotify_add_watch", Errno::NOENT));
    assert_eq!(
        e.to_string(),
        "inotify_add_watch: No such file or directory (os error 2)"
    );
    assert_eq!(e.call(), Some("inotify_add_watch"));
    assert_eq!(e.errno(), Some(Errno::NOENT));
    // Debug is flat: one level, named fields.
    assert_eq!(
        format!("{e:?}"),
        format!(
            "Os {{ call: \"inotify_add_watch\", errno: {:?} }}",
            Errno::NOENT
        )
    );
    // std::io::Error keeps the kind and the whole message.
    let io = io::Error::from(e);
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
    assert!(io.to_string().starts_with("inotify_add_watch: "));
    assert_eq!(
        io.get_ref().and_then(|e| e.downcast_ref::<Error>()),
        Some(&e)
    );
    assert_eq!(
        inotify.rm_watch(4242),
        Err(Error::os("inotify_rm_watch", Errno::INVAL))
    );
}

#[test]
fn every_object_returns_the_same_error_type() {
    // One function, five facilities, one `?`.
    fn all() -> Result<(), Error> {
        let inotify = Inotify::new()?;
        inotify.set_nonblocking(true)?;
        let timer = TimerFd::new()?;
        timer.set_nonblocking(true)?;
        let counter = EventFd::new(0)?;
        counter.set_nonblocking(true)?;
        let mut buf = [0_u8; 4096];
        assert_eq!(
            inotify.read(&mut buf).map(|_| ()),
            Err(Error::os("read", Errno::AGAIN))
        );
        assert_eq!(timer.read(), Err(Error::os("read", Errno::AGAIN)));
        assert_eq!(counter.read(), Err(Error::os("read", Errno::AGAIN)));
        std::thread::spawn(|| {
            let set = SigSet::from(Signal::USR2);
            kernfd::signal::block(&set)?;
            let sfd = SignalFd::new(&set)?;
            sfd.set_nonblocking(true)?;
            let mut buf = [0_u8; 128];
            assert_eq!(
                sfd.read(&mut buf).map(|_| ()),
                Err(Error::os("read", Errno::AGAIN))
            );
            Ok::<(), Error>(())
        })
        .join()
        .unwrap()?;
        Ok(())
    }
    all().unwrap();
}

#[test]
fn refusals_say_why_and_map_to_the_kernels_errno() {
    let inotify = Inotify::new().unwrap();
    let mut small = [0_u8; 16];
    let e = inotify.read(&mut small).unwrap_err();
    assert_eq!(
        e,
        Error::BufferTooSmall {
            len: 16,
            needed: kernfd::inotify::MIN_BUFFER_LEN
        }
    );
    assert_eq!(e.errno(), Some(Errno::INVAL));
    assert_eq!(e.call(), None);
    assert!(e.to_string().contains("272"), "{e}");
    assert_eq!(
        io::Error::from(e).kind(),
        io::ErrorKind::InvalidInput,
        "EINVAL's kind"
    );

    let limit = Error::Limit {
        call: "inotify_add_watch",
        limit: Limit::InotifyWatches,
    };
    assert_eq!(limit.errno(), Some(Errno::NOSPC));
    assert_eq!(
        limit.to_string(),
        "inotify_add_watch: inotify watch limit reached (ENOSPC): raise /proc/sys/fs/inotify/max_user_watches"
    );
    assert_eq!(
        Limit::FanotifyGroups.sysctl(),
        "/proc/sys/fs/fanotify/max_user_groups"
    );
}

/// Flag combinations the kernel answers with a bare `EINVAL` are refused
/// first, naming the rule.
#[test]
fn fanotify_rules_are_named() {
    assert_eq!(
        Fanotify::new(InitFlags::REPORT_NAME).unwrap_err(),
        Error::Rule(Rule::FanotifyNameNeedsDirFid)
    );
    assert_eq!(
        Fanotify::new(InitFlags::REPORT_TARGET_FID | InitFlags::REPORT_FID).unwrap_err(),
        Error::Rule(Rule::FanotifyTargetFidNeedsAll)
    );
    let rule = Error::Rule(Rule::FanotifyNameNeedsDirFid);
    assert_eq!(rule.errno(), Some(Errno::INVAL));
    assert_eq!(
        rule.to_string(),
        "fanotify: REPORT_NAME needs REPORT_DIR_FID"
    );
    // Groups need CAP_SYS_ADMIN in fd mode; FID mode works unprivileged
    // (Linux 5.13), so at least the FID half runs for everyone.
    let dir = util::tempdir();
    if let Ok(fan) = Fanotify::new(InitFlags::CLASS_NOTIF) {
        assert_eq!(
            fan.add(MarkType::Inode, EventFlags::CREATE, dir.path()),
            Err(Error::Rule(Rule::FanotifyEventsNeedFid))
        );
        assert_eq!(
            fan.add(MarkType::Inode, EventFlags::OPEN_PERM, dir.path()),
            Err(Error::Rule(Rule::FanotifyPermissionNeedsContentClass))
        );
        // The kernel agrees: the bare call gets its EINVAL.
        assert_eq!(
            kernfd::fanotify::mark(
                &fan,
                kernfd::fanotify::MarkFlags::ADD,
                EventFlags::CREATE,
                rustix::fs::CWD,
                dir.path()
            ),
            Err(Errno::INVAL)
        );
    } else {
        eprintln!("SKIPPED fd-mode half of fanotify_rules_are_named: needs CAP_SYS_ADMIN");
    }
    match Fanotify::new(InitFlags::REPORT_DFID_NAME) {
        Ok(fan) => {
            fan.add(MarkType::Inode, EventFlags::CREATE, dir.path())
                .unwrap();
            assert_eq!(
                fan.add(MarkType::Inode, EventFlags::OPEN_PERM, dir.path()),
                Err(Error::Rule(Rule::FanotifyPermissionNeedsContentClass))
            );
        }
        Err(e) => eprintln!("SKIPPED FID half of fanotify_rules_are_named: {e}"),
    }
}
