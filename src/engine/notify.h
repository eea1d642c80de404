/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_NOTIFY_H
#define TCPFSM_NOTIFY_H

#include <stdint.h>
#include "pure/alert.h"
#include "sys/config.h"
#include "sys/output.h"

/*
 * Alerts to the outside world, the same for every front end: a line on
 * stdout (text, or JSON with --json; not for top, which shows them on its
 * screen), syslog (--syslog) and --alert-exec hooks.
 */
struct notify;

/*
 * out: where alert lines go (NULL: none). The wall-clock offset comes later
 * (notify__set_clock). Checks what hooks need now, not at the first alert.
 * Prints the error and returns NULL with errno: EINVAL (a bad --alert-exec:
 * a usage error), EPERM (--alert-exec-user without CAP_SETUID/CAP_SETGID),
 * ENOMEM.
 */
struct notify *notify__new(const struct tcpfsm_config *cfg, struct output *out);
/* CLOCK_REALTIME - CLOCK_BOOTTIME of the records (source_info). */
void notify__set_clock(struct notify *n, int64_t boot_to_real_ns);
/* One alert out. Returns 0, or -EPIPE when stdout is gone. */
int notify__alert(struct notify *n, const struct alert *a);
/* Reap and time out hooks, start queued ones (every loop tick). */
void notify__tick(struct notify *n, uint64_t now_ns);
/* Wait for the hooks still running (killed after their timeout), say on
 * stderr what they did, close syslog, free. */
void notify__free(struct notify *n);

#endif
