// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Pure formatters: an event in, text out. Unit-tested against exact text. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "pure/duration.h"
#include "pure/format.h"
#include "pure/sbuf.h"
#include "pure/state.h"

const char *comm_printable(char *out, size_t len, const char *comm)
{
	size_t i;

	if (!len)
		return out;
	for (i = 0; i < len - 1 && comm[i]; i++)
		out[i] = (comm[i] >= 0x20 && comm[i] < 0x7f) ? comm[i] : '?';
	out[i] = 0;
	return out;
}

/* An address, IPv4 without inet_ntop (the per-event path). */
void sb_addr(struct sbuf *b, int family, const uint8_t *addr)
{
	char tmp[INET6_ADDRSTRLEN];

	if (family == TCPFSM_AF_INET) {
		for (int i = 0; i < 4; i++) {
			if (i)
				sb_putc(b, '.');
			sb_putu(b, addr[i]);
		}
		return;
	}
	if (!inet_ntop(AF_INET6, addr, tmp, sizeof(tmp)))
		sb_putc(b, '?');
	else
		sb_puts(b, tmp);
}

void sb_endpoint(struct sbuf *b, int family, const uint8_t *addr, uint16_t port)
{
	if (family != TCPFSM_AF_INET)
		sb_putc(b, '[');
	sb_addr(b, family, addr);
	sb_puts(b, family == TCPFSM_AF_INET ? ":" : "]:");
	sb_putu(b, port);
}

int format_addr(char *buf, size_t len, int family, const uint8_t *addr)
{
	struct sbuf b;

	sb_init(&b, buf, len);
	sb_addr(&b, family, addr);
	return b.pos;
}

int format_endpoint(char *buf, size_t len, int family, const uint8_t *addr, uint16_t port)
{
	struct sbuf b;

	sb_init(&b, buf, len);
	sb_endpoint(&b, family, addr, port);
	return b.pos;
}

/*
 * Calendar time of one second, formatted once: events come thousands a
 * second, and gmtime_r/localtime_r with printf cost more than the rest of a
 * line. A cache per thread and per kind; the output is the same.
 */
struct sec_cache {
	time_t sec;
	long zone;	/* localtime: the zone it was made in (tzset) */
	bool valid;
	char s[24];
	size_t n;
};

