/*
 * hal_lm3s6965.c - the QEMU lm3s6965evb target: PL011 UART0 at 0x4000C000 with interrupt-driven
 * receive into a ring buffer, WFI sleep between events (no busy polling), SysTick at 1 kHz, and
 * ARM semihosting for the console (SYS_WRITE0) and for exit (SYS_EXIT).
 */
#include <stdint.h>
#include <string.h>

#include "fb_protocol.h"
#include "fw_device.h"
#include "fw_faults.h"
#include "fw_hal.h"
#include "fw_main.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define UART0 0x4000C000u
#define UART_DR REG(UART0 + 0x000u)
#define UART_FR REG(UART0 + 0x018u)
#define UART_IBRD REG(UART0 + 0x024u)
#define UART_FBRD REG(UART0 + 0x028u)
#define UART_LCRH REG(UART0 + 0x02Cu)
#define UART_CTL REG(UART0 + 0x030u)
#define UART_IM REG(UART0 + 0x038u)
#define UART_ICR REG(UART0 + 0x044u)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define RCGC1 REG(0x400FE104u)
#define RCC REG(0x400FE060u)
#define NVIC_ISER0 REG(0xE000E100u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)

#ifndef FW_CPU_HZ
#define FW_CPU_HZ 50000000u
#endif

#define RX_RING 4096u /* power of two: a few TICK frames */
static volatile uint8_t g_rx[RX_RING];
static volatile uint32_t g_rx_head, g_rx_tail;
static volatile uint32_t g_rx_overflows;
static volatile uint32_t g_millis;

void UART0_IRQHandler(void);
void SysTick_Handler(void);
void hal_fault_report(const uint32_t *frame, uint32_t exc);

void hal_rx_push(uint8_t byte);

void hal_rx_push(uint8_t byte)
{
    uint32_t h = g_rx_head;
    if (h - g_rx_tail >= RX_RING) {
        g_rx_overflows++;
    } else {
        g_rx[h & (RX_RING - 1u)] = byte;
        g_rx_head = h + 1u;
    }
}

void UART0_IRQHandler(void)
{
    /* Drain until empty. The receive interrupt is a level that the PL011 drops by itself when
     * reads take the FIFO below its trigger level, so no ICR write is needed (clearing it after
     * draining could even lose a byte that landed after the last FR check and stall the link). */
    while ((UART_FR & FR_RXFE) == 0u) {
        hal_rx_push((uint8_t)UART_DR);
    }
}

void SysTick_Handler(void)
{
    g_millis++;
}

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void hal_init(void)
{
    RCGC1 |= 1u; /* UART0 clock */
    UART_IBRD = 6u; /* 115200 baud at 12 MHz; QEMU's chardev ignores the rate */
    UART_FBRD = 33u;
    UART_LCRH = 0x70u; /* 8 data bits, FIFOs on (already set by Reset_Handler: no change) */
    UART_IM = (1u << 4) | (1u << 6); /* receive and receive-timeout interrupts */
    UART_CTL = 0x301u; /* UARTEN, TXE, RXE */
    NVIC_ISER0 = 1u << 5;
    /* System clock: PLL 200 MHz / (SYSDIV 3 + 1) = 50 MHz (RCC USESYSDIV); writing RCC also
     * makes QEMU propagate the clock to SysTick. */
    RCC = (RCC & ~(0xFu << 23)) | (1u << 22) | (3u << 23);
    SYST_RVR = FW_CPU_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* enable, interrupt, processor clock */
    __asm volatile("cpsie i" ::: "memory");
}

void hal_uart_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        while ((UART_FR & FR_TXFF) != 0u) {
        }
        UART_DR = data[i];
    }
}

size_t hal_uart_read(uint8_t *buf, size_t cap)
{
    size_t n = 0;
    uint32_t tail = g_rx_tail;
    uint32_t head = g_rx_head;
    while (tail != head && n < cap) {
        buf[n++] = g_rx[tail & (RX_RING - 1u)];
        tail++;
    }
    g_rx_tail = tail;
    return n;
}

void hal_wait_event(void)
{
    if (g_rx_head == g_rx_tail) {
        __asm volatile("wfi" ::: "memory");
    }
}

uint32_t hal_millis(void)
{
    return g_millis;
}

void hal_console(const char *text)
{
    (void)semihost(0x04, text); /* SYS_WRITE0 */
}

void hal_exit(int status)
{
    /* SYS_EXIT: ADP_Stopped_ApplicationExit (QEMU exit 0) or ADP_Stopped_RunTimeError (exit 1). */
    (void)semihost(0x18, (const void *)(uintptr_t)(status == 0 ? 0x20026u : 0x20023u));
    for (;;) {
    }
}

uint16_t hal_lead_impedance_ohm(int ventricular)
{
    return ventricular ? 520u : 480u;
}

int hal_corrupt_store_at_boot(void)
{
    return 0;
}

const char *hal_target_name(void)
{
    return "lm3s6965";
}

static char *put_hex(char *p, uint32_t v)
{
    static const char HEX[] = "0123456789abcdef";
    *p++ = '0';
    *p++ = 'x';
    for (int i = 7; i >= 0; --i) {
        *p++ = HEX[(v >> (4 * i)) & 0xFu];
    }
    return p;
}

void hal_fault_report(const uint32_t *frame, uint32_t exc)
{
    char text[80];
    char *p = text;
    const char *head = "HARDFAULT exc=";
    memcpy(p, head, strlen(head));
    p += strlen(head);
    p = put_hex(p, exc);
    memcpy(p, " pc=", 4);
    p = put_hex(p + 4, frame[6]);
    memcpy(p, " lr=", 4);
    p = put_hex(p + 4, frame[5]);
    memcpy(p, " cfsr=", 6);
    p = put_hex(p + 6, REG(0xE000ED28u));
    *p = '\0';
    fw_device_send_error(fw_main_device(), FB_ERR_CODE_HARDFAULT, frame[6], text);
    hal_console(text);
    hal_console("\n");
    hal_exit(1);
}
