/* fw_main.h - the firmware's main loop, shared by every target. */
#ifndef FW_MAIN_H
#define FW_MAIN_H

#include "fw_device.h"

/* Run forever: read the link, answer, and in real-time sessions advance time at 1 kHz. */
void fw_run(void);
/* The device instance (fault handlers report through it). */
fw_device_t *fw_main_device(void);

#endif
