// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "pure/diagnosis.h"
#include "pure/dropfmt.h"
#include "pure/listendrops.h"
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

/* --- drops and verdicts --- */

static bool reason_is(const struct drop_item *it, const char *name)
{
	return !strcmp(it->reason_name, name);
}

/* Of a's drops on one side, the kind of segment seg dropped most often
 * (with specific, not for reason NOT_SPECIFIED). */
static const struct drop_item *drop_kind(const struct alert *a, bool peer, unsigned int seg,
					 bool specific)
{
	const struct drop_item *best = NULL;

	for (uint32_t i = 0; i < a->drops.n && i < DROP_LIST_MAX; i++) {
		const struct drop_item *it = &a->drops.item[i];

		if (it->peer != peer || it->segment != seg ||
		    (specific && reason_is(it, "NOT_SPECIFIED")))
			continue;
		if (!best || it->count > best->count)
			best = it;
	}
	return best;
}

static const struct drop_item *drop_of(const struct alert *a, bool peer, unsigned int seg)
{
	return drop_kind(a, peer, seg, false);
}

/* a full accept queue (tcp_listendrop) or SYN queue */
static bool listen_queue_full(const struct drop_item *it)
{
	return reason_is(it, "TCP_LISTEN_OVERFLOW") || reason_is(it, "TCP_REQQFULLDROP");
}

/*
 * The peer's drops of our SYNs that say why: not NOT_SPECIFIED, which is
 * also how a server frees a retransmitted SYN of a request it already
 * answers (tcp_check_req: it sends its SYN/ACK again instead).
 */
static const struct drop_item *peer_syn_drop(const struct alert *a)
{
	return drop_kind(a, true, TCPFSM_SEG_SYN, true);
}

/* What the evidence decides; never a guess. */
static enum alert_verdict decide(const struct alert *a)
{
	const struct drop_item *it;

	if (a->half_open) {
		if (drop_of(a, false, TCPFSM_SEG_SYNACK))
			return VERDICT_SYNACK_DROPPED_HERE;
		if (drop_of(a, true, TCPFSM_SEG_SYNACK))
			return VERDICT_SYNACK_DROPPED_AT_PEER;
		return VERDICT_UNKNOWN;
	}
	switch (a->state) {
	case TCPFSM_LISTEN:
		/* SYNs dropped before any socket exists: here, the listener's */
		it = drop_of(a, false, TCPFSM_SEG_SYN);
		if (it && listen_queue_full(it))
			return VERDICT_LISTEN_OVERFLOW;
		return it ? VERDICT_SYN_DROPPED_HERE : VERDICT_UNKNOWN;
	case TCPFSM_SYN_SENT:
		if (drop_of(a, false, TCPFSM_SEG_SYN))
			return VERDICT_SYN_DROPPED_HERE;
		/* a SYN/ACK came back: the SYN got through */
		if (drop_of(a, false, TCPFSM_SEG_SYNACK))
			return VERDICT_SYNACK_DROPPED_HERE;
		it = peer_syn_drop(a);
		if (it && reason_is(it, "NO_SOCKET"))
			return VERDICT_NO_LISTENER;
		if (it && listen_queue_full(it))
			return VERDICT_LISTEN_OVERFLOW;
		if (it)
			return VERDICT_SYN_DROPPED_AT_PEER;
		if (drop_of(a, true, TCPFSM_SEG_SYNACK))
			return VERDICT_SYNACK_DROPPED_AT_PEER;
		if (a->evidence & TCPFSM_EV_ICMP)
			return VERDICT_ICMP_REJECT;
		return VERDICT_UNKNOWN;
	case TCPFSM_CLOSE_WAIT:
		/* what the state means: the peer closed, the owner did not */
		return VERDICT_APP_NOT_CLOSING;
	case TCPFSM_FIN_WAIT2:
		return VERDICT_PEER_NOT_CLOSING;
	default:
		return VERDICT_UNKNOWN;
	}
}

/* " by netfilter (NETFILTER_DROP in nft_do_chain, 3 times)" */
static void drop_cause(struct sbuf *b, const struct drop_item *it)
{
	sb_puts(b, reason_is(it, "NETFILTER_DROP") ? " by netfilter (" : " (");
	sb_printf(b, "%s in %s, ", it->reason_name, it->where);
	if (it->count == 1)
		sb_puts(b, "once)");
	else
		sb_printf(b, "%u times)", it->count);
}

/* Verdicts from the peer's drops of our SYNs: they reached it. */
static bool peer_decided(enum alert_verdict v)
{
	return v == VERDICT_SYN_DROPPED_AT_PEER || v == VERDICT_NO_LISTENER ||
	       v == VERDICT_LISTEN_OVERFLOW;
}

