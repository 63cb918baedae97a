/* hal_host.h - host-only additions to the HAL, used by main_host.c. */
#ifndef HAL_HOST_H
#define HAL_HOST_H

/* Use fd for the link (both directions) instead of stdin/stdout. */
void hal_host_set_link_fd(int fd);

#endif
