// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "filter.h"

/* --state bit of a state; none for numbers past the table (corrupt records) */
static uint32_t state_bit(unsigned int state)
{
	return state < TCPFSM_STATE_MAX ? 1u << state : 0;
}

bool filter_user_side(const struct tcpfsm_config *cfg, const struct tcpfsm_event *e)
{
	unsigned int i;
	bool ok;

	if (cfg->state_mask &&
	    !(cfg->state_mask & (state_bit(e->oldstate) | state_bit(e->newstate))))
		return false;
	if (cfg->n_pids) {
		for (ok = false, i = 0; i < cfg->n_pids && !ok; i++)
			ok = (e->flags & TCPFSM_F_OWNER) && e->pid == cfg->pids[i];
		if (!ok)
			return false;
	}
	if (cfg->n_comms) {
		for (ok = false, i = 0; i < cfg->n_comms && !ok; i++)
			ok = (e->flags & TCPFSM_F_OWNER) &&
			     !strncmp(e->comm, cfg->comms[i], TCPFSM_COMM_LEN);
		if (!ok)
			return false;
	}
	return true;
}

static bool port_in(uint16_t p, const uint16_t *list, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (list[i] == p)
			return true;
	return false;
}

bool filter_kernel_side(const struct tcpfsm_config *cfg, const struct tcpfsm_event *e)
{
	if (cfg->family && e->family != cfg->family)
		return false;
	if (cfg->n_netns) {
		unsigned int i;

		for (i = 0; i < cfg->n_netns; i++)
			if (cfg->netns[i] == e->netns)
				break;
		if (i == cfg->n_netns)
			return false;
	}
	if (cfg->n_lports && !port_in(e->sport, cfg->lports, cfg->n_lports))
		return false;
	if (cfg->n_rports && !port_in(e->dport, cfg->rports, cfg->n_rports))
		return false;
	if (cfg->n_ports && !port_in(e->sport, cfg->ports, cfg->n_ports) &&
	    !port_in(e->dport, cfg->ports, cfg->n_ports))
		return false;
	if (cfg->cgroup_id && e->cgroup_id != cfg->cgroup_id)
		return false;
	return true;
}