static const char *utc_second(time_t sec, size_t *n)
{
	static __thread struct sec_cache c;
	struct tm tm;

	if (!c.valid || c.sec != sec) {
		gmtime_r(&sec, &tm);
		c.n = snprintf(c.s, sizeof(c.s), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		c.sec = sec;
		c.valid = true;
	}
	*n = c.n;
	return c.s;
}

/* localtime: made anew when tzset() changed the zone too */
static const char *local_second(time_t sec, size_t *n)
{
	static __thread struct sec_cache c;
	struct tm tm;

	if (!c.valid || c.sec != sec || c.zone != timezone) {
		c.zone = timezone;
		localtime_r(&sec, &tm);
		c.n = snprintf(c.s, sizeof(c.s), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min,
			       tm.tm_sec);
		c.sec = sec;
		c.valid = true;
	}
	*n = c.n;
	return c.s;
}

void sb_rfc3339(struct sbuf *b, int64_t ns)
{
	time_t sec = ns / 1000000000LL;
	long nsec = ns % 1000000000LL;
	const char *d;
	size_t n;

	if (nsec < 0) {
		nsec += 1000000000L;
		sec--;
	}
	d = utc_second(sec, &n);
	sb_put(b, d, n);
	sb_putc(b, '.');
	sb_putu0(b, nsec, 9);
	sb_putc(b, 'Z');
}

void sb_time_owner_cols(struct sbuf *b, int64_t realtime_ns, bool owner, uint32_t pid,
			const char *comm)
{
	char c[TCPFSM_COMM_LEN];
	size_t at;

	sb_local_time_us(b, realtime_ns);
	sb_putc(b, ' ');
	at = b->pos;
	if (owner)
		sb_putu(b, pid);
	else
		sb_putc(b, '-');
	sb_pad(b, at, 7);
	sb_putc(b, ' ');
	at = b->pos;
	if (owner)
		sb_puts(b, comm_printable(c, sizeof(c), comm));
	else
		sb_putc(b, '-');
	sb_pad(b, at, 15);
	sb_putc(b, ' ');
}

void sb_local_time_us(struct sbuf *b, int64_t ns)
{
	size_t n;
	const char *t = local_second(ns / 1000000000LL, &n);

	sb_put(b, t, n);
	sb_putc(b, '.');
	sb_putu0(b, (ns % 1000000000LL) / 1000, 6);
}

int format_rfc3339(char *buf, size_t len, int64_t ns)
{
	struct sbuf b;

	sb_init(&b, buf, len);
	sb_rfc3339(&b, ns);
	return b.pos;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t need, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (need > n)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

void sb_json_string(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	sb_putc(b, '"');
	while (i < n && u[i]) {
		unsigned char c = u[i];

		switch (c) {
		case '"': sb_lit(b, "\\\""); break;
		case '\\': sb_lit(b, "\\\\"); break;
		case '\n': sb_lit(b, "\\n"); break;
		case '\r': sb_lit(b, "\\r"); break;
		case '\t': sb_lit(b, "\\t"); break;
		case '\b': sb_lit(b, "\\b"); break;
		case '\f': sb_lit(b, "\\f"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				sb_printf(b, "\\u%04x", c);
			} else if (c < 0x80) {
				sb_putc(b, c);
			} else {
				size_t end = n;

				/* the string ends at NUL or n */
				for (k = i; k < n && k < i + 4; k++)
					if (!u[k]) {
						end = k;
						break;
					}
				k = utf8_seq(u + i, end - i);
				if (!k) {
					sb_printf(b, "\\u%04x", c);
					break;
				}
				while (k--)
					sb_putc(b, u[i++]);
				continue;
			}
		}
		i++;
	}
	sb_putc(b, '"');
}

int format_json_string(char *buf, size_t len, const char *s, size_t n)
{
	struct sbuf b;

	sb_init(&b, buf, len);
	sb_json_string(&b, s, n);
	return b.pos;
}

void sb_json_identity_no_cookie(struct sbuf *b, const struct json_identity *id)
{
	if (id->owner) {
		sb_lit(b, ",\"pid\":");
		sb_putu(b, id->pid);
		sb_lit(b, ",\"comm\":");
		sb_json_string(b, id->comm, TCPFSM_COMM_LEN);
	} else {
		sb_lit(b, ",\"pid\":null,\"comm\":null");
	}
	if (id->family == TCPFSM_AF_INET)
		sb_lit(b, ",\"family\":\"ipv4\",\"saddr\":\"");
	else
		sb_lit(b, ",\"family\":\"ipv6\",\"saddr\":\"");
	sb_addr(b, id->family, id->saddr);
	sb_lit(b, "\",\"sport\":");
	sb_putu(b, id->sport);
	sb_lit(b, ",\"daddr\":\"");
	sb_addr(b, id->family, id->daddr);
	sb_lit(b, "\",\"dport\":");
	sb_putu(b, id->dport);
	sb_lit(b, ",\"netns\":");
	sb_putu(b, id->netns);
}

void sb_json_identity(struct sbuf *b, const struct json_identity *id)
{
	sb_lit(b, ",\"cookie\":");
	sb_putu(b, id->cookie);
	sb_json_identity_no_cookie(b, id);
}


static const char *state_or_unknown(int s)
{
	const char *n = state_name(s);

	return n ? n : "UNKNOWN";
}

int format_text_header(char *buf, size_t len)
{
	return snprintf(buf, len, "%-15s %-7s %-15s %-26s %-26s %-28s %s\n", "TIME", "PID", "COMM",
			"LOCAL", "REMOTE", "TRANSITION", "IN OLD STATE");
}

int format_event_text(char *buf, size_t len, const struct tcpfsm_event *e,
		      const struct fmt_opts *o)
{
	char dur[32];
	int64_t ns = fmt_realtime(e->ts_ns, o->boot_to_real_ns);
	bool same = event_same_state(e);
	struct sbuf b;
	size_t at;

	sb_init(&b, buf, len);
	sb_time_owner_cols(&b, ns, e->flags & TCPFSM_F_OWNER, e->pid, e->comm);
	at = b.pos;
	sb_endpoint(&b, e->family, e->saddr, e->sport);
	sb_pad(&b, at, 26);
	sb_putc(&b, ' ');
	at = b.pos;
	sb_endpoint(&b, e->family, e->daddr, e->dport);
	sb_pad(&b, at, 26);
	sb_putc(&b, ' ');
	at = b.pos;
	sb_puts(&b, state_or_unknown(e->oldstate));
	sb_lit(&b, " -> ");
	sb_puts(&b, state_or_unknown(e->newstate));
	/* a self-transition (close() after shutdown()): the state goes on */
	if (same)
		sb_lit(&b, " again");
	sb_pad(&b, at, 28);
	sb_putc(&b, ' ');
	if (e->old_duration_ns == TCPFSM_DURATION_UNKNOWN) {
		sb_lit(&b, "\xe2\x80\x94"); /* — */
	} else {
		duration_format(dur, sizeof(dur), e->old_duration_ns);
		sb_puts(&b, dur);
		if (same)
			sb_lit(&b, " so far");
	}
	sb_putc(&b, '\n');
	return b.pos;
}

int format_event_json(char *buf, size_t len, const struct tcpfsm_event *e,
		      const struct fmt_opts *o)
{
	const struct json_identity id = JSON_IDENTITY(e, e->flags & TCPFSM_F_OWNER);
	struct sbuf b;

	sb_init(&b, buf, len);
	sb_lit(&b, "{\"type\":\"transition\",\"time\":\"");
	sb_rfc3339(&b, fmt_realtime(e->ts_ns, o->boot_to_real_ns));
	sb_putc(&b, '"');
	sb_json_identity(&b, &id);
	sb_lit(&b, ",\"old\":\"");
	sb_puts(&b, state_or_unknown(e->oldstate));
	sb_lit(&b, "\",\"new\":\"");
	sb_puts(&b, state_or_unknown(e->newstate));
	if (e->old_duration_ns == TCPFSM_DURATION_UNKNOWN) {
		sb_lit(&b, "\",\"old_duration_ns\":null");
	} else {
		sb_lit(&b, "\",\"old_duration_ns\":");
		sb_putu(&b, e->old_duration_ns);
	}
	sb_lit(&b, ",\"cgroup_id\":");
	sb_putu(&b, e->cgroup_id);
	sb_puts(&b, (e->flags & TCPFSM_F_SOFTIRQ) ? ",\"softirq\":true" : ",\"softirq\":false");
	/* a self-transition: old_duration_ns is the time in the state so far */
	sb_puts(&b, event_same_state(e) ? ",\"same_state\":true}\n" : ",\"same_state\":false}\n");
	return b.pos;
}
