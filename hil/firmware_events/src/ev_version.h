/* ev_version.h - the identity the device reports after R (docs/protocol.md section 7). */
#ifndef EV_VERSION_H
#define EV_VERSION_H

#define EV_DEVICE_NAME "devicetwin-ev"
#define EV_DEVICE_VERSION "1.0.0"
/* Capabilities of the lock-step build: early stop at the first pace. */
#define EV_DEVICE_CAPS "stop"

/* SHA-256 of the sources and the variant, set by the Makefile (see docs/firmware_events.md). */
#ifndef EV_SOURCE_SHA256
#define EV_SOURCE_SHA256 ""
#endif

#endif
