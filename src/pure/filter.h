/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_FILTER_H
#define TCPFSM_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

#define FILTER_MAX_PIDS 16
#define FILTER_MAX_COMMS 8

/* The filters applied in userspace: --pid, --comm, --state. */
struct user_filter {
	uint32_t state_mask;	/* --state: bit per state, 0: any */
	uint32_t pids[FILTER_MAX_PIDS];
	unsigned int n_pids;
	char comms[FILTER_MAX_COMMS][TCPFSM_COMM_LEN];
	unsigned int n_comms;
};

bool filter_user_side(const struct user_filter *f, const struct tcpfsm_event *e);
/* The kernel's rule (tcpfsm_filter_pass), for records that did not come
 * through it: replayed events, snapshot seeds. */
bool filter_kernel_side(const struct tcpfsm_filter *f, const struct tcpfsm_event *e);

#endif
