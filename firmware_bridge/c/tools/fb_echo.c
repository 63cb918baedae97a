/* A bare byte echo on stdin/stdout: the floor under the bench's link round trip.
 *
 * benchmarks/bridge.py writes a TICK frame's bytes to a pty whose other side is this process and
 * reads them back, with no codec and no link layer on either side, so the measured time is the
 * kernel's pty path and the two process wake-ups; the C echo peer (fb_peer.c) is measured the
 * same way through the whole client. Both peers are C, built with the same flags.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <unistd.h>

int main(void)
{
    uint8_t buf[4096];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0) {
            return 0;
        }
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w <= 0) {
                return 1;
            }
            off += w;
        }
    }
}
