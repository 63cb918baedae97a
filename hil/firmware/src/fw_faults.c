/* fw_faults.c - the name of the seeded fault this image was built with. */
#include "fw_faults.h"

#define FW_FAULT_NAME_(name, req, text) if (FW_FAULT_ENABLED(name)) return #name;

const char *fw_fault_name(void)
{
    FW_FAULT_LIST(FW_FAULT_NAME_)
    return "none";
}
