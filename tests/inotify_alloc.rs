//! Reading and iterating 100,000 real inotify events allocates nothing.

#[macro_use]
mod util;

use kernfd::inotify::{EventError, Inotify, WatchFlags};
use kernfd::wait::Wait;

#[global_allocator]
static ALLOC: util::CountingAlloc = util::CountingAlloc;

/// The queue length a new inotify instance gets.
const QUEUE_LIMIT: &str = "/proc/sys/fs/inotify/max_queued_events";

#[test]
fn reading_100k_events_allocates_nothing() {
    let dir = util::tempdir();
    // The group copies the queue limit when it is made: read it then, so a
    // program changing it meanwhile cannot overflow a round.
    let (inotify, limit) = util::with_limit(QUEUE_LIMIT, || Inotify::new().unwrap());
    // Each open queues OPEN and CLOSE_NOWRITE: half the queue per round.
    let opens = (limit / 2).min(5_000);
    if opens == 0 {
        skip!("{QUEUE_LIMIT} is {limit}: no room for an open's two events");
    }
    let wd = inotify
        .add_watch(dir.path(), WatchFlags::OPEN | WatchFlags::CLOSE_NOWRITE)
        .unwrap();
    let dirfd = rustix::fs::open(
        dir.path(),
        rustix::fs::OFlags::DIRECTORY,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    let name = c"file-000123.txt";
    drop(
        rustix::fs::openat(
            &dirfd,
            name,
            rustix::fs::OFlags::CREATE | rustix::fs::OFlags::WRONLY,
            rustix::fs::Mode::RUSR,
        )
        .unwrap(),
    );
    inotify.drain(&mut [0_u8; 4096], |_| ()).unwrap();

    let mut buf = [0_u8; 16384];
    let (mut events, mut bytes, mut allocs) = (0_usize, 0_usize, 0_usize);
    while events < 100_000 {
        // 2 * opens events per round (10,000 with the default limit).
        for _ in 0..opens {
            drop(
                rustix::fs::openat(
                    &dirfd,
                    name,
                    rustix::fs::OFlags::RDONLY,
                    rustix::fs::Mode::empty(),
                )
                .unwrap(),
            );
        }
        let ((n, b), a) = util::count_allocs(|| {
            let (mut n, mut b) = (0, 0);
            let wait = Wait::new().timeout(std::time::Duration::ZERO);
            loop {
                let evs = inotify.read_wait(&mut buf, wait).unwrap();
                if evs.is_empty() {
                    break;
                }
                for e in evs {
                    match e {
                        Ok(e) => {
                            assert_eq!(e.wd(), wd);
                            b += e.name_bytes().len() + e.name().unwrap().to_bytes().len();
                            n += 1;
                        }
                        Err(EventError::QueueOverflow) => {
                            panic!("overflow: {QUEUE_LIMIT} was {limit} when the group was made")
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            // drain() too, over an empty queue.
            inotify.drain(&mut buf, |_| n += 1).unwrap();
            (n, b)
        });
        assert_eq!(n, 2 * opens, "{QUEUE_LIMIT} was {limit}");
        events += n;
        bytes += b;
        allocs += a;
    }
    assert_eq!(events, 100_000_usize.div_ceil(2 * opens) * 2 * opens);
    assert_eq!(bytes, events * 2 * name.to_bytes().len());
    assert_eq!(allocs, 0, "allocations while reading");
    // The counter works: an allocation inside is seen.
    let (_, a) = util::count_allocs(|| std::hint::black_box(vec![0_u8; 10]));
    assert!(a >= 1);
}

#[test]
fn parsing_allocates_nothing() {
    let mut bytes = Vec::new();
    for i in 0..1000_u32 {
        bytes.extend_from_slice(&1_i32.to_ne_bytes());
        bytes.extend_from_slice(&256_u32.to_ne_bytes());
        bytes.extend_from_slice(&i.to_ne_bytes());
        bytes.extend_from_slice(&16_u32.to_ne_bytes());
        bytes.extend_from_slice(b"name-0000000000\0");
    }
    let (n, a) = util::count_allocs(|| {
        kernfd::inotify::parse(&bytes)
            .map(|e| e.unwrap().name_bytes().len())
            .sum::<usize>()
    });
    assert_eq!(n, 1000 * 15);
    assert_eq!(a, 0);
}
