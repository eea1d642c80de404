/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_ALERTEXEC_H
#define TCPFSM_ALERTEXEC_H

#include <stddef.h>
#include <stdint.h>
#include "pure/alert.h"
#include "sys/runas.h"

/*
 * --alert-exec CMD: run CMD for each alert, directly (execvp of CMD split at
 * white space: no shell ever sees a field), with the alert as one JSON line
 * on stdin and as TCPFSM_* environment variables, its stdout sent to our
 * stderr. Never blocks the event loop: children are reaped and killed on
 * timeout from the loop's tick; at most max_running at once, then a bounded
 * queue, then drops (counted). No hook gains privileges at execve
 * (PR_SET_NO_NEW_PRIVS: setuid programs and file capabilities do not apply):
 * it runs as tcpfsm's user with at most the capabilities tcpfsm still has,
 * or as another user with none (alert_exec__run_as).
 */

struct alert_exec_stats {
	uint64_t started, failed, timed_out, dropped;
};

struct alert_exec;

/* NULL with errno (EINVAL: empty command). */
struct alert_exec *alert_exec__new(const char *cmd, uint64_t timeout_ns);
/* Run hooks as u (copied; u->set false: as tcpfsm's own user). */
void alert_exec__run_as(struct alert_exec *x, const struct runas *u);
void alert_exec__submit(struct alert_exec *x, const struct alert *a, const char *json, size_t n,
			uint64_t now_ns);
/* Reap, kill what ran too long, start what is queued. now: CLOCK_BOOTTIME. */
void alert_exec__tick(struct alert_exec *x, uint64_t now_ns);
/* Wait for the running hooks until their timeout (killing them then; the
 * clock is read here, CLOCK_BOOTTIME), drop the queued ones, free. */
void alert_exec__free(struct alert_exec *x);
const struct alert_exec_stats *alert_exec__stats(const struct alert_exec *x);

/*
 * The environment for a hook: TCPFSM_STATUS, _STATE, _HALF_OPEN, _AGE_NS,
 * _THRESHOLD_NS, _COOKIE, _PID, _COMM, _FAMILY, _SADDR, _SPORT, _DADDR,
 * _DPORT, _NETNS, _SYN_RETRANSMITS, _DIAGNOSIS, _COUNT (aggregates), plus
 * PATH. Strings go in verbatim (an environment needs no quoting) with
 * control characters replaced by '?'. Writes up to max-1 pointers into envp
 * (NULL-terminated) backed by buf. Returns the count, or -ENOSPC.
 */
int alert_env_build(const struct alert *a, char *buf, size_t len, char **envp, size_t max);

#endif
