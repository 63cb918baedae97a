/*
 * hal_host.c - the host HAL: a POSIX process whose link is a file descriptor, normally the
 * master side of a pseudo-terminal opened by hil/emulator/event_device.py (--uart-fd N), else
 * stdin/stdout. The clock is CLOCK_MONOTONIC; console text goes to stderr. SIGSEGV, SIGBUS,
 * SIGFPE and SIGILL print a fault report and exit 70. The POSIX plumbing is hil/posix_host,
 * shared with the binary-protocol firmware's host HAL; this file maps ev_hal.h onto it.
 */
#include <stdlib.h>

#include "ev_faults.h"
#include "ev_hal.h"
#include "hal_host.h"
#include "posix_host.h"

void hal_host_set_link_fd(int fd)
{
    posix_host_set_link_fd(fd);
}

void hal_init(void)
{
    posix_host_init(ev_fault_name);
}

void hal_link_write(const uint8_t *data, size_t len)
{
    if (posix_host_link_write(data, len) != POSIX_HOST_OK) {
        hal_console("link write failed: link gone\n");
        hal_exit(0);
    }
}

size_t hal_link_read(uint8_t *buf, size_t cap)
{
    size_t n = 0u;
    if (posix_host_link_read(buf, cap, &n) != POSIX_HOST_OK) {
        hal_exit(0); /* stdin closed, or the bench is gone */
    }
    return n;
}

void hal_wait_us(uint32_t max_us)
{
    if (posix_host_wait_us(max_us) != POSIX_HOST_OK) {
        hal_exit(0); /* orphaned: the bench died */
    }
}

uint64_t hal_now_us(void)
{
    return posix_host_now_us();
}

void hal_console(const char *text)
{
    posix_host_console(text);
}

void hal_exit(int status)
{
    exit(status);
}
