/*
 * hal_inprocess.c - the in-process HAL (see hal_inprocess.h): UART into a buffer, no clock.
 */
#include "hal_inprocess.h"

#include <string.h>

#include "fw_hal.h"

static uint8_t g_out[HAL_INPROCESS_OUT_CAP];
static size_t g_out_len;
static uint64_t g_overflowed;
static int g_corrupt_store;
static char g_console[HAL_INPROCESS_CONSOLE_CAP];
static size_t g_console_len;
static int g_exit_status = -1;

void hal_init(void)
{
}

void hal_uart_write(const uint8_t *data, size_t len)
{
    size_t room = HAL_INPROCESS_OUT_CAP - g_out_len;
    size_t n = len < room ? len : room;
    memcpy(g_out + g_out_len, data, n);
    g_out_len += n;
    g_overflowed += (uint64_t)(len - n);
}

size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return 0u; /* the bench calls fw_device_rx() directly */
}

void hal_wait_event(void)
{
}

uint32_t hal_millis(void)
{
    return 0u; /* lock-step only: no wall clock */
}

void hal_console(const char *text)
{
    size_t n = strlen(text);
    size_t room = HAL_INPROCESS_CONSOLE_CAP - 1u - g_console_len;
    if (n > room) {
        n = room;
    }
    memcpy(g_console + g_console_len, text, n);
    g_console_len += n;
    g_console[g_console_len] = '\0';
}

void hal_exit(int status)
{
    g_exit_status = status; /* the bench's process keeps running; the wrapper reports it */
}

uint16_t hal_lead_impedance_ohm(int ventricular)
{
    return ventricular ? 520u : 480u; /* emulated leads: the host target's fixed loads */
}

const char *hal_target_name(void)
{
    return "inprocess";
}

int hal_corrupt_store_at_boot(void)
{
    return g_corrupt_store;
}

size_t hal_inprocess_take(uint8_t *buf, size_t cap)
{
    size_t n = g_out_len < cap ? g_out_len : cap;
    memcpy(buf, g_out, n);
    memmove(g_out, g_out + n, g_out_len - n);
    g_out_len -= n;
    return n;
}

size_t hal_inprocess_pending(void)
{
    return g_out_len;
}

uint64_t hal_inprocess_overflowed(void)
{
    return g_overflowed;
}

void hal_inprocess_set_corrupt_store(int corrupt)
{
    g_corrupt_store = corrupt;
}

const char *hal_inprocess_console(void)
{
    return g_console;
}

int hal_inprocess_exit_status(void)
{
    return g_exit_status;
}
