/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_ENGINE_H
#define TCPFSM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include "pure/alert.h"
#include "pure/alertengine.h"
#include "pure/conntab.h"
#include "pure/prom.h"
#include "kernel/source.h"
#include "sys/config.h"

/*
 * The engine watch, serve and top share: records in (live or replayed), the
 * connection table and the alert engine kept up to date, and the sweeps run
 * on time — the --sweep age check, lazy tracking (its iterator sweep and
 * back-off, pure/schedule.h), the half-open request sweep — plus the
 * evidence that needs the OS (a CLOSE_WAIT owner's fd). Alerts and ended
 * connections go out through struct engine_ops; front ends read the rest
 * through the accessors below. It knows nothing of HTTP, curses or output
 * formats.
 */

struct engine_ops {
	void *ctx;
	/* an alert fired or resolved, or a rate-limit summary; non-zero stops
	 * the run (-EPIPE: quietly) */
	int (*alert)(void *ctx, const struct alert *a);
	/* a connection ended: closed, or evicted from a full table (optional;
	 * non-zero stops) */
	int (*closed)(void *ctx, const struct conn *c, const struct conn_end *end);
	/* the source started, before any record (optional; non-zero stops) */
	int (*start)(void *ctx, const struct source_info *info);
	/* every loop tick after the engine's own work (live: 50 ms; replay: at
	 * the end); non-zero stops the run (-EPIPE: quietly) */
	int (*tick)(void *ctx, uint64_t now_ns);
	/* live only: one more fd for the event loop (-1: none), and SIGHUP */
	int extra_fd;
	int (*extra)(void *ctx);
	int (*hup)(void *ctx);
};

struct engine;

/* NULL with errno (ENOMEM). */
struct engine *engine__new(const struct tcpfsm_config *cfg, const struct engine_ops *ops);
void engine__free(struct engine *e);
/* Run the source to its end (signal, -d, end of file, a stop from ops).
 * Returns 0 or -errno; res as source_run fills it. */
int engine__run(struct engine *e, struct source_result *res);
/* The end-of-run lines on stderr: events and losses (source_report), then
 * the alerts fired. */
void engine__report(const struct engine *e, const struct source_result *res);

/* --- read-only views for the front ends --- */

/* The connections the engine holds (lazy mode: only the tracked sockets).
 * Front ends read it; only the engine applies records to it. */
struct conntab *engine__conntab(const struct engine *e);
const struct alert_stats *engine__alert_stats(const struct engine *e);
/* The kernel side (maps, counters) while the run is on; NULL in a replay,
 * before the start and after the end. */
struct loader *engine__loader(const struct engine *e);
bool engine__lazy(const struct engine *e);
/*
 * Sockets in each state now, as the engine knows them. Lazy: the kernel's
 * counts at the last tracking sweep (every socket, filters applied, as
 * `ss -tan` counts them), not fresher than that sweep. Otherwise the
 * table's connections plus the half-open requests (SYN_RECV).
 */
void engine__states(const struct engine *e, uint32_t counts[TCPFSM_STATE_MAX]);
/* TCP drops seen so far by (reason, segment kind), and SYNs dropped before
 * any socket by reason, as metric samples (valid until the next record);
 * at most max. */
#define ENGINE_DROP_COUNTS_MAX 256
size_t engine__drop_counts(const struct engine *e, struct prom_count *out, size_t max);
size_t engine__listen_drop_counts(const struct engine *e, struct prom_count *out, size_t max);
/* CLOCK_BOOTTIME of the last tracking sweep, 0 before the first. */
uint64_t engine__last_track_ns(const struct engine *e);

#endif
