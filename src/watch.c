// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm watch`: alerts while connections are stuck. Records feed the
 * connection table through the alert engine; a sweep every --sweep checks
 * ages (a stuck socket never transitions); half-open requests come from
 * SYN/ACK retransmit events and a periodic iterator sweep. Replays (-r) run
 * the same sweeps on the records' clock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "alert.h"
#include "alertexec.h"
#include "conntab.h"
#include "histfmt.h"
#include "http.h"
#include "prom.h"
#include "sbuf.h"
#include "state.h"
#include "loader.h"
#include "log.h"
#include "output.h"
#include "privs.h"
#include "snapshot.h"
#include "source.h"
#include "topview.h"
#include "watch.h"
#include <curses.h>

/* half-open requests vanish without an event: look for them this often */
#define REQUEST_SWEEP_NS (2 * 1000000000ULL)

struct wcmd {
	const struct tcpfsm_config *cfg;
	struct fmt_opts fmt;
	struct output out;
	struct loader *ld;
	struct conntab *tab;
	struct alert_engine *ae;
	struct alert_exec *exec;
	uint64_t next_sweep, next_req_sweep, now;
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

/* /proc/PID/fd/N -> socket:[ino] */
static int fd_of_inode(uint32_t pid, uint32_t ino)
{
	char path[64], link[64], want[32];
	struct dirent *d;
	DIR *dir;
	int fd = -1;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	snprintf(want, sizeof(want), "socket:[%u]", ino);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		char p[96];
		ssize_t n;

		snprintf(p, sizeof(p), "%s/%.20s", path, d->d_name);
		n = readlink(p, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strcmp(link, want)) {
			fd = atoi(d->d_name);
			break;
		}
	}
	if (dir)
		closedir(dir);
	return fd;
}

static void on_alert(void *ctx, struct alert *a)
{
	struct wcmd *w = ctx;
	char text[1024], json[2048];
	int n;

	n = w->cfg->json ? format_alert_json(json, sizeof(json), a, &w->fmt) :
			   format_alert_text(text, sizeof(text), a, &w->fmt);
	if (n >= (int)(w->cfg->json ? sizeof(json) : sizeof(text)))
		n = (w->cfg->json ? sizeof(json) : sizeof(text)) - 1;
	/* top shows alerts on its screen */
	if (!w->err && !w->top)
		w->err = output_write(&w->out, w->cfg->json ? json : text, n);
	if (w->cfg->syslog) {
		format_alert_text(text, sizeof(text), a, &w->fmt);
		/* without the time: syslog has its own */
		syslog(a->status == ALERT_FIRING ? LOG_WARNING : LOG_NOTICE, "%s", text + 9);
	}
	if (w->exec || w->log) {
		n = format_alert_json(json, sizeof(json), a, &w->fmt);
		if (w->exec && n < (int)sizeof(json))
			alert_exec__submit(w->exec, a, json, n, w->now);
		if (w->log && n < (int)sizeof(json))
			fwrite(json, 1, n, w->log);
	}
}

/* serve --log: connection histories as JSON lines */
static void on_conn(void *ctx, const struct conn *c, const struct conn_end *end)
{
	struct wcmd *w = ctx;
	char buf[FORMAT_CONN_MAX];
	int n;

	if (!w->log)
		return;
	n = format_conn_json(buf, sizeof(buf), c, end, &w->fmt);
	if (n < (int)sizeof(buf))
		fwrite(buf, 1, n, w->log);
}

