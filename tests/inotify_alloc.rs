//! Reading and iterating 100,000 real inotify events allocates nothing.

mod util;

use kernfd::inotify::{EventError, Inotify, WatchFlags};
use kernfd::wait::Wait;

#[global_allocator]
static ALLOC: util::CountingAlloc = util::CountingAlloc;

#[test]
fn reading_100k_events_allocates_nothing() {
    let dir = util::tempdir();
    let inotify = Inotify::new().unwrap();
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
        // 10,000 events per round, under the default queue limit of 16,384.
        for _ in 0..5_000 {
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
                        Err(EventError::QueueOverflow) => panic!("overflow"),
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            // drain() too, over an empty queue.
            inotify.drain(&mut buf, |_| n += 1).unwrap();
            (n, b)
        });
        assert_eq!(n, 10_000);
        events += n;
        bytes += b;
        allocs += a;
    }
    assert_eq!(events, 100_000);
    assert_eq!(bytes, 100_000 * 2 * name.to_bytes().len());
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
