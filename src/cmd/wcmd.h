/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_WCMD_H
#define TCPFSM_WCMD_H
/*
 * What watch, serve and top share: one engine (watch.c) with serve's HTTP
 * side (serve.c) and top's screen and keys (top.c) on it. Internal.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "pure/alert.h"
#include "sys/alertexec.h"
#include "cmd/cli.h"
#include "pure/conntab.h"
#include "pure/histogram.h"
#include "sys/http.h"
#include "kernel/loader.h"
#include "sys/output.h"
#include "pure/prom.h"
#include "pure/topview.h"

struct wcmd {
	const struct tcpfsm_config *cfg;
	struct fmt_opts fmt;
	struct output out;
	struct loader *ld;
	struct conntab *tab;
	struct alert_engine *ae;
	struct alert_exec *exec;
	uint64_t next_sweep, next_req_sweep, next_track, now;
	int err;
	/* lazy tracking (watch, serve): see loader__track_sweep */
	bool lazy;
	uint64_t track_after_ns;
	uint64_t states[TCPFSM_STATE_MAX];	/* sockets per state, last sweep */
	/* serve */
	struct http_server *http;
	FILE *log;
	struct hist_set hs;
	uint64_t buckets[PROM_MAX_BUCKETS];
	size_t nbuckets;
	/* top */
	bool top, curses, paused, help, editing;
	enum top_sort sort;
	struct top_filter filter;
	char edit[64];
	size_t edit_len;
	uint64_t next_render, last_render, last_transitions;
	double rate;
	char status[128];
};

/* watch.c: one iterator pass (lazy tracking, counts, half-open requests) */
void iter_sweep(struct wcmd *w, bool track, uint64_t track_after_ns, bool requests);

/* serve.c */
FILE *serve_open_log(const char *path);
int serve_hup(void *ctx);
void serve_on_http(void *ctx, const char *method, const char *path,
		   const char *(*arg)(void *req, const char *name), void *req,
		   struct http_reply *r);
int serve_http(void *ctx);

/* top.c */
void top_render_now(struct wcmd *w, uint64_t now);
int top_keys(void *ctx);

#endif
