//! Butter's one-event-at-a-time readers, for inotify, fanotify and
//! signalfd, against the real kernel; and events that print.

mod util;

use std::fs;
use std::time::{Duration, Instant};

use kernfd::fanotify::{self, EventFlags, Fanotify, InitFlags, MarkType};
use kernfd::inotify::{self, Inotify, WatchFlags};
use kernfd::signal::{self, SigSet, Signal};
use kernfd::signalfd::{self, SignalFd};
use kernfd::wait::Wait;
use kernfd::{Errno, Error};

#[global_allocator]
static ALLOC: util::CountingAlloc = util::CountingAlloc;

#[test]
fn inotify_reader_hands_out_one_event_at_a_time_across_reads() {
    let dir = util::tempdir();
    let ino = Inotify::new().unwrap();
    ino.add_watch(dir.path(), WatchFlags::CREATE).unwrap();
    for name in ["a", "b", "c"] {
        fs::File::create(dir.path().join(name)).unwrap();
    }
    // Room for exactly one event with its longest name: one read per event.
    let mut small = [0_u8; inotify::MIN_BUFFER_LEN];
    let mut reader = inotify::Reader::new(&ino, &mut small).unwrap();
    let mut names = Vec::new();
    for _ in 0..3 {
        let event = reader.read_event().unwrap().unwrap();
        names.push(event.name_bytes().to_vec());
    }
    assert_eq!(names, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(reader.buffered(), 0);

    // A large buffer: one read, three events handed out from it.
    for name in ["d", "e", "f"] {
        fs::File::create(dir.path().join(name)).unwrap();
    }
    let mut big = [0_u8; 4096];
    let mut reader = inotify::Reader::new(&ino, &mut big).unwrap();
    assert_eq!(reader.read_event().unwrap().unwrap().name_bytes(), b"d");
    assert_eq!(reader.buffered(), 2 * 32, "two 32-byte records left");
    // read_events: the rest of the buffered ones, without a read.
    let rest: Vec<_> = reader
        .read_events()
        .unwrap()
        .map(|e| e.unwrap().name_bytes().to_vec())
        .collect();
    assert_eq!(rest, [b"e".to_vec(), b"f".to_vec()]);
    assert_eq!(reader.buffered(), 0);
    // Nothing queued: the bounded wait ends with None...
    let t = Instant::now();
    assert!(
        reader
            .read_event_wait(Wait::new().timeout(Duration::from_millis(20)))
            .unwrap()
            .is_none()
    );
    assert!(t.elapsed() >= Duration::from_millis(20));
    // ...and a non-blocking instance says EAGAIN.
    ino.set_nonblocking(true).unwrap();
    assert_eq!(
        reader.read_event().map(|_| ()),
        Err(Error::os("read", Errno::AGAIN))
    );
    // A fresh read after that works again.
    fs::File::create(dir.path().join("g")).unwrap();
    assert_eq!(reader.read_event().unwrap().unwrap().name_bytes(), b"g");
}

#[test]
fn inotify_reader_refuses_a_short_buffer_and_reports_eof() {
    let ino = Inotify::new().unwrap();
    let mut short = [0_u8; 100];
    assert!(matches!(
        inotify::Reader::new(&ino, &mut short),
        Err(Error::BufferTooSmall { len: 100, .. })
    ));
    let null = Inotify::from(rustix::fd::OwnedFd::from(
        fs::File::open("/dev/null").unwrap(),
    ));
    let mut buf = [0_u8; 4096];
    let mut reader = inotify::Reader::new(&null, &mut buf).unwrap();
    assert_eq!(
        reader.read_event().map(|_| ()),
        Err(Error::EndOfFile { call: "read" })
    );
}

#[test]
fn steady_state_reading_allocates_nothing() {
    let dir = util::tempdir();
    let ino = Inotify::new().unwrap();
    ino.add_watch(dir.path(), WatchFlags::CREATE).unwrap();
    for i in 0..200 {
        fs::File::create(dir.path().join(format!("f{i}"))).unwrap();
    }
    let mut buf = vec![0_u8; 4096];
    let (n, allocs) = util::count_allocs(|| {
        let mut reader = inotify::Reader::new(&ino, &mut buf).unwrap();
        let mut n = 0;
        while let Some(item) = reader
            .read_event_wait(Wait::new().timeout(Duration::ZERO))
            .unwrap()
        {
            assert!(!item.unwrap().name_bytes().is_empty());
            n += 1;
        }
        n
    });
    assert_eq!(n, 200);
    assert_eq!(allocs, 0, "the reader allocated");
}

#[test]
fn signalfd_reader_reads_one_record_at_a_time() {
    std::thread::spawn(|| {
        let set = SigSet::from([Signal::USR1, Signal::USR2, Signal::HUP]);
        signal::block(&set).unwrap();
        let sfd = SignalFd::new(&set).unwrap();
        signal::raise(Signal::HUP).unwrap();
        signal::raise(Signal::USR1).unwrap();
        signal::raise(Signal::USR2).unwrap();
        let mut buf = [0_u8; 8 * signalfd::SIGINFO_LEN];
        let mut reader = signalfd::Reader::new(&sfd, &mut buf).unwrap();
        let first = reader.read_event().unwrap().unwrap();
        assert_eq!(first.signal(), Some(Signal::HUP));
        assert_eq!(reader.buffered(), 2 * signalfd::SIGINFO_LEN);
        let rest: Vec<_> = reader
            .read_events()
            .unwrap()
            .map(|i| i.unwrap().signal().unwrap())
            .collect();
        assert_eq!(rest, [Signal::USR1, Signal::USR2]);
        assert!(
            reader
                .read_event_wait(Wait::new().timeout(Duration::from_millis(5)))
                .unwrap()
                .is_none()
        );
        let mut short = [0_u8; 64];
        assert!(matches!(
            signalfd::Reader::new(&sfd, &mut short),
            Err(Error::BufferTooSmall { len: 64, .. })
        ));
    })
    .join()
    .unwrap();
}

/// FID mode with an inode mark needs no privilege (Linux 5.13).
fn fid_group(dir: &std::path::Path) -> Option<Fanotify> {
    match Fanotify::new(InitFlags::REPORT_DFID_NAME) {
        Ok(fan) => {
            fan.add(
                MarkType::Inode,
                EventFlags::CREATE | EventFlags::DELETE | EventFlags::ONDIR,
                dir,
            )
            .unwrap();
            Some(fan)
        }
        Err(e) => {
            eprintln!("SKIPPED fanotify FID group: {e}");
            None
        }
    }
}

#[test]
fn fanotify_reader_and_events_that_print() {
    let dir = util::tempdir();
    let Some(fan) = fid_group(dir.path()) else {
        return;
    };
    fs::File::create(dir.path().join("first")).unwrap();
    fs::create_dir(dir.path().join("second\u{1}")).unwrap();
    let mut buf = [0_u8; fanotify::DEFAULT_BUFFER_LEN];
    let mut reader = fanotify::Reader::new(&fan, &mut buf).unwrap();
    let one = reader.read_event().unwrap().unwrap();
    assert_eq!(one.mask(), EventFlags::CREATE);
    let line = one.to_string();
    assert!(
        line.starts_with(&format!(
            "Event(mask=CREATE, pid={}, DFID_NAME(fsid=",
            std::process::id()
        )),
        "{line}"
    );
    assert!(line.ends_with(", name='first'))"), "{line}");
    drop(one);
    let two = reader
        .read_event_wait(Wait::new().timeout(Duration::from_secs(5)))
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(two.mask(), EventFlags::CREATE | EventFlags::ONDIR);
    assert!(
        two.to_string().ends_with(", name='second\\x01'))"),
        "non-printable bytes are escaped: {two}"
    );
    assert!(two.to_string().contains("mask=CREATE|ONDIR"));
}

#[test]
fn flags_print_by_name() {
    use kernfd::eventfd::EventFdFlags;
    use kernfd::signalfd::SignalFdFlags;
    use kernfd::timerfd::TimerFdFlags;
    assert_eq!(
        (EventFdFlags::CLOEXEC | EventFdFlags::SEMAPHORE).to_string(),
        "CLOEXEC|SEMAPHORE"
    );
    assert_eq!(SignalFdFlags::NONBLOCK.to_string(), "NONBLOCK");
    assert_eq!(TimerFdFlags::empty().to_string(), "0");
    assert_eq!(
        kernfd::mount::MountFlags::RDONLY.to_string(),
        "RDONLY",
        "mount flags too"
    );
    assert_eq!(
        (kernfd::pipe::SpliceFlags::MOVE | kernfd::pipe::SpliceFlags::MORE).to_string(),
        "MOVE|MORE"
    );
    assert_eq!(kernfd::aio::RwFlags::DSYNC.to_string(), "DSYNC");
    assert_eq!(
        EventFdFlags::from_bits_retain(1 << 30).to_string(),
        "0x40000000",
        "unknown bits in hex"
    );
}
