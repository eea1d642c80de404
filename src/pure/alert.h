/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_ALERT_H
#define TCPFSM_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"
#include "pure/format.h"

/*
 * One alert, as the alert engine (pure/alertengine.h) reports it and every
 * output shows it: a socket stuck in a state (firing), out of it
 * (resolved), or a rate limit's summary of several (aggregate); and its
 * text and JSON lines.
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
	char diagnosis[320];	/* pure/diagnosis.h writes it */
};

/* A state's name, "UNKNOWN" for a number that is none. */
const char *alert_state_name(int state);

/* Text line and JSON line (type "alert"). snprintf-style. */
int format_alert_text(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o);
int format_alert_json(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o);

#endif
