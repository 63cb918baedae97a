/*
 * hal_host.c - the host target: a POSIX process whose UART is a file descriptor, normally the
 * master side of a pseudo-terminal opened by hil.emulator (`--uart-fd N`), else stdin/stdout.
 * Console text goes to stderr. SIGSEGV/SIGBUS/SIGFPE/SIGILL print a fault report and exit 70.
 * The POSIX plumbing (link, clock, console, fault signals) is hil/posix_host, shared with the
 * event-level device's host HAL; this file maps fw_hal.h onto it and holds the host main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_faults.h"
#include "fw_hal.h"
#include "fw_main.h"
#include "posix_host.h"

void hal_init(void)
{
    posix_host_init(fw_fault_name);
}

void hal_uart_write(const uint8_t *data, size_t len)
{
    if (posix_host_link_write(data, len) != POSIX_HOST_OK) {
        hal_console("uart write failed: link gone\n");
        hal_exit(0);
    }
}

size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    size_t n = 0u;
    if (posix_host_link_read(buf, cap, &n) != POSIX_HOST_OK) {
        hal_exit(0); /* stdin closed, or the bench is gone */
    }
    return n;
}

void hal_wait_event(void)
{
    if (posix_host_wait_us(fw_main_device()->streaming ? 1000u : 50000u) != POSIX_HOST_OK) {
        hal_exit(0); /* orphaned: the bench died */
    }
}

uint32_t hal_millis(void)
{
    return (uint32_t)(posix_host_now_us() / 1000u);
}

void hal_console(const char *text)
{
    posix_host_console(text);
}

void hal_exit(int status)
{
    exit(status);
}

uint16_t hal_lead_impedance_ohm(int ventricular)
{
    return ventricular ? 520u : 480u; /* emulated leads: fixed resistive loads */
}

const char *hal_target_name(void)
{
    return "host";
}

static int g_corrupt_store;

int hal_corrupt_store_at_boot(void)
{
    return g_corrupt_store;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--uart-fd") == 0 && i + 1 < argc) {
            posix_host_set_link_fd(atoi(argv[++i]));
        } else if (strcmp(argv[i], "--corrupt-store") == 0) {
            g_corrupt_store = 1;
        } else if (strcmp(argv[i], "--fault-name") == 0) {
            printf("%s\n", fw_fault_name());
            return 0;
        } else {
            fprintf(stderr, "usage: %s [--uart-fd N] [--corrupt-store] [--fault-name]\n", argv[0]);
            return 2;
        }
    }
    fw_run();
    return 0;
}
