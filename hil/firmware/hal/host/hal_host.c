/*
 * hal_host.c - the host target: a POSIX process whose UART is a file descriptor, normally the
 * master side of a pseudo-terminal opened by hil.emulator (`--uart-fd N`), else stdin/stdout.
 * Console text goes to stderr. SIGSEGV/SIGBUS/SIGFPE/SIGILL print a fault report and exit 70.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fw_faults.h"
#include "fw_hal.h"
#include "fw_main.h"

static int g_in = 0;
static int g_out = 1;
static struct timespec g_t0;

static void on_fault(int sig)
{
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "HARDFAULT: signal %d (host target), fault=%s\n", sig,
                     fw_fault_name());
    if (n > 0) {
        ssize_t w = write(2, msg, (size_t)n);
        (void)w;
    }
    _exit(70);
}

void hal_init(void)
{
    clock_gettime(CLOCK_MONOTONIC, &g_t0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fault;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void hal_uart_write(const uint8_t *data, size_t len)
{
    while (len > 0u) {
        ssize_t w = write(g_out, data, len);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                struct pollfd p = {g_out, POLLOUT, 0};
                (void)poll(&p, 1, 10);
                continue;
            }
            hal_console("uart write failed: link gone\n");
            hal_exit(0);
        }
        data += w;
        len -= (size_t)w;
    }
}

size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    struct pollfd p = {g_in, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0 || (p.revents & POLLIN) == 0) {
        if ((p.revents & (POLLHUP | POLLERR)) != 0 && getppid() == 1) {
            hal_exit(0); /* the bench is gone */
        }
        return 0;
    }
    ssize_t r = read(g_in, buf, cap);
    if (r == 0 && g_in == 0) {
        hal_exit(0); /* stdin closed */
    }
    return r > 0 ? (size_t)r : 0u;
}

void hal_wait_event(void)
{
    struct pollfd p = {g_in, POLLIN, 0};
    int timeout = fw_main_device()->streaming ? 1 : 50;
    int r = poll(&p, 1, timeout);
    if (r > 0 && (p.revents & POLLIN) == 0) {
        struct timespec ts = {0, 5000000}; /* hang-up without data: do not spin */
        nanosleep(&ts, NULL);
    }
    if (getppid() == 1) {
        hal_exit(0); /* orphaned: the bench died */
    }
}

uint32_t hal_millis(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ms = (int64_t)(ts.tv_sec - g_t0.tv_sec) * 1000 + (ts.tv_nsec - g_t0.tv_nsec) / 1000000;
    return (uint32_t)ms;
}

void hal_console(const char *text)
{
    ssize_t w = write(2, text, strlen(text));
    (void)w;
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
            g_in = g_out = atoi(argv[++i]);
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
