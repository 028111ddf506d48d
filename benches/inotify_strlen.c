/* The inotify(7) man page's read loop, for instruction counts beside the
 * Rust readers of benches/inotify.rs (see benches/callgrind.sh).
 *
 * Usage: inotify_strlen N
 * Queues N IN_MODIFY events on the same tree as the Rust bench (1024 files,
 * the same names, one-byte pwrite each), then drains them in drain(): read()
 * into a 4096-byte aligned buffer, walk the records by their len field, and
 * take each name's length with strlen, as the man page example does. It
 * touches what the Rust readers touch (wd, mask, cookie, name length) and
 * prints "events checksum" in the same form, so the script can compare.
 *
 * Build: gcc -O2 -g -o inotify_strlen benches/inotify_strlen.c
 * max_queued_events must already be >= N (callgrind.sh raises it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define FILES 1024

static char dir[] = "/dev/shm/kernfd-bench-XXXXXX";

static int name_kind = -1; /* KERNFD_BENCH_NAME_KIND, as in inotify.rs */

static void name(char *out, size_t cap, unsigned i)
{
    switch (name_kind >= 0 ? (unsigned)name_kind : i % 4) {
    case 0: snprintf(out, cap, "%s/file-%06u.txt", dir, i); break;
    case 1: snprintf(out, cap, "%s/%06u.rs", dir, i); break;
    case 2: snprintf(out, cap, "%s/.file-%06u.txt.swp", dir, i); break;
    default: snprintf(out, cap, "%s/Screenshot 2026-11-23 at %06u.png", dir, i); break;
    }
}

/* The measured part: everything from the first read() to EAGAIN. */
__attribute__((noinline)) uint64_t bench_reader_c_strlen(int fd, uint64_t *count)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    const struct inotify_event *event;
    uint64_t sum = 0;
    ssize_t len;

    for (;;) {
        len = read(fd, buf, sizeof(buf));
        if (len == -1 && errno != EAGAIN) {
            perror("read");
            exit(EXIT_FAILURE);
        }
        if (len <= 0)
            break;
        for (char *ptr = buf; ptr < buf + len;
             ptr += sizeof(struct inotify_event) + event->len) {
            event = (const struct inotify_event *)ptr;
            sum += (uint32_t)event->wd;
            sum += event->mask;
            sum += event->cookie;
            if (event->len)
                sum += strlen(event->name);
            (*count)++;
        }
    }
    return sum;
}

int main(int argc, char **argv)
{
    static int fds[FILES];
    char path[256];
    uint64_t count = 0, sum;
    unsigned long n;
    int ino;

    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    n = strtoul(argv[1], NULL, 10);
    if (getenv("KERNFD_BENCH_NAME_KIND"))
        name_kind = atoi(getenv("KERNFD_BENCH_NAME_KIND")) % 4;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    for (unsigned i = 0; i < FILES; i++) {
        name(path, sizeof(path), i);
        fds[i] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fds[i] < 0) {
            perror("open");
            return 1;
        }
    }
    ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ino < 0 || inotify_add_watch(ino, dir, IN_MODIFY) < 0) {
        perror("inotify");
        return 1;
    }
    for (unsigned long i = 0; i < n; i++) {
        if (pwrite(fds[i % FILES], "x", 1, 0) != 1) {
            perror("pwrite");
            return 1;
        }
    }

    sum = bench_reader_c_strlen(ino, &count);
    printf("%llu %llu\n", (unsigned long long)count, (unsigned long long)sum);

    close(ino);
    for (unsigned i = 0; i < FILES; i++) {
        close(fds[i]);
        name(path, sizeof(path), i);
        unlink(path);
    }
    rmdir(dir);
    return count == n ? 0 : 1;
}
