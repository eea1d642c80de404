/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_FORMAT_H
#define TCPFSM_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

/* Big enough for any one formatted event. */
#define FORMAT_EVENT_MAX 1024

struct fmt_opts {
	/* CLOCK_REALTIME - CLOCK_BOOTTIME, to turn event times into wall time */
	int64_t boot_to_real_ns;
};

/*
 * All formatters write a NUL-terminated string into buf and return the length
 * it has (or would have had: >= len means truncated), like snprintf.
 */
/* Boot time to wall time, wrapping (never overflowing) on garbage input
 * such as a damaged recording. */
static inline int64_t fmt_realtime(uint64_t boot_ns, int64_t boot_to_real_ns)
{
	return (int64_t)(boot_ns + (uint64_t)boot_to_real_ns);
}

int format_text_header(char *buf, size_t len);
int format_event_text(char *buf, size_t len, const struct tcpfsm_event *e,
		      const struct fmt_opts *o);
int format_event_json(char *buf, size_t len, const struct tcpfsm_event *e,
		      const struct fmt_opts *o);

/* A process name (or a key made of one) for a terminal or a text line:
 * at most len - 1 bytes of comm, up to its NUL, printable ASCII kept and
 * every other byte '?'. Processes name themselves: no newline or terminal
 * escape gets through. Returns out. */
const char *comm_printable(char *out, size_t len, const char *comm);
/* "127.0.0.1" or "2001:db8::1" (no brackets). */
int format_addr(char *buf, size_t len, int family, const uint8_t *addr);
/* "127.0.0.1:80" or "[2001:db8::1]:80". */
int format_endpoint(char *buf, size_t len, int family, const uint8_t *addr, uint16_t port);
/* RFC 3339 UTC with nanoseconds: "2026-11-27T15:00:36.123456789Z". */
int format_rfc3339(char *buf, size_t len, int64_t realtime_ns);
/* JSON string literal with quotes; n bytes of s (stops at NUL). Control
 * characters, quotes and backslashes escaped; bytes that are not valid UTF-8
 * become \u00XX so the output is always valid JSON. */
int format_json_string(char *buf, size_t len, const char *s, size_t n);

/* The same pieces appended to an sbuf (the per-event paths): an address,
 * address:port, RFC 3339 UTC time, local HH:MM:SS.uuuuuu, a JSON string. */
struct sbuf;
void sb_addr(struct sbuf *b, int family, const uint8_t *addr);
void sb_endpoint(struct sbuf *b, int family, const uint8_t *addr, uint16_t port);
void sb_rfc3339(struct sbuf *b, int64_t realtime_ns);
void sb_local_time_us(struct sbuf *b, int64_t realtime_ns);
/* the text lines' first columns: time, pid (7), comm (15), or "-" */
void sb_time_owner_cols(struct sbuf *b, int64_t realtime_ns, bool owner, uint32_t pid,
			const char *comm);
void sb_json_string(struct sbuf *b, const char *s, size_t n);

/*
 * The identity fields every JSON record has (transition, connection, alert,
 * serve's /connections), taken from whichever record holds them: pointers,
 * so filling one costs nothing on the per-event path.
 */
struct json_identity {
	uint64_t cookie;
	bool owner;			/* pid and comm known (else null) */
	uint32_t pid;
	const char *comm;		/* TCPFSM_COMM_LEN bytes */
	uint8_t family;			/* TCPFSM_AF_INET: "ipv4", else "ipv6" */
	const uint8_t *saddr, *daddr;
	uint16_t sport, dport;
	uint32_t netns;
};

/* The identity of any record with these members (an event, a conn, an
 * alert); owner: whether its pid and comm are known. */
#define JSON_IDENTITY(r, has_owner)                                                     \
	((struct json_identity){ .cookie = (r)->cookie, .owner = (has_owner),           \
				 .pid = (r)->pid, .comm = (r)->comm,                    \
				 .family = (r)->family,                                 \
				 .saddr = (r)->saddr, .daddr = (r)->daddr,              \
				 .sport = (r)->sport, .dport = (r)->dport, .netns = (r)->netns })

/* ,"cookie":N,"pid":N,"comm":"..","family":"ipv4","saddr":"..","sport":N,
 * "daddr":"..","dport":N,"netns":N: the comma before it (it never comes
 * first), none after. */
void sb_json_identity(struct sbuf *b, const struct json_identity *id);
/* The same from ,"pid" on (/connections writes the cookie first, apart). */
void sb_json_identity_no_cookie(struct sbuf *b, const struct json_identity *id);

#endif