static FILE *open_log(const char *path)
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
static int w_hup(void *ctx)
{
	struct wcmd *w = ctx;
	FILE *f;

	if (!w->cfg->log_path)
		return 0;
	f = open_log(w->cfg->log_path);
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

static int track_seen(void *ctx, const struct tcpfsm_event *e)
{
	struct wcmd *w = ctx;

	return alert_engine__apply(w->ae, w->tab, e, on_conn, w);
}

/*
 * One iterator pass over every namespace: in lazy mode it tracks the
 * sockets that stayed in one state track_after_ns or longer and counts
 * every socket by state; it also reports the half-open requests when the
 * engine follows some (they vanish without an event).
 */
static void iter_sweep(struct wcmd *w, bool track, uint64_t track_after_ns, bool requests)
{
	struct snapshot_stats st;
	int fd = loader__iter_fd(w->ld), err;

	if (fd < 0)
		return;
	loader__iter_what(w->ld, (track ? TCPFSM_ITER_TRACK : 0) |
					 (requests ? TCPFSM_ITER_REQUESTS : 0),
			  track_after_ns);
	if (requests)
		alert_engine__requests_begin(w->ae);
	/* sockets made in a namespace new to us: look for namespaces now,
	 * not at the next refresh */
	if (loader__netns_prune(w->ld, snapshot_ns_known, false))
		snapshot_forget();
	err = snapshot_sweep(fd, w->cfg->netns, w->cfg->n_netns, track_seen, w, &st);
	loader__netns_prune(w->ld, snapshot_ns_known, true);
	if (err)
		pr_warn("socket sweep: %s", strerror(-err));
	else if (requests)
		alert_engine__requests_end(w->ae, clock_ns(CLOCK_BOOTTIME));
	if (track && !err)
		loader__sweep_states(w->ld, w->states);
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

static void on_http(void *ctx, const char *method, const char *path,
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

static int w_http(void *ctx)
{
	struct wcmd *w = ctx;

	http_server__run(w->http);
	return 0;
}

static int w_start(void *ctx, const struct source_info *info)
{
	struct wcmd *w = ctx;

	w->ld = info->loader;
	w->lazy = w->ld && loader__lazy(w->ld);
	w->fmt.boot_to_real_ns = info->boot_to_real_ns;
	if (w->top && !w->cfg->batch) {
		initscr();
		cbreak();
		noecho();
		nodelay(stdscr, TRUE);
		keypad(stdscr, TRUE);
		curs_set(0);
		w->curses = true;
	}
	return 0;
}

static void sweep(struct wcmd *w, uint64_t now)
{
	alert_engine__sweep(w->ae, w->tab, now);
	conntab__expire(w->tab, now);
}

static int w_record(void *ctx, const struct tcpfsm_event *e)
{
	struct wcmd *w = ctx;
	int err;

	/* replay: run the sweeps the live run would have run, on its clock */
	if (!w->ld && w->cfg->replay && e->kind == TCPFSM_KIND_TRANSITION) {
		if (!w->next_sweep)
			w->next_sweep = e->ts_ns + w->cfg->sweep_ns;
		while (e->ts_ns >= w->next_sweep) {
			sweep(w, w->next_sweep);
			w->next_sweep += w->cfg->sweep_ns;
		}
	}
	err = alert_engine__apply(w->ae, w->tab, e, on_conn, w);
	if (err)
		pr_err("connection table: %s", strerror(-err));
	return err ? err : w->err;
}

static void top_render_now(struct wcmd *w, uint64_t now);

static int w_tick(void *ctx, uint64_t now)
{
	struct wcmd *w = ctx;
	bool requests, track;

	w->now = now;
	/* requests: only to notice tracked ones vanish (none, none) */
	requests = w->ld && now >= w->next_req_sweep && alert_engine__stats(w->ae)->half_open;
	track = w->ld && w->lazy && now >= w->next_sweep;
	if (requests || track)
		iter_sweep(w, track, w->track_after_ns, requests);
	if (requests)
		w->next_req_sweep = now + REQUEST_SWEEP_NS;
	if (w->ld && now >= w->next_sweep) {
		sweep(w, now);
		w->next_sweep = now + w->cfg->sweep_ns;
	}
	if (w->top && now >= w->next_render) {
		if (!w->paused)
			top_render_now(w, now);
		w->next_render = now + (w->cfg->interval_ns ? w->cfg->interval_ns : 1000000000ULL);
	}
	if (w->exec)
		alert_exec__tick(w->exec, now);
	if (w->http) /* timeouts of idle clients */
		http_server__run(w->http);
	if (w->log)
		fflush(w->log);
	return w->err ? w->err : output_flush(&w->out);
}

/* --- top --- */

static const char top_help[] =
	"q quit   p pause   s sort (age, state, pid, comm)   f filter   ? help\n"
	"filter: state=CLOSE_WAIT | port=443 | comm=nginx | empty to clear (Enter, Esc)\n";

static void top_render_now(struct wcmd *w, uint64_t now)
{
	static char screen[1 << 18];
	uint64_t stats[TCPFSM_STAT_MAX] = {}, total = 0;
	struct top_input in = {
		.now_ns = now,
		.boot_to_real_ns = w->fmt.boot_to_real_ns,
		.tab = w->tab,
		.alerts = alert_engine__stats(w->ae),
		.sort = w->sort,
		.filter = &w->filter,
		.paused = w->paused,
		.width = 132,
	};
	int n, rows = 0, cols = 0;

	if (!loader__read_hists(w->ld, &w->hs)) {
		in.hists = &w->hs;
		for (int i = 0; i < TCPFSM_STATE_MAX; i++)
			for (int j = 0; j < TCPFSM_STATE_MAX; j++)
				total += w->hs.transitions[i][j];
	}
	if (w->last_render && now > w->last_render)
		w->rate = (double)(total - w->last_transitions) * 1e9 / (now - w->last_render);
	w->last_transitions = total;
	w->last_render = now;
	in.transitions_per_s = w->rate;
	loader__stats(w->ld, stats);
	in.lost = stats[TCPFSM_STAT_LOST] + loader__missed(w->ld);
	if (w->curses) {
		getmaxyx(stdscr, rows, cols);
		in.width = cols;
		in.height = rows - 1;
	}
	n = top_render(screen, sizeof(screen), &in);
	if (n >= (int)sizeof(screen))
		n = sizeof(screen) - 1;
	if (!w->curses) {
		if (!w->err)
			w->err = output_write(&w->out, screen, n);
		if (!w->err)
			w->err = output_write(&w->out, "\n", 1);
		return;
	}
	erase();
	mvaddstr(0, 0, w->help ? top_help : screen);
	if (w->editing)
		mvprintw(rows - 1, 0, "filter: %s", w->edit);
	else
		mvprintw(rows - 1, 0, "%s", w->status[0] ? w->status : "? for help");
	refresh();
}

/* keys: read what is there, never wait */
static int top_keys(void *ctx)
{
	struct wcmd *w = ctx;
	int c;

	while ((c = getch()) != ERR) {
		if (w->editing) {
			if (c == '\n' || c == KEY_ENTER) {
				w->editing = false;
				if (top_filter_parse(&w->filter, w->edit))
					snprintf(w->status, sizeof(w->status), "bad filter '%s'", w->edit);
				else
					snprintf(w->status, sizeof(w->status), "filter: %s",
						 w->edit[0] ? w->edit : "none");
			} else if (c == 27) {
				w->editing = false;
			} else if ((c == KEY_BACKSPACE || c == 127) && w->edit_len) {
				w->edit[--w->edit_len] = 0;
			} else if (c >= 0x20 && c < 0x7f && w->edit_len < sizeof(w->edit) - 1) {
				w->edit[w->edit_len++] = c;
				w->edit[w->edit_len] = 0;
			}
			continue;
		}
		switch (c) {
		case 'q':
			return -EPIPE; /* a quiet end */
		case 'p':
			w->paused = !w->paused;
			break;
		case 's':
			w->sort = (w->sort + 1) % TOP_SORT_MAX;
			snprintf(w->status, sizeof(w->status), "sorted by %s", top_sort_name(w->sort));
			break;
		case 'f':
			w->editing = true;
			w->edit_len = 0;
			w->edit[0] = 0;
			break;
		case '?':
			w->help = !w->help;
			break;
		default:
			break;
		}
	}
	/* show the effect of the key now, not at the next refresh */
	if (!w->paused || w->help || w->editing)
		top_render_now(w, clock_ns(CLOCK_BOOTTIME));
	return 0;
}

static int w_end(void *ctx, uint64_t now)
{
	struct wcmd *w = ctx;

	/* a replay ends with the sweep that its last records were due */
	if (!w->ld)
		sweep(w, now);
	return w->err ? w->err : output_flush(&w->out);
}

int cmd_watch(const struct tcpfsm_config *cfg)
{
	struct wcmd w = { .cfg = cfg };
	struct sink sink = { w_start, w_record, w_tick, w_end, &w, true, -1, NULL, w_hup };
	const struct alert_stats *st;
	struct source_result res;
	uint64_t fired = 0;
	int err;

	if (cfg->cmd == CMD_TOP && !cfg->batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		pr_err("top needs a terminal: use --batch for plain text");
		return 2;
	}
	/* hooks switch users with these: fail now, not at the first alert */
	if (cfg->alert_exec_user.set &&
	    !privs_permitted(PRIV_BIT(PRIV_SETUID) | PRIV_BIT(PRIV_SETGID))) {
		pr_err("--alert-exec-user needs CAP_SETUID and CAP_SETGID: run as root or grant them");
		return 1;
	}
	/* lazy mode: a socket is tracked well before its state's threshold,
	 * and within a second (for /connections and the peers diagnoses name) */
	w.track_after_ns = 1000000000ULL;
	for (int i = 0; i < TCPFSM_STATE_MAX; i++)
		if (cfg->alerts.threshold_ns[i] && cfg->alerts.threshold_ns[i] / 2 < w.track_after_ns)
			w.track_after_ns = cfg->alerts.threshold_ns[i] / 2;
	w.tab = conntab__new(cfg->max_conns);
	w.ae = alert_engine__new(&cfg->alerts, on_alert, &w);
	if (!w.tab || !w.ae) {
		pr_err("out of memory");
		return 1;
	}
	alert_engine__set_fd_lookup(w.ae, fd_of_inode);
	if (cfg->alert_exec) {
		w.exec = alert_exec__new(cfg->alert_exec, cfg->alert_exec_timeout_ns);
		if (!w.exec) {
			pr_err("bad --alert-exec '%s'", cfg->alert_exec);
			return 2;
		}
		alert_exec__run_as(w.exec, &cfg->alert_exec_user);
	}
	if (cfg->syslog)
		openlog("tcpfsm", LOG_PID, LOG_DAEMON);
	/* serve: log file and HTTP port first, so a bad one fails before
	 * anything is loaded */
	if (cfg->log_path) {
		w.log = open_log(cfg->log_path);
		if (!w.log) {
			pr_err("cannot open --log %s: %s", cfg->log_path, strerror(errno));
			return 1;
		}
	}
	if (cfg->cmd == CMD_TOP) {
		w.top = true;
		hist_set_init(&w.hs, TCPFSM_BY_NONE, 0);
		if (!cfg->batch) {
			sink.extra_fd = STDIN_FILENO;
			sink.on_extra = top_keys;
		}
	}
	if (cfg->cmd == CMD_SERVE) {
		char msg[256];

		w.nbuckets = cfg->nbuckets ? cfg->nbuckets :
					     prom_default_buckets(w.buckets, PROM_MAX_BUCKETS);
		if (cfg->nbuckets)
			memcpy(w.buckets, cfg->buckets_ns, cfg->nbuckets * sizeof(uint64_t));
		hist_set_init(&w.hs, TCPFSM_BY_NONE, 0);
		w.http = http_server__new(&cfg->listen, on_http, &w, msg, sizeof(msg));
		if (!w.http) {
			pr_err("--listen: %s", msg);
			if (w.log)
				fclose(w.log);
			return 1;
		}
		sink.extra_fd = http_server__fd(w.http);
		sink.on_extra = w_http;
	}
	output_init(&w.out);
	err = source_run(cfg, &sink, &res);
	if (w.curses)
		endwin(); /* the terminal as it was */
	output_flush(&w.out);
	if (w.exec) {
		const struct alert_exec_stats *xs;

		alert_exec__tick(w.exec, clock_ns(CLOCK_BOOTTIME));
		xs = alert_exec__stats(w.exec);
		if (xs->started || xs->dropped)
			pr_info("--alert-exec: %llu run, %llu failed, %llu timed out, %llu dropped",
				(unsigned long long)xs->started, (unsigned long long)xs->failed,
				(unsigned long long)xs->timed_out, (unsigned long long)xs->dropped);
		alert_exec__free(w.exec, clock_ns(CLOCK_BOOTTIME));
	}
	st = alert_engine__stats(w.ae);
	for (int i = 0; i < TCPFSM_STATE_MAX; i++)
		fired += st->fired[i];
	if (!err && err != -EPIPE) {
		source_report(cfg, &res);
		pr_info("%llu alerts fired, %llu folded into summaries by the rate limit",
			(unsigned long long)fired, (unsigned long long)st->suppressed);
	}
	if (cfg->syslog)
		closelog();
	http_server__free(w.http);
	hist_set_free(&w.hs);
	if (w.log)
		fclose(w.log);
	alert_engine__free(w.ae);
	conntab__free(w.tab);
	if (err == -EPIPE)
		return 0;
	return err ? 1 : 0;
}
