/*
 * posix_host.h - the POSIX plumbing shared by the host builds of both reference devices
 * (hil/firmware/hal/host and hil/firmware_events/hal/host): the link on a file descriptor,
 * the monotonic clock, the console on stderr and the fault signals. Each firmware's host HAL
 * maps its own HAL contract (fw_hal.h, ev_hal.h) onto these functions and decides what to
 * print and how to stop when the link is gone; the two firmwares stay separate.
 *
 * The link is stdin/stdout until posix_host_set_link_fd() names one descriptor for both
 * directions (normally the master side of a pseudo-terminal opened by the bench).
 */
#ifndef POSIX_HOST_H
#define POSIX_HOST_H

#include <stddef.h>
#include <stdint.h>

/* Returns of the link functions: carry on, or the link is gone and the device should exit 0. */
#define POSIX_HOST_OK 0
#define POSIX_HOST_GONE 1

/* Start the clock (posix_host_now_us() counts from here), report SIGSEGV, SIGBUS, SIGFPE and
 * SIGILL on stderr as "HARDFAULT: signal N (host target), fault=<fault_name()>" and exit 70,
 * and ignore SIGPIPE (a write to a closed link fails instead). */
void posix_host_init(const char *(*fault_name)(void));
/* Use fd for the link, both directions, instead of stdin/stdout. */
void posix_host_set_link_fd(int fd);
/* Write all len bytes, waiting while the link is full; POSIX_HOST_GONE when a write fails. */
int posix_host_link_write(const uint8_t *data, size_t len);
/* Copy up to cap received bytes without blocking; *n_read says how many (0 when none).
 * POSIX_HOST_GONE when stdin reached its end or hung up, or another link hung up and the
 * bench is gone (this process was orphaned). */
int posix_host_link_read(uint8_t *buf, size_t cap, size_t *n_read);
/* Sleep until a byte may have arrived or max_us microseconds passed (a hang-up without data
 * sleeps 5 ms instead of spinning); POSIX_HOST_GONE when this process was orphaned (the bench
 * died). */
int posix_host_wait_us(uint32_t max_us);
/* Monotonic microseconds since posix_host_init(). */
uint64_t posix_host_now_us(void);
/* Diagnostic text to stderr, never to the link. */
void posix_host_console(const char *text);

#endif
