/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_ALERTCFG_H
#define TCPFSM_ALERTCFG_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

/* What counts as stuck (--alert STATE=DURATION) and how many alerts a group
 * may send (--alert-rate). */
struct alert_cfg {
	uint64_t threshold_ns[TCPFSM_STATE_MAX]; /* 0: no alert for that state */
	uint32_t rate;		/* individual alerts per group per minute */
};

/* Defaults: SYN_SENT 3s, SYN_RECV 3s, CLOSE_WAIT 60s, LAST_ACK 30s,
 * FIN_WAIT1 30s, FIN_WAIT2 60s, CLOSING 30s; rate 10 per minute. */
void alert_cfg_defaults(struct alert_cfg *cfg);
/* "SYN_SENT=3s" into cfg; -EINVAL with a message (cfg untouched). */
int alert_cfg_parse(struct alert_cfg *cfg, const char *spec, char *err, size_t errlen);

#endif
