/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_SOURCE_H
#define TCPFSM_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include "sys/config.h"

/* Where records come from: the live kernel or a record file (cfg->replay). */

struct source_info {
	int64_t boot_to_real_ns; /* to turn record times into wall-clock */
	uint64_t start_boot_ns;	 /* when tracing (or the recording) began */
	struct loader *loader;	/* live only: for reading the kernel's maps */
	struct drops *drops;	/* live with cfg->drops, when it loaded */
};

struct sink {
	/* once, before any record */
	int (*on_start)(void *ctx, const struct source_info *info);
	/* every record that passed the kernel-side filters, snapshot seeds first;
	 * non-zero stops the source */
	int (*on_record)(void *ctx, const struct tcpfsm_event *e);
	/* periodically (live: every LOOP_TICK_MS; replay: once, at the
	 * recording's end) */
	int (*on_tick)(void *ctx, uint64_t now_boot_ns);
	/* once at the end (live: the programs are detached, maps still
	 * readable; replay: the recording's end time, which may come after its
	 * last record; also after the readable part of a cut or corrupt file),
	 * unless the source failed */
	int (*on_end)(void *ctx, uint64_t now_boot_ns);
	void *ctx;
	bool want_snapshot;	/* seed with the sockets that exist at start */
	/* live only: another fd for the loop (used when on_extra is set), and
	 * SIGHUP */
	int extra_fd;
	int (*on_extra)(void *ctx);
	int (*on_hup)(void *ctx);
};

struct source_result {
	uint64_t records;	/* records delivered */
	uint64_t seeds;		/* of those, snapshot seeds */
	uint64_t evidence;	/* of those, evidence records (not transitions) */
	uint64_t drops;		/* of those, drop records */
	/* live, drops tracked: the kernel's counts (kernel/drops.h) */
	bool drops_tracked;
	uint64_t drops_lost, drops_missed;
	uint64_t lost;		/* events the kernel could not deliver (incl. missed,
				 * unless missed_unattributed) */
	uint64_t missed;	/* transitions never seen: our program was busy */
	/* filters were set: a missed transition may have been another
	 * namespace's or port's, so missed is not in lost */
	bool missed_unattributed;
	bool lost_known;	/* false for a recording that did not end cleanly */
	bool truncated;		/* a recording cut short (read up to the cut) */
	/* lazy tracking: the kernel counted kernel_events transitions and
	 * sent only the tracked sockets' */
	bool lazy;
	uint64_t kernel_events;
};

/* CLOCK_REALTIME - CLOCK_BOOTTIME, read as closely together as we can. */
int64_t source_boot_to_real(void);

/* Run until the end (signal, -d, end of file). Returns 0 or -errno; errors
 * are reported on stderr. A recording cut short is -ENODATA (0 with
 * cfg->partial), after the sink had all of its readable part. */
int source_run(const struct tcpfsm_config *cfg, const struct sink *sink, struct source_result *res);

/* Events lost so far, as every command reports them: the ring's, and the
 * transitions the kernel skipped when no filter could have excluded them. */
uint64_t source_lost(const struct tcpfsm_config *cfg, uint64_t ring_lost, uint64_t missed);

/* The end-of-run summary on stderr, the same words for every command:
 * events, lost (and why, when any). */
void source_report(const struct tcpfsm_config *cfg, const struct source_result *res);

#endif
