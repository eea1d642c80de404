/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_ALERTENGINE_H
#define TCPFSM_ALERTENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include "pure/alert.h"
#include "pure/alertcfg.h"
#include "pure/conntab.h"
#include "pure/listendrops.h"

/*
 * The alert engine: decides when a connection has been in a state too long
 * (checked by a sweep, since a stuck socket never transitions) and when it
 * leaves it, follows half-open requests (pure/halfopen.h), and reports
 * through the rate limit (pure/ratelimit.h) with a diagnosis
 * (pure/diagnosis.h). Pure: the caller feeds it records, sweeps and the
 * time; it calls back with alerts.
 */

typedef void (*alert_fn)(void *ctx, struct alert *a);
/* the fd of socket inode ino in process pid; negative if not found */
typedef int (*fd_lookup_fn)(uint32_t pid, uint32_t ino);

struct alert_stats {
	uint64_t fired[TCPFSM_STATE_MAX];	/* alerts_total by state */
	uint32_t firing[TCPFSM_STATE_MAX];	/* now */
	uint64_t suppressed;			/* folded into aggregates */
	uint32_t half_open;			/* half-open requests tracked */
	uint32_t groups;			/* rate-limit groups remembered */
};

struct alert_engine;

struct alert_engine *alert_engine__new(const struct alert_cfg *cfg, alert_fn fn, void *ctx);
void alert_engine__free(struct alert_engine *ae);
void alert_engine__set_fd_lookup(struct alert_engine *ae, fd_lookup_fn fn);
/* Who names the drops an alert carries (else reason_N and hex). */
void alert_engine__set_drop_namer(struct alert_engine *ae, drop_name_fn fn, void *ctx);

/*
 * Feed one record; the engine applies it to tab itself (so it sees the state
 * left), tracks half-open requests, and reports resolutions. conn_emit
 * (optional) receives closed connections as conntab__apply would. A
 * transition to the state the socket is in already (old == new) is no
 * resolution and does not restart the time in the state.
 */
int alert_engine__apply(struct alert_engine *ae, struct conntab *tab, const struct tcpfsm_event *e,
			conn_emit_fn conn_emit, void *conn_ctx);
/* Check every tracked socket against the thresholds at now_ns, then send
 * the rate limit's summaries. */
void alert_engine__sweep(struct alert_engine *ae, struct conntab *tab, uint64_t now_ns);
/* A sweep of requests begins / ends: requests not seen in between are gone. */
void alert_engine__requests_begin(struct alert_engine *ae);
void alert_engine__requests_end(struct alert_engine *ae, uint64_t now_ns);
const struct alert_stats *alert_engine__stats(const struct alert_engine *ae);

/*
 * Listener alerts: SYNs dropped before any socket exists for them (a
 * firewall, a full accept or SYN queue), by listening port, rate-limited
 * like the others (a group per namespace and port). A listener sweep tells
 * the engine the listeners and their drop counters (begin, one call each,
 * end: those not seen are gone); drop records of incoming SYNs come with
 * alert_engine__apply. An alert fires at the next sweep after a drop and
 * resolves after LISTEN_QUIET_NS without one, or when the listener goes.
 */
void alert_engine__listeners_begin(struct alert_engine *ae);
int alert_engine__listener(struct alert_engine *ae, const struct listener_info *li,
			   uint64_t now_ns);
void alert_engine__listeners_end(struct alert_engine *ae, uint64_t now_ns);
/* SYN drops counted for listeners so far, by reason (metrics). */
size_t alert_engine__listen_totals(const struct alert_engine *ae, const struct listen_total **out);

#endif
