/*
 * hal_inprocess.h - the in-process target: the firmware linked into the bench's own process
 * (hil/emulator/_inprocess.pyx) instead of running behind a pseudo-terminal.
 *
 * The link UART is a byte buffer: what the firmware writes while fw_device_rx() runs is kept
 * until the bench takes it with hal_inprocess_take(). There is no clock and no sleep: lock-step
 * time advances only when the bench runs samples. One process-wide buffer serves every device
 * instance, so callers run one device call at a time and take its output before the next (the
 * Python wrapper holds the GIL for both).
 */
#ifndef HAL_INPROCESS_H
#define HAL_INPROCESS_H

#include <stddef.h>
#include <stdint.h>

/* Capacity of the UART output buffer in bytes (many frames of FB_MAX_WIRE). */
#define HAL_INPROCESS_OUT_CAP 65536u

/* Move up to cap bytes of pending UART output into buf; returns how many were moved. */
size_t hal_inprocess_take(uint8_t *buf, size_t cap);
/* Bytes of UART output waiting to be taken. */
size_t hal_inprocess_pending(void);
/* Bytes the firmware wrote while the buffer was full (lost; 0 in a correct bench). */
uint64_t hal_inprocess_overflowed(void);
/* Damage the emulated parameter store at the next fw_device_init (A-15 fallback tests). */
void hal_inprocess_set_corrupt_store(int corrupt);
/* Console text the firmware printed (NUL-terminated, the last HAL_INPROCESS_CONSOLE_CAP-1
 * bytes at most). */
const char *hal_inprocess_console(void);
/* The status passed to hal_exit(), or -1 when the firmware never asked to stop. */
int hal_inprocess_exit_status(void);

#define HAL_INPROCESS_CONSOLE_CAP 4096u

#endif
