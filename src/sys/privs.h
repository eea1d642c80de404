/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_PRIVS_H
#define TCPFSM_PRIVS_H

#include <stdbool.h>
#include <stdint.h>

/* Capability numbers we name (linux/capability.h). */
#define PRIV_DAC_READ_SEARCH 2
#define PRIV_SETGID 6
#define PRIV_SETUID 7
#define PRIV_SYS_PTRACE 19
#define PRIV_SYS_ADMIN 21
#define PRIV_PERFMON 38
#define PRIV_BPF 39

#define PRIV_BIT(cap) (1ULL << (cap))

/*
 * Keep only the capabilities in keep (bit per capability) in the effective
 * and permitted sets, plus permitted_only in the permitted set alone (for a
 * forked hook to raise, never used by tcpfsm itself); clear the inheritable
 * and ambient sets; and drop every capability outside keep from the
 * bounding set, so that nothing exec'd later (an --alert-exec hook run as
 * root) regains more. Once the BPF programs are loaded and attached, their
 * fds are all tcpfsm needs for them. The bounding set needs CAP_SETPCAP:
 * without it (an unprivileged user with ambient capabilities) what could
 * not be dropped from it is left in *bset_left. Returns 0 or -errno.
 */
int privs_drop(uint64_t keep, uint64_t permitted_only, uint64_t *bset_left);

/* The effective and permitted sets. 0 or -errno. */
int privs_get(uint64_t *eff, uint64_t *prm);
/* Set them (inheritable cleared): the kernel only lets them shrink, or eff
 * grow within prm. 0 or -errno. */
int privs_set(uint64_t eff, uint64_t prm);
/* Whether every capability in caps is in the permitted set. */
bool privs_permitted(uint64_t caps);

#endif
