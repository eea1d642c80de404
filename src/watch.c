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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "alert.h"
#include "alertexec.h"
#include "conntab.h"
#include "loader.h"
#include "log.h"
#include "output.h"
#include "snapshot.h"
#include "source.h"
#include "watch.h"

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
	if (!w->err)
		w->err = output_write(&w->out, w->cfg->json ? json : text, n);
	if (w->cfg->syslog) {
		format_alert_text(text, sizeof(text), a, &w->fmt);
		/* without the time: syslog has its own */
		syslog(a->status == ALERT_FIRING ? LOG_WARNING : LOG_NOTICE, "%s", text + 9);
	}
	if (w->exec) {
		n = format_alert_json(json, sizeof(json), a, &w->fmt);
		if (n < (int)sizeof(json))
			alert_exec__submit(w->exec, a, json, n, w->now);
	}
}

static int w_start(void *ctx, const struct source_info *info)
{
	struct wcmd *w = ctx;

	w->ld = info->loader;
	w->fmt.boot_to_real_ns = info->boot_to_real_ns;
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
	err = alert_engine__apply(w->ae, w->tab, e, NULL, NULL);
	if (err)
		pr_err("connection table: %s", strerror(-err));
	return err ? err : w->err;
}

static int req_seen(void *ctx, const struct tcpfsm_event *e)
{
	struct wcmd *w = ctx;

	return alert_engine__apply(w->ae, w->tab, e, NULL, NULL);
}

static int w_tick(void *ctx, uint64_t now)
{
	struct wcmd *w = ctx;

	w->now = now;
	if (w->ld && now >= w->next_req_sweep) {
		int fd = loader__iter_fd(w->ld);

		if (fd >= 0) {
			struct snapshot_stats st;

			loader__iter_requests_only(w->ld, true);
			alert_engine__requests_begin(w->ae);
			if (!snapshot_run(fd, w->cfg->netns, w->cfg->n_netns, req_seen, w, &st))
				alert_engine__requests_end(w->ae, now);
			loader__iter_requests_only(w->ld, false);
		}
		w->next_req_sweep = now + REQUEST_SWEEP_NS;
	}
	if (w->ld && now >= w->next_sweep) {
		sweep(w, now);
		w->next_sweep = now + w->cfg->sweep_ns;
	}
	if (w->exec)
		alert_exec__tick(w->exec, now);
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
	struct sink sink = { w_start, w_record, w_tick, w_end, &w, true };
	const struct alert_stats *st;
	struct source_result res;
	uint64_t fired = 0;
	int err;

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
	}
	if (cfg->syslog)
		openlog("tcpfsm", LOG_PID, LOG_DAEMON);
	output_init(&w.out);
	err = source_run(cfg, &sink, &res);
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
	alert_engine__free(w.ae);
	conntab__free(w.tab);
	if (err == -EPIPE)
		return 0;
	return err ? 1 : 0;
}
