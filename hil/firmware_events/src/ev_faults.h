/*
 * ev_faults.h - seeded defects of the event-level device, selected at build time with
 * -DFAULT_<NAME>=1 (`make lockstep FAULT=NAME`).
 *
 * Each one is a defect that tick-based pacing firmware (generated from a statechart, or written by
 * a student team) really has, and each breaks one rule of docs/assumptions.md. The list below is
 * the single source: `make faults` and hil/emulator/event_device.py read its EV_FAULT(...) lines,
 * and docs/firmware_events.md documents each one.
 */
#ifndef EV_FAULTS_H
#define EV_FAULTS_H

/* EV_FAULT(NAME, requirement, the rule it breaks) */
#define EV_FAULT_LIST(EV_FAULT)                                                                   \
    EV_FAULT(ESCAPE_FROM_ATRIAL_EVENT, "A-2", "DDD lower-rate timer restarted at atrial events, not ventricular ones") \
    EV_FAULT(ESCAPE_5MS_SHORT, "A-1", "escape interval 5 ms shorter than programmed (inside the 8 ms tolerance)") \
    EV_FAULT(NO_UPPER_RATE_LIMIT, "A-3", "tracked and safety V paces not held back to last V + URI") \
    EV_FAULT(VRP_ONLY_AFTER_PACE, "A-5", "VRP started after a V pace only: a sensed T wave restarts timing") \
    EV_FAULT(PVARP_OFF_BY_ONE, "A-21", "PVARP closed at its end: an atrial sense at exactly PVARP end is refractory") \
    EV_FAULT(NO_PVARP_AFTER_PVC, "A-6", "a PVC starts no PVARP/PVAB: a retrograde P after it is tracked") \
    EV_FAULT(NO_SAFETY_PACING, "A-7", "no ventricular safety pacing: crosstalk after an A pace inhibits the V pace")

/* Each FAULT_<NAME> macro defaults to 0; EV_FAULT_ENABLED(NAME) is a constant expression. */
#define EV_FAULT_ENABLED(name) (EV_FAULT_VALUE_(FAULT_##name))
#define EV_FAULT_VALUE_(x) EV_FAULT_VALUE2_(x)
#define EV_FAULT_VALUE2_(x) (0 + x + 0)

#ifndef FAULT_ESCAPE_FROM_ATRIAL_EVENT
#define FAULT_ESCAPE_FROM_ATRIAL_EVENT 0
#endif
#ifndef FAULT_ESCAPE_5MS_SHORT
#define FAULT_ESCAPE_5MS_SHORT 0
#endif
#ifndef FAULT_NO_UPPER_RATE_LIMIT
#define FAULT_NO_UPPER_RATE_LIMIT 0
#endif
#ifndef FAULT_VRP_ONLY_AFTER_PACE
#define FAULT_VRP_ONLY_AFTER_PACE 0
#endif
#ifndef FAULT_PVARP_OFF_BY_ONE
#define FAULT_PVARP_OFF_BY_ONE 0
#endif
#ifndef FAULT_NO_PVARP_AFTER_PVC
#define FAULT_NO_PVARP_AFTER_PVC 0
#endif
#ifndef FAULT_NO_SAFETY_PACING
#define FAULT_NO_SAFETY_PACING 0
#endif

/* The name of the fault this image was built with, or "none". */
const char *ev_fault_name(void);

#endif
