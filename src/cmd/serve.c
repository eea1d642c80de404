// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm serve`: the engine (engine/engine.h) with an HTTP server in the
 * same event loop — /metrics, /connections, /healthz — and --log, a file of
 * connection histories and alerts as JSON lines (reopened on SIGHUP).
 * Alerts also go to stdout, syslog and hooks as in watch.
 *
 * The endpoints only read: what the engine holds and the kernel's maps and
 * counters. A scrape never sweeps and never changes what the kernel sends,
 * so its cost does not grow with the host's sockets beyond the table
 * serve already keeps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/serve.h"
#include "engine/engine.h"
#include "engine/notify.h"
#include "kernel/loader.h"
#include "kernel/source.h"
#include "pure/connfmt.h"
#include "pure/histogram.h"
#include "pure/prom.h"
#include "pure/sbuf.h"
#include "pure/state.h"
#include "sys/clock.h"
#include "sys/http.h"
#include "sys/linelog.h"
#include "sys/log.h"
#include "sys/output.h"

struct serve {
	const struct tcpfsm_config *cfg;
	struct engine *engine;
	struct notify *notify;
	struct output out;
	struct http_server *http;
	struct linelog *log;	/* --log, or NULL */
	struct fmt_opts fmt;
	struct hist_set hs;	/* the kernel's, read at each scrape */
	uint64_t buckets[PROM_MAX_BUCKETS];
	size_t nbuckets;
};

/* --- the engine's news --- */

static int s_alert(void *ctx, const struct alert *a)
{
	struct serve *s = ctx;
	char json[FORMAT_ALERT_MAX];
	int n;

	if (s->log) {
		n = format_alert_json(json, sizeof(json), a, &s->fmt);
		if (n < (int)sizeof(json))
			linelog__write(s->log, json, n);
	}
	return notify__alert(s->notify, a);
}

/* --log: connection histories as JSON lines */
static int s_closed(void *ctx, const struct conn *c, const struct conn_end *end)
{
	struct serve *s = ctx;
	char buf[FORMAT_CONN_MAX];
	int n;

	if (!s->log)
		return 0;
	n = format_conn_json(buf, sizeof(buf), c, end, &s->fmt);
	if (n < (int)sizeof(buf))
		linelog__write(s->log, buf, n);
	return 0;
}

static int s_start(void *ctx, const struct source_info *info)
{
	struct serve *s = ctx;

	s->fmt.boot_to_real_ns = info->boot_to_real_ns;
	notify__set_clock(s->notify, info->boot_to_real_ns);
	return 0;
}

static int s_tick(void *ctx, uint64_t now)
{
	struct serve *s = ctx;

	notify__tick(s->notify, now);
	http_server__run(s->http); /* timeouts of idle clients */
	linelog__flush(s->log);
	return output_flush(&s->out);
}

static int s_http(void *ctx)
{
	struct serve *s = ctx;

	http_server__run(s->http);
	return 0;
}

/* SIGHUP: reopen the log (after rotation) */
static int s_hup(void *ctx)
{
	struct serve *s = ctx;
	int err;

	if (!s->log)
		return 0;
	err = linelog__reopen(s->log);
	if (err)
		pr_err("SIGHUP: cannot reopen %s: %s (keeping the old file)", s->cfg->log_path,
		       strerror(-err));
	else
		pr_info("reopened %s", s->cfg->log_path);
	return 0;
}

/* --- HTTP --- */

static void reply(struct http_reply *r, int status, const char *type, char *body, size_t n)
{
	r->status = status;
	r->content_type = type;
	r->body = body;
	r->len = n;
}

static void metrics(struct serve *s, struct http_reply *r)
{
	const struct alert_stats *as = engine__alert_stats(s->engine);
	struct loader *ld = engine__loader(s->engine);
	uint64_t stats[TCPFSM_STAT_MAX] = {};
	uint32_t conns[TCPFSM_STATE_MAX];
	struct prom_count drops[ENGINE_DROP_COUNTS_MAX], listen[LISTEN_TOTALS_MAX];
	struct prom_input in = {
		.hists = &s->hs,
		.connections = conns,
		.stuck = as->firing,
		.alerts_total = as->fired,
		.buckets_ns = s->buckets,
		.nbuckets = s->nbuckets,
		.version = TCPFSM_VERSION,
		.mode = loader__mode(ld),
	};
	size_t cap = 64 * 1024;
	char *buf;
	int n;

	if (loader__read_hists(ld, &s->hs) || loader__stats(ld, stats)) {
		r->status = 500;
		return;
	}
	in.events_total = stats[TCPFSM_STAT_EVENTS];
	in.drops = drops;
	in.ndrops = engine__drop_counts(s->engine, drops, ENGINE_DROP_COUNTS_MAX);
	in.listen_drops = listen;
	in.nlisten_drops = engine__listen_drop_counts(s->engine, listen, LISTEN_TOTALS_MAX);
	in.events_lost = source_lost(s->cfg, stats[TCPFSM_STAT_LOST], loader__missed(ld));
	engine__states(s->engine, conns);
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
	reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf, n);
}