/* The drops behind a stuck connect, as the verdict has it; false: none. */
static bool syn_sent_drops(struct sbuf *b, const struct alert *a)
{
	const struct drop_item *it, *rst;
	char ep[64];

	switch (a->verdict) {
	case VERDICT_SYN_DROPPED_HERE:
		sb_puts(b, ": our SYNs are dropped on this host");
		drop_cause(b, drop_of(a, false, TCPFSM_SEG_SYN));
		return true;
	case VERDICT_NO_LISTENER:
		format_endpoint(ep, sizeof(ep), a->family, a->daddr, a->dport);
		sb_printf(b, ": nothing listens on %s: the peer's kernel drops our SYNs", ep);
		drop_cause(b, peer_syn_drop(a));
		rst = drop_of(a, false, TCPFSM_SEG_RST);
		if (rst) {
			sb_puts(b, ", and the RSTs it answers with are dropped on this host");
			drop_cause(b, rst);
		}
		return true;
	case VERDICT_LISTEN_OVERFLOW:
		/* (a listener's own count: the SYNs of every client) */
		it = peer_syn_drop(a);
		sb_puts(b, !strcmp(it->where, LISTEN_OVERFLOW_WHERE) ?
				   ": the peer's listen queue is full, it refuses SYNs" :
				   ": the peer's listen queue is full, it drops our SYNs");
		drop_cause(b, it);
		return true;
	case VERDICT_SYN_DROPPED_AT_PEER:
		it = peer_syn_drop(a);
		sb_printf(b, ": our SYNs are dropped at the peer (network namespace %u)", it->netns);
		drop_cause(b, it);
		return true;
	case VERDICT_SYNACK_DROPPED_HERE:
		sb_puts(b, ": the SYN/ACKs are dropped on this host");
		drop_cause(b, drop_of(a, false, TCPFSM_SEG_SYNACK));
		return true;
	case VERDICT_SYNACK_DROPPED_AT_PEER:
		it = drop_of(a, true, TCPFSM_SEG_SYNACK);
		sb_printf(b, ": the peer's SYN/ACKs are dropped at the peer (network namespace %u)",
			  it->netns);
		drop_cause(b, it);
		return true;
	default:
		return false;
	}
}

/* Drops the sentence did not tell: "; 2 rst dropped here (...)" */
static void other_drops(struct sbuf *b, const struct alert *a, bool told)
{
	if (told || (!a->drops.n && !a->drops.more))
		return;
	sb_puts(b, "; ");
	sb_drop_list_text(b, &a->drops);
}

void alert_diagnose(struct alert *a, const char *peer)
{
	a->verdict = decide(a);
	alert_diagnose_words(a, peer);
}

/* "SYNs to :8080" (any address) or "SYNs to 198.18.0.2:8080" */
static void listener_words(struct sbuf *b, const struct alert *a)
{
	static const uint8_t any[16];
	char ep[64];

	if (!memcmp(a->saddr, any, 16))
		sb_printf(b, "SYNs to :%u", a->sport);
	else {
		format_endpoint(ep, sizeof(ep), a->family, a->saddr, a->sport);
		sb_printf(b, "SYNs to %s", ep);
	}
}

/*
 * A listener's alert: "SYNs to :8080 are dropped here: accept queue full
 * (TCP_LISTEN_OVERFLOW, 192 in 2.00s, backlog 1): process 1234 (java) does
 * not accept() fast enough", or "... by netfilter (NETFILTER_DROP in
 * nft_do_chain): 3 from 198.18.0.1 in 2.00s".
 */
static void diagnose_listener(struct sbuf *b, const struct alert *a, const char *age,
			      const char *owner)
{
	const struct drop_item *it = drop_of(a, false, TCPFSM_SEG_SYN);
	uint64_t total = drop_list_total(&a->drops);
	char src[64];

	listener_words(b, a);
	if (a->status == ALERT_RESOLVED) {
		sb_printf(b, ": %llu dropped in %s", (unsigned long long)total, age);
		if (a->resolution)
			sb_printf(b, "; %s", a->resolution);
		return;
	}
	if (!it) {
		sb_puts(b, " are dropped here");
		return;
	}
	if (listen_queue_full(it)) {
		sb_printf(b, " are dropped here: %s queue full (%s, %u in %s, backlog %u): %s does not "
			     "accept() fast enough",
			  reason_is(it, "TCP_REQQFULLDROP") ? "SYN" : "accept", it->reason_name,
			  it->count, age, a->max_backlog, owner);
	} else {
		sb_puts(b, " are dropped here");
		sb_puts(b, reason_is(it, "NETFILTER_DROP") ? " by netfilter (" : " (");
		sb_printf(b, "%s in %s): %u", it->reason_name, it->where, it->count);
		if (a->src_family && !a->src_multi) {
			format_addr(src, sizeof(src), a->src_family, a->src);
			sb_printf(b, " from %s", src);
		} else if (a->src_multi) {
			sb_puts(b, " from several addresses");
		}
		sb_printf(b, " in %s", age);
	}
	if (total > it->count)
		sb_printf(b, "; %llu more of other kinds", (unsigned long long)(total - it->count));
}

