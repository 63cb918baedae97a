/* hal_test.c - the HAL for unit tests: captures link and console output, a settable clock. */
#include "hal_test.h"

#include <stdlib.h>
#include <string.h>

#include "ev_hal.h"

char hal_test_link[HAL_TEST_CAP];
size_t hal_test_link_len;
char hal_test_console[HAL_TEST_CAP];
size_t hal_test_console_len;
uint64_t hal_test_now_us;

static void capture(char *buf, size_t *len, const void *data, size_t n)
{
    if (*len + n >= HAL_TEST_CAP) {
        abort(); /* a test wrote more than it should */
    }
    memcpy(buf + *len, data, n);
    *len += n;
    buf[*len] = '\0';
}

void hal_test_clear(void)
{
    hal_test_link_len = 0u;
    hal_test_link[0] = '\0';
    hal_test_console_len = 0u;
    hal_test_console[0] = '\0';
}

void hal_init(void)
{
    hal_test_clear();
}

void hal_link_write(const uint8_t *data, size_t len)
{
    capture(hal_test_link, &hal_test_link_len, data, len);
}

size_t hal_link_read(uint8_t *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return 0u;
}

void hal_wait_us(uint32_t max_us)
{
    (void)max_us;
}

uint64_t hal_now_us(void)
{
    return hal_test_now_us;
}

void hal_console(const char *text)
{
    capture(hal_test_console, &hal_test_console_len, text, strlen(text));
}

void hal_exit(int status)
{
    exit(status);
}