struct conn_list {
	struct sbuf b;
	int state;
	uint64_t now;
	size_t n, max;
	bool truncated;
};

static bool list_conn(void *ctx, struct conn *c)
{
	struct conn_list *l = ctx;
	const struct json_identity id = conn_json_identity(c);
	uint64_t enter = c->npath ? c->enter_ns[c->npath - 1] : 0;

	if (l->state && c->state != l->state)
		return true;
	if (l->n == l->max) {
		l->truncated = true;
		return false;
	}
	sb_printf(&l->b, "%s{\"cookie\":%llu,\"state\":\"%s\",", l->n ? "," : "",
		  (unsigned long long)c->cookie, state_name(c->state) ? state_name(c->state) : "?");
	sb_printf(&l->b, "\"age_ns\":%llu,\"age_at_least\":%s,\"complete\":%s",
		  (unsigned long long)(enter && l->now > enter ? l->now - enter : 0),
		  (c->flags & CONN_FIRST_LOWER) && c->npath == 1 ? "true" : "false",
		  (c->flags & CONN_COMPLETE) ? "true" : "false");
	/* the cookie comes first here, before the state */
	sb_json_identity_no_cookie(&l->b, &id);
	sb_printf(&l->b, ",\"alert\":%s}", c->alert ? "true" : "false");
	l->n++;
	return true;
}

#define CONNECTIONS_MAX 10000

/* The connections the engine holds (lazy mode: the tracked sockets). */
static void connections(struct serve *s, const char *state, struct http_reply *r)
{
	struct conn_list l = { .now = clock_boot_ns(), .max = CONNECTIONS_MAX };
	size_t cap = 1 << 20;

	if (state) {
		l.state = state_parse(state);
		if (l.state < 0) {
			char *msg = strdup("unknown state\n");

			reply(r, 400, "text/plain; charset=utf-8", msg, msg ? strlen(msg) : 0);
			return;
		}
	}
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
		conntab__foreach(engine__conntab(s->engine), list_conn, &l);
		sb_printf(&l.b, "],\"count\":%zu,\"truncated\":%s}\n", l.n,
			  l.truncated ? "true" : "false");
		if (l.b.pos < cap) {
			reply(r, 200, "application/json", buf, l.b.pos);
			return;
		}
		free(buf);
		cap = l.b.pos + 1;
	}
}

static void on_http(void *ctx, const char *method, const char *path,
		    const char *(*arg)(void *req, const char *name), void *req,
		    struct http_reply *r)
{
	struct serve *s = ctx;
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

		reply(r, 200, "text/plain; charset=utf-8", ok, ok ? 3 : 0);
	} else if (!engine__loader(s->engine)) {
		r->status = 503; /* not started yet */
	} else if (!strcmp(path, "/metrics")) {
		metrics(s, r);
	} else {
		connections(s, arg(req, "state"), r);
	}
}

int cmd_serve(const struct tcpfsm_config *cfg)
{
	struct serve s = { .cfg = cfg };
	struct engine_ops ops = {
		.ctx = &s,
		.alert = s_alert,
		.closed = s_closed,
		.start = s_start,
		.tick = s_tick,
		.extra = s_http,
		.hup = s_hup,
	};
	struct source_result res;
	char msg[256];
	int err, rc = 1;

	output_init(&s.out);
	hist_set_init(&s.hs, TCPFSM_BY_NONE, 0);
	s.nbuckets = cfg->nbuckets ? cfg->nbuckets : prom_default_buckets(s.buckets, PROM_MAX_BUCKETS);
	if (cfg->nbuckets)
		memcpy(s.buckets, cfg->buckets_ns, cfg->nbuckets * sizeof(uint64_t));
	s.notify = notify__new(cfg, &s.out);
	if (!s.notify) {
		rc = errno == EINVAL ? 2 : 1;
		goto cleanup;
	}
	/* the log file and the HTTP port first, so a bad one fails before
	 * anything is loaded */
	if (cfg->log_path) {
		s.log = linelog__open(cfg->log_path);
		if (!s.log) {
			pr_err("cannot open --log %s: %s", cfg->log_path, strerror(errno));
			goto cleanup;
		}
	}
	s.http = http_server__new(&cfg->listen, on_http, &s, msg, sizeof(msg));
	if (!s.http) {
		pr_err("--listen: %s", msg);
		goto cleanup;
	}
	ops.extra_fd = http_server__fd(s.http);
	s.engine = engine__new(cfg, &ops);
	if (!s.engine) {
		pr_err("out of memory");
		goto cleanup;
	}
	err = engine__run(s.engine, &res);
	output_flush(&s.out);
	notify__free(s.notify);
	s.notify = NULL;
	if (!err)
		engine__report(s.engine, &res);
	rc = err && err != -EPIPE ? 1 : 0;
cleanup:
	notify__free(s.notify);
	http_server__free(s.http);
	linelog__close(s.log);
	engine__free(s.engine);
	hist_set_free(&s.hs);
	return rc;
}
