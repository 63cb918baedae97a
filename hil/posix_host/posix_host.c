/*
 * posix_host.c - the POSIX plumbing of the host builds (see posix_host.h). Linux: ppoll(2).
 */
#define _GNU_SOURCE /* ppoll */
#include "posix_host.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_in = 0;
static int g_out = 1;
static struct timespec g_t0;
static const char *(*g_fault_name)(void);

static void on_fault(int sig)
{
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "HARDFAULT: signal %d (host target), fault=%s\n", sig,
                     g_fault_name());
    if (n > 0) {
        ssize_t w = write(2, msg, (size_t)n);
        (void)w;
    }
    _exit(70);
}

void posix_host_init(const char *(*fault_name)(void))
{
    g_fault_name = fault_name;
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

void posix_host_set_link_fd(int fd)
{
    g_in = fd;
    g_out = fd;
}

int posix_host_link_write(const uint8_t *data, size_t len)
{
    while (len > 0u) {
        ssize_t w = write(g_out, data, len);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                struct pollfd p = {g_out, POLLOUT, 0};
                (void)poll(&p, 1, 10);
                continue;
            }
            return POSIX_HOST_GONE;
        }
        data += w;
        len -= (size_t)w;
    }
    return POSIX_HOST_OK;
}

int posix_host_link_read(uint8_t *buf, size_t cap, size_t *n_read)
{
    *n_read = 0u;
    struct pollfd p = {g_in, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0 || (p.revents & POLLIN) == 0) {
        if ((p.revents & (POLLHUP | POLLERR)) != 0 && (g_in == 0 || getppid() == 1)) {
            return POSIX_HOST_GONE; /* stdin closed, or the bench is gone */
        }
        return POSIX_HOST_OK;
    }
    ssize_t r = read(g_in, buf, cap);
    if (r == 0 && g_in == 0) {
        return POSIX_HOST_GONE; /* stdin closed */
    }
    *n_read = r > 0 ? (size_t)r : 0u;
    return POSIX_HOST_OK;
}

int posix_host_wait_us(uint32_t max_us)
{
    struct pollfd p = {g_in, POLLIN, 0};
    struct timespec ts = {(time_t)(max_us / 1000000u), (long)(max_us % 1000000u) * 1000L};
    int r = ppoll(&p, 1, &ts, NULL);
    if (r > 0 && (p.revents & POLLIN) == 0) {
        struct timespec pause = {0, 5000000}; /* hang-up without data: do not spin */
        nanosleep(&pause, NULL);
    }
    return getppid() == 1 ? POSIX_HOST_GONE : POSIX_HOST_OK; /* orphaned: the bench died */
}

uint64_t posix_host_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t us = (int64_t)(ts.tv_sec - g_t0.tv_sec) * 1000000 +
                 (ts.tv_nsec - g_t0.tv_nsec) / 1000;
    return (uint64_t)us;
}

void posix_host_console(const char *text)
{
    ssize_t w = write(2, text, strlen(text));
    (void)w;
}
