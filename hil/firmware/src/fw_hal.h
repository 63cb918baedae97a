/*
 * fw_hal.h - the hardware abstraction: everything the firmware needs from a board.
 *
 * Two implementations: hal/host (a POSIX process whose UART is a pseudo-terminal master) and
 * hal/lm3s6965 (Cortex-M3 under qemu-system-arm: PL011 UART0 with interrupt-driven receive into
 * a ring buffer, SysTick at 1 kHz, semihosting console and exit).
 */
#ifndef FW_HAL_H
#define FW_HAL_H

#include <stddef.h>
#include <stdint.h>

void hal_init(void);
/* Blocking write of len bytes to the link UART. */
void hal_uart_write(const uint8_t *data, size_t len);
/* Non-blocking read of up to cap received bytes; returns how many were copied. */
size_t hal_uart_read(uint8_t *buf, size_t cap);
/* Sleep until something may have happened (a received byte or a 1 kHz timer tick). */
void hal_wait_event(void);
/* Free-running millisecond counter (1 kHz time base for real-time sessions). */
uint32_t hal_millis(void);
/* Diagnostic text to the console (host: stderr; QEMU: semihosting), never to the link. */
void hal_console(const char *text);
/* Stop the device with an exit status (host: exit(); QEMU: semihosting SYS_EXIT). */
void hal_exit(int status);
/* Lead impedance measured at the last pace, in ohms (emulated: a fixed load). */
uint16_t hal_lead_impedance_ohm(int ventricular);
/* Name of the target ("host", "lm3s6965"). */
const char *hal_target_name(void);
/* True when the emulated non-volatile parameter store is to be damaged before boot (a bench
 * test of A-15's fallback to power-on-reset settings); always false on real hardware. */
int hal_corrupt_store_at_boot(void);

#endif
