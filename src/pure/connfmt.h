/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_CONNFMT_H
#define TCPFSM_CONNFMT_H

#include "pure/conntab.h"
#include "pure/format.h"

#define FORMAT_CONN_MAX 4096

/*
 * One connection's history, as `tcpfsm history` prints it at close:
 *   text: start time, owner, endpoints, lifetime, the path with the time in
 *         each state, the end reason;
 *   JSON: type "connection" per the README's reference.
 * snprintf-style return.
 */
int format_conn_text(char *buf, size_t len, const struct conn *c, const struct conn_end *end,
		     const struct fmt_opts *o);
int format_conn_json(char *buf, size_t len, const struct conn *c, const struct conn_end *end,
		     const struct fmt_opts *o);

/* Its identity fields for the JSON writers (sb_json_identity): pointers
 * into c, valid as long as c is. */
struct json_identity conn_json_identity(const struct conn *c);
/* Time the connection was first known to exist, and whether that is exact. */
uint64_t conn_start_ns(const struct conn *c, bool *exact);
/* Does the path (as kept) contain this state? */
bool conn_path_has(const struct conn *c, int state);

#endif
