// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pure/schedule.h"

#define SEC 1000000000ULL

uint64_t sched_track_after_ns(const struct alert_cfg *cfg)
{
	uint64_t after = SEC;

	for (int s = 0; s < TCPFSM_STATE_MAX; s++)
		if (cfg->threshold_ns[s] && cfg->threshold_ns[s] / 2 < after)
			after = cfg->threshold_ns[s] / 2;
	return after;
}

uint64_t sched_track_interval_ns(const struct alert_cfg *cfg, uint64_t sweep_ns, uint64_t dur_ns)
{
	uint64_t want = dur_ns > UINT64_MAX / 50 ? UINT64_MAX : dur_ns * 50, cap = UINT64_MAX;

	for (int s = 0; s < TCPFSM_STATE_MAX; s++) {
		uint64_t t = cfg->threshold_ns[s];

		if (!t || s == TCPFSM_SYN_RECV || (s == TCPFSM_SYN_SENT && t >= 2 * SEC))
			continue;
		if (t / 2 < cap)
			cap = t / 2;
	}
	if (want > cap)
		want = cap;
	return want > sweep_ns ? want : sweep_ns;
}
