/* hal_test.h - what the unit-test HAL captured, and its settable clock. */
#ifndef HAL_TEST_H
#define HAL_TEST_H

#include <stddef.h>
#include <stdint.h>

#define HAL_TEST_CAP 8192u
extern char hal_test_link[HAL_TEST_CAP]; /* bytes written to the link, NUL-terminated */
extern size_t hal_test_link_len;
extern char hal_test_console[HAL_TEST_CAP];
extern size_t hal_test_console_len;
extern uint64_t hal_test_now_us;

/* Forget what was captured. */
void hal_test_clear(void);

#endif
