/* hal_test.c - a HAL for unit tests: the UART writes into a buffer the tests inspect. */
#include <string.h>

#include "fw_hal.h"
#include "hal_test.h"

uint8_t hal_test_tx[HAL_TEST_TX_CAP];
size_t hal_test_tx_len;

void hal_init(void) {}

void hal_uart_write(const uint8_t *data, size_t len)
{
    size_t room = HAL_TEST_TX_CAP - hal_test_tx_len;
    size_t n = len < room ? len : room;
    memcpy(hal_test_tx + hal_test_tx_len, data, n);
    hal_test_tx_len += n;
}

size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return 0;
}

void hal_wait_event(void) {}
uint32_t hal_millis(void) { return 0; }
void hal_console(const char *text) { (void)text; }
void hal_exit(int status) { (void)status; }
uint16_t hal_lead_impedance_ohm(int ventricular) { return ventricular ? 520u : 480u; }
const char *hal_target_name(void) { return "test"; }
int hal_corrupt_store_at_boot(void) { return 0; }
