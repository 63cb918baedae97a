/* ev_faults.c - the name of the seeded fault this image was built with. */
#include "ev_faults.h"

#define EV_FAULT_NAME_(name, req, text) \
    if (EV_FAULT_ENABLED(name)) {        \
        return #name;                    \
    }

const char *ev_fault_name(void)
{
    EV_FAULT_LIST(EV_FAULT_NAME_)
    return "none";
}
