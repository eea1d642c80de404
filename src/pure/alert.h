/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_ALERT_H
#define TCPFSM_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pure/conntab.h"
#include "pure/format.h"

/*
 * The alert engine of `watch`: decides when a connection has been in a state
 * too long (checked by a sweep, since a stuck socket never transitions),
 * when it leaves it, keeps half-open requests (which the state tracepoint
 * never reports), rate-limits per group and writes the diagnosis. Pure: the
 * caller feeds it records, sweeps and the time; it calls back with alerts.
 */

enum alert_status { ALERT_FIRING = 0, ALERT_RESOLVED };

struct alert {
	enum alert_status status;
	int state;		/* the state alerted: SYN_RECV also for half-open */
	bool half_open;		/* a request socket, not a full connection */
	bool aggregate;		/* a summary of suppressed alerts of one group */
	uint32_t count;		/* aggregate: how many it stands for */
	uint64_t time_ns;	/* CLOCK_BOOTTIME of the alert */
	uint64_t age_ns;	/* time in the state so far (resolved: in all) */
	bool age_at_least;	/* the state began before tracing: a lower bound */
	uint64_t threshold_ns;
	/* identity */
	uint64_t cookie, cgroup_id;
	uint32_t pid, netns, ino;
	int fd;			/* the owner's fd for the socket, -1 unknown */
	bool owner;
	char comm[TCPFSM_COMM_LEN];
	uint8_t family;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	/* evidence */
	uint16_t syn_retrans;	/* SYN (or, half-open, SYN/ACK) retransmits */
	uint8_t evidence;	/* TCPFSM_EV_* */
	/* resolved: where it went */
	int to_state;		/* 0 unknown (expired half-open) */
	const char *resolution;	/* "closed", "left the state", ... */
	char diagnosis[320];
};

struct alert_cfg {
	uint64_t threshold_ns[TCPFSM_STATE_MAX]; /* 0: no alert for that state */
	uint32_t rate;		/* individual alerts per group per minute */
};

/* Defaults: SYN_SENT 3s, SYN_RECV 3s, CLOSE_WAIT 60s, LAST_ACK 30s,
 * FIN_WAIT1 30s, FIN_WAIT2 60s, CLOSING 30s; rate 10 per minute. */
void alert_cfg_defaults(struct alert_cfg *cfg);
/* "SYN_SENT=3s" into cfg; -EINVAL with a message. */
int alert_cfg_parse(struct alert_cfg *cfg, const char *spec, char *err, size_t errlen);

/*
 * Lazy tracking: how long until the next tracking sweep. Every sweep_ns,
 * unless a sweep costs more than 2% of a CPU (dur_ns each, on a host with
 * many sockets): then less often, but never later than half the smallest
 * threshold of the states only a sweep finds. A stuck connect is found by
 * its first SYN retransmit (1 s) instead, a half-open request by its SYN/ACK
 * retransmits: SYN_SENT from 2 s on and SYN_RECV do not bound it.
 */
uint64_t alert_track_interval(const struct alert_cfg *cfg, uint64_t sweep_ns, uint64_t dur_ns);

typedef void (*alert_fn)(void *ctx, struct alert *a);
/* find the fd of socket inode ino in process pid; -1 if not found */
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

/*
 * Feed one record; the engine applies it to tab itself (so it sees the state
 * left), tracks half-open requests, and reports resolutions. conn_emit
 * (optional) receives closed connections as conntab__apply would.
 */
int alert_engine__apply(struct alert_engine *ae, struct conntab *tab, const struct tcpfsm_event *e,
			conn_emit_fn conn_emit, void *conn_ctx);
/* Check every tracked socket against the thresholds at now_ns. */
void alert_engine__sweep(struct alert_engine *ae, struct conntab *tab, uint64_t now_ns);
/* A sweep of requests begins / ends: requests not seen in between are gone. */
void alert_engine__requests_begin(struct alert_engine *ae);
void alert_engine__requests_end(struct alert_engine *ae, uint64_t now_ns);
const struct alert_stats *alert_engine__stats(const struct alert_engine *ae);

/* The one-sentence diagnosis for a (not aggregate) alert. peer: what the
 * other end on this host is doing, NULL when unknown. */
void alert_diagnose(struct alert *a, const char *peer);

/* Text line and JSON line (type "alert"). snprintf-style. */
int format_alert_text(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o);
int format_alert_json(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o);

#endif
