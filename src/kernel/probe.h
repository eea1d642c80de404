/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_PROBE_H
#define TCPFSM_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include "sys/config.h"

/* What the running kernel and our privileges allow. Each says why on
 * stderr when the answer ends the run (returns -errno). */

/* CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN). 0 or -EPERM. */
int probe_privileges(void);
/* The kernel's BTF (or --btf FILE) and the BPF ring buffer. 0 or -errno. */
int probe_kernel(const struct tcpfsm_config *cfg);
/* tracefs for the classic tracepoint: mounted already, or mounted now in a
 * private mount namespace of our own. 0 or -errno. */
int probe_tracefs(void);
/* tp_btf with socket storage and cookies (Linux 5.11+); else false and why. */
bool probe_tp_btf(const struct tcpfsm_config *cfg, const char **why);
/* Whether evidence tracepoint tcp:name exists for this attach path. */
bool probe_hook(enum attach_mode mode, const char *name);
/* The preempt count's per-CPU offset if the programs can read it (x86-64,
 * the kernel's own BTF, per-CPU ksyms: CONFIG_KALLSYMS_ALL), else 0. */
uint64_t probe_preempt_count(const struct tcpfsm_config *cfg);

#endif
