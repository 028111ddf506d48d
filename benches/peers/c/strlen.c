/* The inotify(7) man page's read loop: read() into a 4096-byte aligned
 * buffer until EAGAIN, walk the records by their len field, strlen each
 * name. Touches what the Rust readers touch (wd, mask, cookie, name length)
 * and returns the same checksum. Built with gcc -O2 by build.rs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

__attribute__((noinline)) uint64_t bench_loop_c_strlen(int fd, uint64_t *count)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    const struct inotify_event *event;
    uint64_t sum = 0, n = 0;
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
            n++;
        }
    }
    *count = n;
    return sum;
}
