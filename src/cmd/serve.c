// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `tcpfsm serve`'s own part: the HTTP endpoints and the --log file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pure/connfmt.h"
#include "sys/log.h"
#include "pure/sbuf.h"
#include "kernel/source.h"
#include "pure/state.h"
#include "cmd/wcmd.h"

FILE *serve_open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "a");
	if (!f)
		close(fd);
	return f;
}

/* SIGHUP: reopen the log (after rotation) */
int serve_hup(void *ctx)
{
	struct wcmd *w = ctx;
	FILE *f;

	if (!w->cfg->log_path)
		return 0;
	f = serve_open_log(w->cfg->log_path);
	if (!f) {
		pr_err("SIGHUP: cannot reopen %s: %s (keeping the old file)", w->cfg->log_path,
		       strerror(errno));
		return 0;
	}
	if (w->log)
		fclose(w->log);
	w->log = f;
	pr_info("reopened %s", w->cfg->log_path);
	return 0;
}

/* --- HTTP --- */

static void reply_text(struct http_reply *r, int status, const char *type, char *body, size_t n)
{
	r->status = status;
	r->content_type = type;
	r->body = body;
	r->len = n;
}

static void metrics(struct wcmd *w, struct http_reply *r)
{
	const struct alert_stats *as = alert_engine__stats(w->ae);
	uint64_t stats[TCPFSM_STAT_MAX] = {};
	uint32_t conns[TCPFSM_STATE_MAX];
	struct prom_input in = {
		.hists = &w->hs,
		.connections = conns,
		.stuck = as->firing,
		.alerts_total = as->fired,
		.buckets_ns = w->buckets,
		.nbuckets = w->nbuckets,
		.version = TCPFSM_VERSION,
		.mode = loader__mode(w->ld),
	};
	size_t cap = 64 * 1024;
	char *buf;
	int n;

	if (loader__read_hists(w->ld, &w->hs) || loader__stats(w->ld, stats)) {
		r->status = 500;
		return;
	}
	in.events_total = stats[TCPFSM_STAT_EVENTS];
	in.events_lost = stats[TCPFSM_STAT_LOST] + loader__missed(w->ld);
	if (w->lazy) {
		/* counted by the kernel's sweep: the table holds only the
		 * tracked ones */
		iter_sweep(w, true, w->track_after_ns, false);
		for (int s = 0; s < TCPFSM_STATE_MAX; s++)
			conns[s] = w->states[s] > UINT32_MAX ? UINT32_MAX : w->states[s];
	} else {
		conntab__count_states(w->tab, conns);
		/* half-open requests are connections in SYN_RECV too */
		conns[TCPFSM_SYN_RECV] += as->half_open;
	}
	for (;;) {
		buf = malloc(cap);
		if (!buf) {
			r->status = 500;
			return;
		}
		n = prom_format(buf, cap, &in);
		if (n < (int)cap)
			break;
		free(buf);
		cap = n + 1;
	}
	reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf, n);
}

struct conn_list {
	struct sbuf b;
	struct wcmd *w;
	int state;
	uint64_t now;
	size_t n, max;
	bool truncated;
	const struct fmt_opts *fmt;
};

static bool list_conn(void *ctx, struct conn *c)
{
	struct conn_list *l = ctx;
	char comm[6 * TCPFSM_COMM_LEN + 3], a[64];
	uint64_t enter = c->npath ? c->enter_ns[c->npath - 1] : 0;

	if (l->state && c->state != l->state)
		return true;
	if (l->n == l->max) {
		l->truncated = true;
		return false;
	}
	sb_printf(&l->b, "%s{\"cookie\":%llu,\"state\":\"%s\",", l->n ? "," : "",
		  (unsigned long long)c->cookie, state_name(c->state) ? state_name(c->state) : "?");
	sb_printf(&l->b, "\"age_ns\":%llu,\"age_at_least\":%s,\"complete\":%s,",
		  (unsigned long long)(enter && l->now > enter ? l->now - enter : 0),
		  (c->flags & CONN_FIRST_LOWER) && c->npath == 1 ? "true" : "false",
		  (c->flags & CONN_COMPLETE) ? "true" : "false");
	if (c->flags & CONN_OWNER) {
		format_json_string(comm, sizeof(comm), c->comm, TCPFSM_COMM_LEN);
		sb_printf(&l->b, "\"pid\":%u,\"comm\":%s,", c->pid, comm);
	} else {
		sb_printf(&l->b, "\"pid\":null,\"comm\":null,");
	}
	format_addr(a, sizeof(a), c->family, c->saddr);
	sb_printf(&l->b, "\"family\":\"%s\",\"saddr\":\"%s\",\"sport\":%u,",
		  c->family == TCPFSM_AF_INET ? "ipv4" : "ipv6", a, c->sport);
	format_addr(a, sizeof(a), c->family, c->daddr);
	sb_printf(&l->b, "\"daddr\":\"%s\",\"dport\":%u,\"netns\":%u,\"alert\":%s}", a, c->dport,
		  c->netns, c->alert ? "true" : "false");
	l->n++;
	return true;
}

#define CONNECTIONS_MAX 10000

static void connections(struct wcmd *w, const char *state, struct http_reply *r)
{
	struct conn_list l = { .w = w, .now = clock_ns(CLOCK_BOOTTIME), .max = CONNECTIONS_MAX };
	size_t cap = 1 << 20;

	if (state) {
		l.state = state_parse(state);
		if (l.state < 0) {
			char *msg = strdup("unknown state\n");

			reply_text(r, 400, "text/plain; charset=utf-8", msg, msg ? strlen(msg) : 0);
			return;
		}
	}
	/* lazy mode: every socket with storage into the table first */
	if (w->lazy)
		iter_sweep(w, true, 0, false);
	for (;;) {
		char *buf = malloc(cap);

		if (!buf) {
			r->status = 500;
			return;
		}
		sb_init(&l.b, buf, cap);
		l.n = 0;
		l.truncated = false;
		sb_printf(&l.b, "{\"connections\":[");
		conntab__foreach(w->tab, list_conn, &l);
		sb_printf(&l.b, "],\"count\":%zu,\"truncated\":%s}\n", l.n,
			  l.truncated ? "true" : "false");
		if (l.b.pos < cap) {
			reply_text(r, 200, "application/json", buf, l.b.pos);
			return;
		}
		free(buf);
		cap = l.b.pos + 1;
	}
}

void serve_on_http(void *ctx, const char *method, const char *path,
		    const char *(*arg)(void *req, const char *name), void *req,
		    struct http_reply *r)
{
	struct wcmd *w = ctx;
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	bool known = !strcmp(path, "/metrics") || !strcmp(path, "/healthz") ||
		     !strcmp(path, "/connections");

	if (!known) {
		r->status = 404;
		return;
	}
	if (!get) {
		r->status = 405;
		r->allow = "GET, HEAD";
		return;
	}
	if (!strcmp(path, "/healthz")) {
		char *ok = strdup("ok\n");

		reply_text(r, 200, "text/plain; charset=utf-8", ok, ok ? 3 : 0);
	} else if (!strcmp(path, "/metrics")) {
		metrics(w, r);
	} else {
		connections(w, arg(req, "state"), r);
	}
}

int serve_http(void *ctx)
{
	struct wcmd *w = ctx;

	http_server__run(w->http);
	return 0;
}
