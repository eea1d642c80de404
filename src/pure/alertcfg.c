// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pure/alertcfg.h"
#include "pure/duration.h"
#include "pure/state.h"

#define SEC 1000000000ULL

void alert_cfg_defaults(struct alert_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->threshold_ns[TCPFSM_SYN_SENT] = 3 * SEC;
	cfg->threshold_ns[TCPFSM_SYN_RECV] = 3 * SEC;
	cfg->threshold_ns[TCPFSM_CLOSE_WAIT] = 60 * SEC;
	cfg->threshold_ns[TCPFSM_LAST_ACK] = 30 * SEC;
	cfg->threshold_ns[TCPFSM_FIN_WAIT1] = 30 * SEC;
	cfg->threshold_ns[TCPFSM_FIN_WAIT2] = 60 * SEC;
	cfg->threshold_ns[TCPFSM_CLOSING] = 30 * SEC;
	cfg->rate = 10;
}

int alert_cfg_parse(struct alert_cfg *cfg, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	char name[32];
	uint64_t ns;
	int st;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(name)) {
		snprintf(err, errlen, "bad --alert '%s': expected STATE=DURATION (SYN_SENT=3s)", spec);
		return -EINVAL;
	}
	memcpy(name, spec, eq - spec);
	name[eq - spec] = 0;
	st = state_parse(name);
	if (st < 0) {
		snprintf(err, errlen, "bad --alert '%s': unknown state '%s'", spec, name);
		return -EINVAL;
	}
	if (st == TCPFSM_CLOSE || st == TCPFSM_NEW_SYN_RECV || st == TCPFSM_TIME_WAIT) {
		snprintf(err, errlen,
			 "bad --alert '%s': %s cannot be alerted (half-open requests are SYN_RECV)",
			 spec, state_name(st));
		return -EINVAL;
	}
	if (duration_parse(eq + 1, &ns) || !ns) {
		snprintf(err, errlen, "bad --alert '%s': '%s' is not a positive duration", spec,
			 eq + 1);
		return -EINVAL;
	}
	cfg->threshold_ns[st] = ns;
	return 0;
}
