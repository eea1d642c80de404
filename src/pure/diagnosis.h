/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_DIAGNOSIS_H
#define TCPFSM_DIAGNOSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pure/alert.h"

/*
 * The words of an alert: the one-sentence diagnosis built from the state,
 * its age and the evidence, what the other end says when it lives on this
 * host, and the rate limit's summary lines. Pure; every sentence is here.
 */

/* What the other end of a stuck handshake shows, when it is on this host. */
enum peer_kind {
	PEER_UNKNOWN = 0,
	PEER_HALF_OPEN,		/* a connect's server holds a half-open request */
	PEER_LISTEN_ONLY,	/* a connect's server only LISTENs */
	PEER_CLIENT_SYN_SENT,	/* a half-open request's client is in SYN_SENT */
};

struct alert_peer {
	enum peer_kind kind;
	bool owner;		/* PEER_CLIENT_SYN_SENT: pid and comm known */
	uint32_t pid;
	char comm[TCPFSM_COMM_LEN];
};

/* The clause about the peer ("" when unknown), for alert_diagnose. */
void alert_peer_words(char *buf, size_t len, const struct alert_peer *p);

/* Write a->verdict and a->diagnosis for a (not aggregate) alert, from its
 * state, evidence and drops (named: a->drops). peer: the clause about the
 * other end, NULL or "" when unknown. */
void alert_diagnose(struct alert *a, const char *peer);
/* Only the words, for the verdict already in a->verdict. */
void alert_diagnose_words(struct alert *a, const char *peer);

/* Write a->diagnosis for an aggregate: "N more STATE firing alerts toward
 * ADDR:PORT (rate limit: R per group per minute)". */
void alert_diagnose_aggregate(struct alert *a, uint32_t rate);

#endif
