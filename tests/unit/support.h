/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Helpers shared by the unit tests (tests/unit/support.c, linked into every
 * one): a strict JSON checker, the usual IPv4 connection's records, and the
 * committed files of tests/data.
 */
#ifndef TCPFSM_TESTS_SUPPORT_H
#define TCPFSM_TESTS_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "pure/alert.h"
#include "sys/record.h"
#include "tcpfsm.h"

/* Short names for the states, flags and the unknown duration of records. */
enum {
	ESTABLISHED = TCPFSM_ESTABLISHED,
	SYN_SENT = TCPFSM_SYN_SENT,
	SYN_RECV = TCPFSM_SYN_RECV,
	FIN_WAIT1 = TCPFSM_FIN_WAIT1,
	FIN_WAIT2 = TCPFSM_FIN_WAIT2,
	TIME_WAIT = TCPFSM_TIME_WAIT,
	CLOSE = TCPFSM_CLOSE,
	CLOSE_WAIT = TCPFSM_CLOSE_WAIT,
	LAST_ACK = TCPFSM_LAST_ACK,
	LISTEN = TCPFSM_LISTEN,
	CLOSING = TCPFSM_CLOSING,
	NEW_SYN_RECV = TCPFSM_NEW_SYN_RECV,
};

#define OWNER TCPFSM_F_OWNER
#define SOFTIRQ TCPFSM_F_SOFTIRQ
#define UNKNOWN TCPFSM_DURATION_UNKNOWN

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

/* e without an owner: no pid, cgroup or comm (its flags are the caller's) */
void event_drop_owner(struct tcpfsm_event *e);

/* A hand-made alert for the formatters and diagnoses: java/1234, IPv4,
 * no fd, in state for age_ns, the rest zero. */
struct alert alert_of_java(int state, enum alert_status st, uint64_t age_ns);

/* A fixed-seed PRNG (xorshift64; no rand()): the next number from *s. */
uint64_t xs_next(uint64_t *s);

/*
 * The committed files of tests/data. Each fails the running test (cmocka)
 * with the reason when the file cannot be read: run from the repository root
 * or set TCPFSM_DATA.
 */

/* tests/data/NAME from the repository root, else $TCPFSM_DATA/NAME */
void data_path(char *buf, size_t len, const char *name);

/* the whole file NAME, NUL-terminated, its length in *len; free() it */
char *data_slurp(const char *name, size_t *len);

/*
 * Every record of the recording NAME in file order, their number in *n; free()
 * the array. The file's header into *h.
 */
struct tcpfsm_event *data_records(const char *name, struct record_header *h, size_t *n);

/* got equals want, else fail naming the first differing line of the golden file */
void assert_same_text(const char *what, const char *got, size_t got_len, const char *want,
		      size_t want_len);

#endif /* TCPFSM_TESTS_SUPPORT_H */
