/* fw_main.c - main loop: link bytes in, answers out; 1 kHz time base for real-time sessions. */
#include "fw_main.h"

#include "fw_faults.h"
#include "fw_hal.h"

static fw_device_t g_device;

fw_device_t *fw_main_device(void)
{
    return &g_device;
}

void fw_run(void)
{
    static uint8_t buf[512];
    hal_init();
    hal_console("devicetwin-fw ");
    hal_console(hal_target_name());
    hal_console(" ready, fault=");
    hal_console(fw_fault_name());
    hal_console("\n");
    fw_device_init(&g_device);
    uint32_t last_ms = hal_millis();
    for (;;) {
        size_t n = hal_uart_read(buf, sizeof(buf));
        if (n != 0u) {
            fw_device_rx(&g_device, buf, (uint32_t)n);
        }
        uint32_t now = hal_millis();
        if (g_device.streaming) {
            uint32_t steps = 0;
            while (last_ms != now && steps < 1000u) {
                fw_device_realtime_ms(&g_device);
                last_ms++;
                steps++;
            }
            last_ms = now; /* more than 1 s behind: skip ahead rather than spin */
        } else {
            last_ms = now;
        }
        if (n == 0u) {
            /* Sleep until the next interrupt. (Polling while a frame arrives was measured: half
             * the throughput under QEMU on a busy 2-core machine, and a core burnt.) */
            hal_wait_event();
        }
    }
}
