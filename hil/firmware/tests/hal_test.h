/* hal_test.h - what the unit-test HAL captured. */
#ifndef HAL_TEST_H
#define HAL_TEST_H

#include <stddef.h>
#include <stdint.h>

#define HAL_TEST_TX_CAP 65536u
extern uint8_t hal_test_tx[HAL_TEST_TX_CAP];
extern size_t hal_test_tx_len;

#endif
