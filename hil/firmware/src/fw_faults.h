/*
 * fw_faults.h - seeded defects, selected at build time with -DFAULT_<NAME>=1.
 *
 * Each variant breaks one requirement of docs/assumptions.md on purpose, so the bench's power to
 * find real bugs can be measured. The list below is the single source: hil/emulator reads the
 * FW_FAULT(...) lines of this file, and docs/firmware.md documents each one.
 */
#ifndef FW_FAULTS_H
#define FW_FAULTS_H

/* FW_FAULT(NAME, requirement, what it does) */
#define FW_FAULT_LIST(FW_FAULT)                                                                  \
    FW_FAULT(PVARP_SHORT_20MS, "A-5", "PVARP is 20 ms shorter than programmed")                   \
    FW_FAULT(NO_SAFETY_PACING, "A-7", "ventricular safety pacing missing: crosstalk inhibits")    \
    FW_FAULT(URL_NOT_ENFORCED, "A-3", "tracked VP not held back to last V + URI")                 \
    FW_FAULT(SAV_FROM_WRONG_EVENT, "A-3/A-4", "sensed AV delay timed from the last V event")      \
    FW_FAULT(BLANKED_SENSES_COUNTED, "A-5", "detections inside blanking are classified as senses") \
    FW_FAULT(PVC_NOT_RECOGNISED, "A-6", "a PVC is marked VS and never extends PVARP")             \
    FW_FAULT(LRL_NOT_RESET_BY_SENSE, "A-2", "a non-refractory sense does not restart the escape") \
    FW_FAULT(HYSTERESIS_NEVER_RELEASED, "A-9", "after a pace the escape stays at the HRI")        \
    FW_FAULT(ATR_NEVER_FALLS_BACK, "A-13", "ATR duration never ends in the fallback mode")        \
    FW_FAULT(NOISE_NOT_REVERTED, "A-11", "noise on a channel is sensed and inhibits pacing")      \
    FW_FAULT(US_COUNTER_OVERFLOW, "A-1", "event times wrap after 2^32 microseconds")             \
    FW_FAULT(PROGRAM_NO_RANGE_CHECK, "A-18", "PROGRAM accepted without range or rule checks")     \
    FW_FAULT(REFRACTORY_SENSE_INHIBITS, "A-5", "a ventricular sense in VRP restarts timing")      \
    FW_FAULT(TRIGGER_ABOVE_URL, "A-8", "triggered paces are not limited by the URI")              \
    FW_FAULT(PMT_NOT_TERMINATED, "A-14", "PMT termination never extends PVARP")                  \
    FW_FAULT(STORE_CRC_IGNORED, "A-15", "a corrupt parameter store is used instead of POR")


/* Each FAULT_<NAME> macro defaults to 0; FW_FAULT_ENABLED(NAME) is a constant expression. */
#define FW_FAULT_ENABLED(name) (FW_FAULT_VALUE_(FAULT_##name))
#define FW_FAULT_VALUE_(x) FW_FAULT_VALUE2_(x)
#define FW_FAULT_VALUE2_(x) (0 + x + 0)

#ifndef FAULT_PVARP_SHORT_20MS
#define FAULT_PVARP_SHORT_20MS 0
#endif
#ifndef FAULT_NO_SAFETY_PACING
#define FAULT_NO_SAFETY_PACING 0
#endif
#ifndef FAULT_URL_NOT_ENFORCED
#define FAULT_URL_NOT_ENFORCED 0
#endif
#ifndef FAULT_SAV_FROM_WRONG_EVENT
#define FAULT_SAV_FROM_WRONG_EVENT 0
#endif
#ifndef FAULT_BLANKED_SENSES_COUNTED
#define FAULT_BLANKED_SENSES_COUNTED 0
#endif
#ifndef FAULT_PVC_NOT_RECOGNISED
#define FAULT_PVC_NOT_RECOGNISED 0
#endif
#ifndef FAULT_LRL_NOT_RESET_BY_SENSE
#define FAULT_LRL_NOT_RESET_BY_SENSE 0
#endif
#ifndef FAULT_HYSTERESIS_NEVER_RELEASED
#define FAULT_HYSTERESIS_NEVER_RELEASED 0
#endif
#ifndef FAULT_ATR_NEVER_FALLS_BACK
#define FAULT_ATR_NEVER_FALLS_BACK 0
#endif
#ifndef FAULT_NOISE_NOT_REVERTED
#define FAULT_NOISE_NOT_REVERTED 0
#endif
#ifndef FAULT_US_COUNTER_OVERFLOW
#define FAULT_US_COUNTER_OVERFLOW 0
#endif
#ifndef FAULT_PROGRAM_NO_RANGE_CHECK
#define FAULT_PROGRAM_NO_RANGE_CHECK 0
#endif
#ifndef FAULT_REFRACTORY_SENSE_INHIBITS
#define FAULT_REFRACTORY_SENSE_INHIBITS 0
#endif
#ifndef FAULT_TRIGGER_ABOVE_URL
#define FAULT_TRIGGER_ABOVE_URL 0
#endif
#ifndef FAULT_PMT_NOT_TERMINATED
#define FAULT_PMT_NOT_TERMINATED 0
#endif
#ifndef FAULT_STORE_CRC_IGNORED
#define FAULT_STORE_CRC_IGNORED 0
#endif

/* The name of the fault this image was built with, or "none". */
const char *fw_fault_name(void);

#endif
