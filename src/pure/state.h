/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_STATE_H
#define TCPFSM_STATE_H

/* Linux's name of a TCP state ("SYN_SENT"), or NULL when out of range. */
const char *state_name(int state);

/*
 * Parse a state name: Linux's names case-insensitively, RFC 793 spellings
 * (CLOSED, LISTENING, SYN_RECEIVED, FIN_WAIT_1, ...), ss's (ESTAB, SYN-RECV),
 * dashes or spaces for underscores. Returns the state number or -EINVAL.
 */
int state_parse(const char *s);

#endif
