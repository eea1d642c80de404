// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include "pure/diagnosis.h"
#include "pure/duration.h"
#include "pure/sbuf.h"

void alert_peer_words(char *buf, size_t len, const struct alert_peer *p)
{
	char comm[TCPFSM_COMM_LEN];

	switch (p->kind) {
	case PEER_HALF_OPEN:
		snprintf(buf, len, "the peer is half-open: the SYN/ACK does not reach this client");
		break;
	case PEER_LISTEN_ONLY:
		snprintf(buf, len, "the peer only LISTENs: the SYN never arrived");
		break;
	case PEER_CLIENT_SYN_SENT:
		if (p->owner)
			snprintf(buf, len,
				 "the client (process %u, %s) is in SYN_SENT: the SYN/ACK does not reach it",
				 p->pid, comm_printable(comm, sizeof(comm), p->comm));
		else
			snprintf(buf, len, "the client is in SYN_SENT: the SYN/ACK does not reach it");
		break;
	default:
		if (len)
			buf[0] = 0;
		break;
	}
}

void alert_diagnose(struct alert *a, const char *peer)
{
	char age[32], owner[64] = "the owner", comm[TCPFSM_COMM_LEN];
	const char *at_least = a->age_at_least ? "at least " : "";
	struct sbuf b;

	sb_init(&b, a->diagnosis, sizeof(a->diagnosis));
	duration_format(age, sizeof(age), a->age_ns);
	if (a->owner)
		snprintf(owner, sizeof(owner), "process %u (%s)", a->pid,
			 comm_printable(comm, sizeof(comm), a->comm));
	if (a->status == ALERT_RESOLVED) {
		sb_printf(&b, "left %s after %s%s",
			  a->half_open ? "half-open" : alert_state_name(a->state), at_least, age);
		if (a->to_state)
			sb_printf(&b, " for %s", alert_state_name(a->to_state));
		if (a->resolution)
			sb_printf(&b, ": %s", a->resolution);
		return;
	}
	if (a->half_open) {
		sb_printf(&b, "half-open for %s%s, %u SYN/ACK retransmit%s: ", at_least, age,
			  a->syn_retrans, a->syn_retrans == 1 ? "" : "s");
		sb_printf(&b, "%s", peer && *peer ? peer : "the SYN/ACK is not answered by the client");
		return;
	}
	sb_printf(&b, "%s for %s%s", alert_state_name(a->state), at_least, age);
	switch (a->state) {
	case TCPFSM_SYN_SENT:
		sb_printf(&b, ", %u SYN retransmit%s", a->syn_retrans, a->syn_retrans == 1 ? "" : "s");
		if (a->evidence & TCPFSM_EV_ICMP)
			sb_printf(&b, ", ICMP errors: a router or the peer rejects the SYN");
		else
			sb_printf(&b, ", no answer: the SYN or the SYN/ACK is being dropped on the way");
		if (peer && *peer)
			sb_printf(&b, "; %s", peer);
		break;
	case TCPFSM_SYN_RECV:
		sb_printf(&b, ": the handshake's last ACK does not arrive");
		break;
	case TCPFSM_CLOSE_WAIT:
		sb_printf(&b, ": the peer closed %s%s ago; %s has not called close()", at_least, age,
			  owner);
		if (a->fd >= 0)
			sb_printf(&b, " (fd %d, socket inode %u)", a->fd, a->ino);
		else if (a->ino)
			sb_printf(&b, " (socket inode %u)", a->ino);
		break;
	case TCPFSM_LAST_ACK:
		sb_printf(&b, ": both sides closed, our FIN is not acknowledged: the peer is gone or "
			      "the path drops packets");
		break;
	case TCPFSM_FIN_WAIT1:
		sb_printf(&b, ": our FIN is not acknowledged: the peer is unreachable, or it does not "
			      "read and its window is closed");
		break;
	case TCPFSM_FIN_WAIT2:
		sb_printf(&b, ": the peer acknowledged our FIN but has not closed its side: the peer "
			      "application has not called close()");
		break;
	case TCPFSM_CLOSING:
		sb_printf(&b, ": both sides closed at once and the last ACK is missing");
		break;
	case TCPFSM_ESTABLISHED:
		sb_printf(&b, ": open longer than the threshold");
		break;
	default:
		break;
	}
}

void alert_diagnose_aggregate(struct alert *a, uint32_t rate)
{
	char ep[64], comm[TCPFSM_COMM_LEN];
	struct sbuf b;

	sb_init(&b, a->diagnosis, sizeof(a->diagnosis));
	sb_printf(&b, "%u more %s %s alert%s", a->count,
		  a->half_open ? "half-open" : alert_state_name(a->state),
		  a->status == ALERT_RESOLVED ? "resolved" : "firing", a->count == 1 ? "" : "s");
	if (a->state == TCPFSM_SYN_SENT) {
		format_endpoint(ep, sizeof(ep), a->family, a->daddr, a->dport);
		sb_printf(&b, " toward %s", ep);
	} else if (a->half_open) {
		sb_printf(&b, " on port %u", a->sport);
	} else if (a->owner) {
		sb_printf(&b, " of process %u (%s)", a->pid,
			  comm_printable(comm, sizeof(comm), a->comm));
	}
	sb_printf(&b, " (rate limit: %u per group per minute)", rate);
}