void alert_diagnose_words(struct alert *a, const char *peer)
{
	char age[32], owner[64] = "the owner", comm[TCPFSM_COMM_LEN];
	const char *at_least = a->age_at_least ? "at least " : "";
	struct sbuf b;

	sb_init(&b, a->diagnosis, sizeof(a->diagnosis));
	duration_format(age, sizeof(age), a->age_ns);
	if (a->owner)
		snprintf(owner, sizeof(owner), "process %u (%s)", a->pid,
			 comm_printable(comm, sizeof(comm), a->comm));
	if (a->state == TCPFSM_LISTEN) {
		if (!a->owner)
			snprintf(owner, sizeof(owner), "its owner");
		diagnose_listener(&b, a, age, owner);
		return;
	}
	if (a->status == ALERT_RESOLVED) {
		sb_printf(&b, "left %s after %s%s",
			  a->half_open ? "half-open" : alert_state_name(a->state), at_least, age);
		if (a->to_state)
			sb_printf(&b, " for %s", alert_state_name(a->to_state));
		if (a->resolution)
			sb_printf(&b, ": %s", a->resolution);
		other_drops(&b, a, false);
		return;
	}
	if (a->half_open) {
		const struct drop_item *it;

		sb_printf(&b, "half-open for %s%s, %u SYN/ACK retransmit%s: ", at_least, age,
			  a->syn_retrans, a->syn_retrans == 1 ? "" : "s");
		if (a->verdict == VERDICT_SYNACK_DROPPED_HERE) {
			sb_puts(&b, "our SYN/ACKs are dropped on this host");
			drop_cause(&b, drop_of(a, false, TCPFSM_SEG_SYNACK));
			if (peer && *peer)
				sb_printf(&b, "; %s", peer);
		} else if (a->verdict == VERDICT_SYNACK_DROPPED_AT_PEER) {
			it = drop_of(a, true, TCPFSM_SEG_SYNACK);
			sb_printf(&b, "the SYN/ACKs are dropped at the client (network namespace %u)",
				  it->netns);
			drop_cause(&b, it);
			if (peer && *peer)
				sb_printf(&b, "; %s", peer);
		} else {
			sb_printf(&b, "%s",
				  peer && *peer ? peer : "the SYN/ACK is not answered by the client");
			other_drops(&b, a, false);
		}
		return;
	}
	sb_printf(&b, "%s for %s%s", alert_state_name(a->state), at_least, age);
	switch (a->state) {
	case TCPFSM_SYN_SENT: {
		bool told;

		sb_printf(&b, ", %u SYN retransmit%s", a->syn_retrans, a->syn_retrans == 1 ? "" : "s");
		told = syn_sent_drops(&b, a);
		if (!told && (a->evidence & TCPFSM_EV_ICMP))
			sb_printf(&b, ", ICMP errors: a router or the peer rejects the SYN");
		else if (!told)
			sb_printf(&b, ", no answer: the SYN or the SYN/ACK is being dropped on the way");
		/* what the peer's socket shows, unless its drops tell more: the
		 * SYN arrived there */
		if (peer && *peer && !peer_decided(a->verdict))
			sb_printf(&b, "; %s", peer);
		other_drops(&b, a, told);
		return;
	}
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
	other_drops(&b, a, false);
}

void alert_diagnose_aggregate(struct alert *a, uint32_t rate)
{
	char ep[64], comm[TCPFSM_COMM_LEN];
	struct sbuf b;

	a->verdict = VERDICT_UNKNOWN;
	sb_init(&b, a->diagnosis, sizeof(a->diagnosis));
	sb_printf(&b, "%u more %s %s alert%s", a->count,
		  a->half_open ? "half-open" : alert_state_name(a->state),
		  a->status == ALERT_RESOLVED ? "resolved" : "firing", a->count == 1 ? "" : "s");
	if (a->state == TCPFSM_SYN_SENT) {
		format_endpoint(ep, sizeof(ep), a->family, a->daddr, a->dport);
		sb_printf(&b, " toward %s", ep);
	} else if (a->half_open || a->state == TCPFSM_LISTEN) {
		sb_printf(&b, " on port %u", a->sport);
	} else if (a->owner) {
		sb_printf(&b, " of process %u (%s)", a->pid,
			  comm_printable(comm, sizeof(comm), a->comm));
	}
	sb_printf(&b, " (rate limit: %u per group per minute)", rate);
}
