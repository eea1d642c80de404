/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Helpers shared by the unit tests (tests/unit/support.c, linked into every
 * one): a strict JSON checker and the usual IPv4 connection's records.
 */
#ifndef TCPFSM_TESTS_SUPPORT_H
#define TCPFSM_TESTS_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

/*
 * A small strict JSON checker (RFC 8259): value grammar, escapes, no raw
 * control characters, valid UTF-8.
 */

/* one JSON object followed by exactly one newline */
bool json_line_ok(const char *s);

/* a JSON string literal alone */
bool json_string_ok(const char *s);

/*
 * A transition of the client 10.0.0.1:40000 -> 10.0.0.2:443 owned by
 * curl/4242 (cgroup 7, the initial network namespace): old -> new at ts_ns,
 * the time in old unknown.
 */
struct tcpfsm_event client_event(uint64_t cookie, uint64_t ts_ns, int old, int new);

#endif /* TCPFSM_TESTS_SUPPORT_H */
