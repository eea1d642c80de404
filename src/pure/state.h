/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_STATE_H
#define TCPFSM_STATE_H

#include <stdbool.h>
#include <linux/types.h>
#include "tcpfsm.h"

/* Linux's name of a TCP state ("SYN_SENT"), or NULL when out of range. */
const char *state_name(int state);

/*
 * Parse a state name: Linux's names case-insensitively, RFC 793 spellings
 * (CLOSED, LISTENING, SYN_RECEIVED, FIN_WAIT_1, ...), ss's (ESTAB, SYN-RECV),
 * dashes or spaces for underscores. Returns the state number or -EINVAL.
 */
int state_parse(const char *s);

/*
 * A self-transition: the kernel reported X -> X (close() after shutdown()
 * gives FIN_WAIT1 -> FIN_WAIT1, FIN_WAIT2 -> FIN_WAIT2, CLOSING -> CLOSING).
 * The socket stays in X; old_duration_ns is its time there so far. Told by
 * the states, not only by TCPFSM_F_SAME_STATE: older recordings lack it.
 */
static inline bool event_same_state(const struct tcpfsm_event *e)
{
	return e->kind == TCPFSM_KIND_TRANSITION && e->oldstate == e->newstate;
}

#endif
