/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_CLOCK_H
#define TCPFSM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* A clock's time in nanoseconds (clock_gettime): CLOCK_MONOTONIC for our
 * own intervals and deadlines, CLOCK_REALTIME for the wall. */
uint64_t clock_ns(clockid_t clk);

/* CLOCK_BOOTTIME in nanoseconds: the clock of every record's ts_ns (the BPF
 * side's bpf_ktime_get_boot_ns), and so of the engine, alerts and hooks. A
 * function of its own so that it can be handed over (rings__new). */
uint64_t clock_boot_ns(void);

#endif
