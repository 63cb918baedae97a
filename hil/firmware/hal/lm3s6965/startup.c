/*
 * startup.c - reset handler, vector table and fault handlers for the LM3S6965 (Cortex-M3).
 *
 * Reset copies .data from flash, clears .bss and calls fw_run(). Every fault lands in
 * fault_report(): it sends an ERROR(HARDFAULT) frame on the UART with the stacked PC, prints a
 * report to the semihosting console and exits QEMU through SYS_EXIT with a run-time-error reason
 * (QEMU exit status 1), so a crash is never mistaken for a pass.
 */
#include <stdint.h>

#include "fw_device.h"
#include "fw_hal.h"
#include "fw_main.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);
void UART0_IRQHandler(void);
void SysTick_Handler(void);
void hal_fault_report(const uint32_t *frame, uint32_t exc);
void hal_rx_push(uint8_t byte);

void Reset_Handler(void)
{
    /* First of all turn the UART0 FIFOs on. QEMU's PL011 empties its receive FIFO when FEN
     * changes, and at reset (FIFO off, one byte deep) it may already hold the bench's first
     * byte: keep it in a local (the stack is usable; .bss is not cleared yet). */
    int32_t early = -1;
    if ((*(volatile uint32_t *)0x4000C018u & (1u << 4)) == 0u) {
        early = (int32_t)(*(volatile uint32_t *)0x4000C000u & 0xFFu);
    }
    *(volatile uint32_t *)0x4000C02Cu = 0x70u;
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0u;
    }
    if (early >= 0) {
        hal_rx_push((uint8_t)early);
    }
    fw_run();
    hal_exit(0);
}

/* Naked trampoline: pass the stacked exception frame (MSP or PSP) to the C reporter. */
__attribute__((naked)) void HardFault_Handler(void)
{
    __asm volatile("tst lr, #4\n"
                   "ite eq\n"
                   "mrseq r0, msp\n"
                   "mrsne r0, psp\n"
                   "mrs r1, ipsr\n"
                   "b hal_fault_report\n");
}

void Default_Handler(void)
{
    HardFault_Handler();
}

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t VECTORS[16 + 32] = {
    (vector_t)(uintptr_t)&_estack, /* initial stack pointer */
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler,
    HardFault_Handler, /* MemManage */
    HardFault_Handler, /* BusFault */
    HardFault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,   /* SVCall */
    Default_Handler,   /* DebugMonitor */
    0,
    Default_Handler,   /* PendSV */
    SysTick_Handler,
    /* external interrupts 0..31 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    UART0_IRQHandler, /* IRQ 5: UART0 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler,
};
