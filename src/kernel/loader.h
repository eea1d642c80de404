/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_LOADER_H
#define TCPFSM_LOADER_H

#include <stdint.h>
#include "sys/config.h"

struct loader;

/* Called for each event taken from the ring buffer; non-zero stops consuming. */
typedef int (*loader_event_fn)(void *ctx, const struct tcpfsm_event *e);

/*
 * Check privileges and kernel features, open, set the filters, load and
 * attach: tp_btf where a probe says the kernel allows it, else the classic
 * tracepoint (unless cfg->attach forces one); how softirq is told from task
 * context is probed too (-v says which). Prints one clear error and returns
 * NULL with errno set on failure.
 */
struct loader *loader__new(const struct tcpfsm_config *cfg, loader_event_fn fn, void *ctx);
/* An fd that polls readable when the ring buffer has a batch for us. */
int loader__fd(const struct loader *ld);
/* Read the ring buffers; deliver, in time order, the events older than the
 * reorder horizon (all of them once detached). Returns records read or -errno. */
int loader__consume(struct loader *ld);
/* Detach the programs: no new events after this; what is queued stays. */
void loader__detach(struct loader *ld);
/* Sum of the per-CPU counters, indexed by enum tcpfsm_stat. */
int loader__stats(const struct loader *ld, uint64_t stats[TCPFSM_STAT_MAX]);
struct hist_set;
/* The kernel's histograms and transition counts, merged over CPUs, into out
 * (reset first; its by/limit say how to key). Returns 0 or -errno. */
int loader__read_hists(const struct loader *ld, struct hist_set *out);
/*
 * Transitions the kernel did not run our state program for: a program is
 * skipped while it already runs on that CPU (a softirq interrupted it). On
 * tp_btf a backup program handles what its primary was skipped for, so this
 * stays 0 there; the classic tracepoint can miss. Lost like ring buffer
 * overflows, histograms included (Linux 5.12+ counts them). Still readable
 * after loader__detach.
 */
uint64_t loader__missed(const struct loader *ld);
/* The fd of the main object's map `name` (another object shares it through
 * bpf_map__reuse_fd: the rings), or -ENOENT. */
int loader__map_fd(const struct loader *ld, const char *name);
/* "tp_btf" or "tracepoint" */
const char *loader__mode(const struct loader *ld);
/* Link fd of the iter/tcp snapshot program (tp_btf mode only), or -errno. */
int loader__iter_fd(struct loader *ld);
/* Whether transitions in softirq are told apart (owner attribution exact). */
bool loader__ctx_tracking(const struct loader *ld);
/*
 * Lazy tracking (cfg->lazy, tp_btf only): the kernel sends a socket's
 * transitions only once a sweep found it in one state for track_after_ns,
 * or when it predates us. The sweep is the iter/tcp iterator (loader__iter_fd)
 * run in every namespace with TCPFSM_ITER_TRACK: one TCPFSM_KIND_SNAPSHOT
 * record per newly tracked socket (ts_ns: when it entered its state), and
 * the sockets per state counted (filters applied) for loader__sweep_states.
 */
bool loader__lazy(const struct loader *ld);
/* What the next iterator runs report (TCPFSM_ITER_*); resets the counts. */
void loader__iter_what(struct loader *ld, uint32_t what, uint64_t track_after_ns);
void loader__sweep_states(const struct loader *ld, uint64_t states[TCPFSM_STATE_MAX]);
/* Whether sockets were made in a namespace `known` does not know; with
 * prune, forget those. */
bool loader__netns_prune(struct loader *ld, bool (*known)(uint32_t ino), bool prune);
void loader__free(struct loader *ld);

#endif
