// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "pure/filter.h"

/* --state bit of a state; none for numbers past the table (corrupt records) */
static uint32_t state_bit(unsigned int state)
{
	return state < TCPFSM_STATE_MAX ? 1u << state : 0;
}

bool filter_user_side(const struct user_filter *f, const struct tcpfsm_event *e)
{
	unsigned int i;
	bool ok;

	if (f->state_mask && !(f->state_mask & (state_bit(e->oldstate) | state_bit(e->newstate))))
		return false;
	if (f->n_pids) {
		for (ok = false, i = 0; i < f->n_pids && !ok; i++)
			ok = (e->flags & TCPFSM_F_OWNER) && e->pid == f->pids[i];
		if (!ok)
			return false;
	}
	if (f->n_comms) {
		for (ok = false, i = 0; i < f->n_comms && !ok; i++)
			ok = (e->flags & TCPFSM_F_OWNER) &&
			     !strncmp(e->comm, f->comms[i], TCPFSM_COMM_LEN);
		if (!ok)
			return false;
	}
	return true;
}

bool filter_kernel_side(const struct tcpfsm_filter *f, const struct tcpfsm_event *e)
{
	return tcpfsm_filter_pass(f, e);
}
