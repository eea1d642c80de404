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
#include "pure/alert.h"
#include "sys/alertexec.h"
#include "pure/conntab.h"
#include "pure/connfmt.h"
#include "sys/http.h"
#include "pure/prom.h"
#include "pure/sbuf.h"
#include "pure/state.h"
#include "kernel/loader.h"
#include "sys/log.h"
#include "sys/output.h"
#include "sys/privs.h"
#include "kernel/snapshot.h"
#include "kernel/source.h"
#include "pure/topview.h"
#include "cmd/watch.h"
#include <curses.h>

/* half-open requests vanish without an event: look for them this often */
#define REQUEST_SWEEP_NS (2 * 1000000000ULL)

#include "cmd/wcmd.h"


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
void iter_sweep(struct wcmd *w, bool track, uint64_t track_after_ns, bool requests)
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
	err = snapshot_sweep(fd, w->cfg->kf.netns, w->cfg->kf.n_netns, track_seen, w, &st);
	loader__netns_prune(w->ld, snapshot_ns_known, true);
	if (err == -ENOTRECOVERABLE)
		w->err = err; /* stranded in another netns (said why): stop */
	else if (err)
		pr_warn("socket sweep: %s", strerror(-err));
	else if (requests)
		alert_engine__requests_end(w->ae, clock_ns(CLOCK_BOOTTIME));
	if (track && !err)
		loader__sweep_states(w->ld, w->states);
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


static int w_tick(void *ctx, uint64_t now)
{
	struct wcmd *w = ctx;
	bool requests, track;

	w->now = now;
	/* requests: only to notice tracked ones vanish (none, none) */
	requests = w->ld && now >= w->next_req_sweep && alert_engine__stats(w->ae)->half_open;
	track = w->ld && w->lazy && now >= w->next_track;
	if (requests || track) {
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

		iter_sweep(w, track, w->track_after_ns, requests);
		if (track)
			w->next_track = now + alert_track_interval(&w->cfg->alerts, w->cfg->sweep_ns,
								   clock_ns(CLOCK_MONOTONIC) - t0);
	}
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
	struct sink sink = { w_start, w_record, w_tick, w_end, &w, true, -1, NULL, serve_hup };
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
		w.log = serve_open_log(cfg->log_path);
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
		w.http = http_server__new(&cfg->listen, serve_on_http, &w, msg, sizeof(msg));
		if (!w.http) {
			pr_err("--listen: %s", msg);
			if (w.log)
				fclose(w.log);
			return 1;
		}
		sink.extra_fd = http_server__fd(w.http);
		sink.on_extra = serve_http;
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
