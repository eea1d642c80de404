/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_ALERT_H
#define TCPFSM_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"
#include "pure/droptab.h"
#include "pure/format.h"

/*
 * One alert, as the alert engine (pure/alertengine.h) reports it and every
 * output shows it: a socket stuck in a state (firing), out of it
 * (resolved), or a rate limit's summary of several (aggregate); and its
 * text and JSON lines.
 */

enum alert_status { ALERT_FIRING = 0, ALERT_RESOLVED };

/*
 * What the evidence says is wrong, for alert routing (JSON `verdict`; the
 * names are a contract, README lists them): UNKNOWN when the evidence does
 * not decide. pure/diagnosis.c decides.
 */
enum alert_verdict {
	VERDICT_UNKNOWN = 0,
	VERDICT_SYN_DROPPED_HERE,	/* our SYNs dropped in our namespace */
	VERDICT_SYN_DROPPED_AT_PEER,	/* ... in the peer's (on this host) */
	VERDICT_SYN_LOST_ON_PATH,	/* (peers across hosts: not decided yet) */
	VERDICT_SYNACK_DROPPED_HERE,	/* SYN/ACKs dropped in the namespace that waits for them */
	VERDICT_SYNACK_DROPPED_AT_PEER,	/* a half-open request's SYN/ACKs, dropped at its client */
	VERDICT_SYNACK_LOST_ON_PATH,	/* (peers across hosts: not decided yet) */
	VERDICT_LISTEN_OVERFLOW,	/* SYNs dropped for a full accept or SYN queue */
	VERDICT_NO_LISTENER,		/* SYNs dropped: no socket listens on the port */
	VERDICT_ICMP_REJECT,		/* an ICMP error answered the SYN */
	VERDICT_APP_NOT_CLOSING,	/* CLOSE_WAIT: the owner has not called close() */
	VERDICT_PEER_NOT_CLOSING,	/* FIN_WAIT2: the peer has not closed its side */
	VERDICT_MAX,
};

/* "syn_dropped_here", ...; "unknown" for UNKNOWN and out of range. */
const char *alert_verdict_name(int v);

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
	char diagnosis[480];	/* pure/diagnosis.h writes it */
	/* drops of its segments since it entered the state: its own (in its
	 * namespace) and, on this host, its peer's; named */
	struct drop_list drops;
	enum alert_verdict verdict;	/* pure/diagnosis.h decides it */
	/* a listener's alert (state LISTEN: SYNs dropped before any socket
	 * exists for them): its accept queue and bound, where the SYNs came
	 * from (src_family 0: unknown; src_multi: from several addresses) */
	uint32_t backlog, max_backlog;
	uint8_t src_family;
	bool src_multi;
	uint8_t src[16];
};

/* A state's name, "UNKNOWN" for a number that is none. */
const char *alert_state_name(int state);

/* Big enough for any alert's JSON line (the text line is shorter). */
#define FORMAT_ALERT_MAX 4096

/* Text line and JSON line (type "alert"). snprintf-style. */
int format_alert_text(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o);
int format_alert_json(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o);

#endif
