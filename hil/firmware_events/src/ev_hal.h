/*
 * ev_hal.h - everything the event-level device needs from a board: a byte link, a microsecond
 * clock, a way to sleep until something happens, and a console.
 *
 * One implementation here, hal/host (POSIX: the link is a pseudo-terminal master given with
 * --uart-fd, the clock is CLOCK_MONOTONIC, the console is stderr); the C unit tests bring their
 * own (tests/hal_test.c). A board port implements the same seven functions.
 */
#ifndef EV_HAL_H
#define EV_HAL_H

#include <stddef.h>
#include <stdint.h>

void hal_init(void);
/* Blocking write of len bytes to the link. */
void hal_link_write(const uint8_t *data, size_t len);
/* Non-blocking read of up to cap received bytes; returns how many were copied. */
size_t hal_link_read(uint8_t *buf, size_t cap);
/* Sleep until a byte may have arrived or max_us microseconds passed. */
void hal_wait_us(uint32_t max_us);
/* Monotonic microseconds since hal_init (the real-time build's 1 kHz tick is derived from it). */
uint64_t hal_now_us(void);
/* Diagnostic text to the console, never to the link. */
void hal_console(const char *text);
/* Stop the device with an exit status. */
void hal_exit(int status);

#endif
