/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_PRIVS_H
#define TCPFSM_PRIVS_H

#include <stdint.h>

/* Capability numbers we name (linux/capability.h). */
#define PRIV_DAC_READ_SEARCH 2
#define PRIV_SYS_PTRACE 19
#define PRIV_SYS_ADMIN 21

/*
 * Keep only the capabilities in keep (bit per capability) in the effective,
 * permitted and inheritable sets, and clear the ambient set: once the BPF
 * programs are loaded and attached, their fds are all tcpfsm needs for them.
 * Returns 0 or -errno.
 */
int privs_drop(uint64_t keep);

#endif
