/*
 * main_host.c - the host programs: the lock-step build (EV_REALTIME=0: the line protocol with
 * virtual time) and the real-time build (EV_REALTIME=1: the byte mode on the wall clock), from
 * the same sources. The programming comes from command-line flags (docs/firmware_events.md),
 * is checked, and is printed on the console before the "ready" line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ev_config.h"
#include "ev_faults.h"
#include "ev_hal.h"
#include "ev_lockstep.h"
#include "ev_realtime.h"
#include "ev_version.h"
#include "hal_host.h"

#ifndef EV_REALTIME
#define EV_REALTIME 0
#endif

#define BUILD_NAME (EV_REALTIME ? "realtime" : "lockstep")

static int usage(const char *prog, const char *problem)
{
    fprintf(stderr, "%s: %s\nusage: %s [--uart-fd N] [--fault-name] [--print-programming]",
            prog, problem, prog);
    for (const char *const *f = ev_config_flag_names; *f != NULL; ++f) {
        fprintf(stderr, " [--%s V]", *f);
    }
    fprintf(stderr, "\n");
    return 2;
}

int main(int argc, char **argv)
{
    ev_config_t cfg;
    ev_config_defaults(&cfg);
    int print_only = 0;
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        if (strcmp(arg, "--fault-name") == 0) {
            printf("%s\n", ev_fault_name());
            return 0;
        }
        if (strcmp(arg, "--print-programming") == 0) {
            print_only = 1;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || i + 1 >= argc) {
            return usage(argv[0], arg);
        }
        const char *value = argv[++i];
        if (strcmp(arg, "--uart-fd") == 0) {
            hal_host_set_link_fd(atoi(value));
            continue;
        }
        const char *err = ev_config_set(&cfg, arg + 2, value);
        if (err != NULL) {
            fprintf(stderr, "%s: %s %s: %s\n", argv[0], arg, value, err);
            return 2;
        }
    }
    const char *bad = ev_config_check(&cfg);
    if (bad != NULL) {
        fprintf(stderr, "%s: programming rejected: %s\n", argv[0], bad);
        return 2;
    }
    char text[320];
    (void)ev_config_format(&cfg, text, sizeof(text));
    if (print_only) {
        printf("%s\n", text);
        return 0;
    }
    hal_init();
    char banner[512];
    (void)snprintf(banner, sizeof(banner),
                   "%s %s (%s build, fault=%s, hash=%s)\nprogramming: %s\nready\n",
                   EV_DEVICE_NAME, EV_DEVICE_VERSION, BUILD_NAME, ev_fault_name(),
                   EV_SOURCE_SHA256, text);
    hal_console(banner);
    if (EV_REALTIME) {
        ev_realtime_run(&cfg);
    } else {
        ev_lockstep_run(&cfg);
    }
    return 0;
}
