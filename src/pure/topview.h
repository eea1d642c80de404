/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_TOPVIEW_H
#define TCPFSM_TOPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pure/alertengine.h"
#include "pure/conntab.h"
#include "pure/histogram.h"

/*
 * The screen of `tcpfsm top`, as text: a header (sockets per state now,
 * transitions per second, events lost, alerts firing), the oldest
 * connections in the states that get stuck (age, state, owner, endpoints,
 * evidence), and a per-state duration summary. Pure: the same text feeds
 * the ncurses screen and --batch.
 */

enum top_sort { TOP_SORT_AGE = 0, TOP_SORT_STATE, TOP_SORT_PID, TOP_SORT_COMM, TOP_SORT_MAX };

struct top_filter {
	uint32_t state_mask;	/* 0: any */
	uint16_t port;		/* local or remote, 0: any */
	char comm[TCPFSM_COMM_LEN]; /* "": any */
};

struct top_input {
	uint64_t now_ns;		/* CLOCK_BOOTTIME */
	int64_t boot_to_real_ns;
	struct conntab *tab;
	const struct alert_stats *alerts;
	const struct hist_set *hists;	/* kernel totals, NULL if none */
	double transitions_per_s;
	uint64_t lost;
	enum top_sort sort;
	const struct top_filter *filter;
	bool paused;
	int width, height;		/* characters; height 0: no limit */
	bool ascii;			/* the terminal shows ASCII only: µs as us */
};

/* Narrower screens get the short table: evidence first, local port only. */
#define TOP_FULL_WIDTH 110

/* snprintf-style; lines end in '\n' and are at most width characters. */
int top_render(char *buf, size_t len, const struct top_input *in);

/* "state=CLOSE_WAIT", "port=443", "comm=nginx", "" (clear): 0 or -EINVAL. */
int top_filter_parse(struct top_filter *f, const char *s);
const char *top_sort_name(enum top_sort s);

#endif
