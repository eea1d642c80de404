// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <linux/types.h>
#include "tcpfsm.h"
#include "pure/state.h"

static const char *const names[TCPFSM_STATE_MAX] = {
	[TCPFSM_ESTABLISHED] = "ESTABLISHED", [TCPFSM_SYN_SENT] = "SYN_SENT",
	[TCPFSM_SYN_RECV] = "SYN_RECV",	      [TCPFSM_FIN_WAIT1] = "FIN_WAIT1",
	[TCPFSM_FIN_WAIT2] = "FIN_WAIT2",     [TCPFSM_TIME_WAIT] = "TIME_WAIT",
	[TCPFSM_CLOSE] = "CLOSE",	      [TCPFSM_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCPFSM_LAST_ACK] = "LAST_ACK",	      [TCPFSM_LISTEN] = "LISTEN",
	[TCPFSM_CLOSING] = "CLOSING",	      [TCPFSM_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

/* Other spellings, already upper case with underscores. */
static const struct {
	const char *name;
	int state;
} aliases[] = {
	{ "CLOSED", TCPFSM_CLOSE },	      { "LISTENING", TCPFSM_LISTEN },
	{ "SYN_RECEIVED", TCPFSM_SYN_RECV },  { "SYN_RCVD", TCPFSM_SYN_RECV },
	{ "ESTAB", TCPFSM_ESTABLISHED },      { "FIN_WAIT_1", TCPFSM_FIN_WAIT1 },
	{ "FIN_WAIT_2", TCPFSM_FIN_WAIT2 },   { "TIMEWAIT", TCPFSM_TIME_WAIT },
	{ "CLOSEWAIT", TCPFSM_CLOSE_WAIT },   { "LASTACK", TCPFSM_LAST_ACK },
	{ "FINWAIT1", TCPFSM_FIN_WAIT1 },     { "FINWAIT2", TCPFSM_FIN_WAIT2 },
	{ "SYNSENT", TCPFSM_SYN_SENT },	      { "SYN_RECEIVE", TCPFSM_SYN_RECV },
};

const char *state_name(int state)
{
	if (state <= 0 || state >= TCPFSM_STATE_MAX)
		return NULL;
	return names[state];
}

int state_parse(const char *s)
{
	char buf[32];
	size_t i, n;

	if (!s)
		return -EINVAL;
	n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '-' || c == ' ')
			c = '_';
		else if (!isalnum(c) && c != '_')
			return -EINVAL;
		buf[i] = toupper(c);
	}
	buf[n] = 0;
	for (i = 1; i < TCPFSM_STATE_MAX; i++)
		if (!strcmp(buf, names[i]))
			return i;
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(buf, aliases[i].name))
			return aliases[i].state;
	return -EINVAL;
}
