// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Pure formatters: an event in, text out. Unit-tested against exact text. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "duration.h"
#include "format.h"
#include "sbuf.h"
#include "state.h"

int format_addr(char *buf, size_t len, int family, const uint8_t *addr)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == TCPFSM_AF_INET ? AF_INET : AF_INET6, addr, tmp, sizeof(tmp)))
		return snprintf(buf, len, "?");
	return snprintf(buf, len, "%s", tmp);
}

int format_endpoint(char *buf, size_t len, int family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	format_addr(a, sizeof(a), family, addr);
	if (family == TCPFSM_AF_INET)
		return snprintf(buf, len, "%s:%u", a, port);
	return snprintf(buf, len, "[%s]:%u", a, port);
}

int format_rfc3339(char *buf, size_t len, int64_t ns)
{
	time_t sec = ns / 1000000000LL;
	long nsec = ns % 1000000000LL;
	struct tm tm;

	if (nsec < 0) {
		nsec += 1000000000L;
		sec--;
	}
	gmtime_r(&sec, &tm);
	return snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec);
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

static void sb_json_string(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	sb_putc(b, '"');
	while (i < n && u[i]) {
		unsigned char c = u[i];

		switch (c) {
		case '"': sb_printf(b, "\\\""); break;
		case '\\': sb_printf(b, "\\\\"); break;
		case '\n': sb_printf(b, "\\n"); break;
		case '\r': sb_printf(b, "\\r"); break;
		case '\t': sb_printf(b, "\\t"); break;
		case '\b': sb_printf(b, "\\b"); break;
		case '\f': sb_printf(b, "\\f"); break;
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

/* comm for a terminal: printable ASCII only, others as '?' */
static void safe_comm(char *out, const char *comm)
{
	size_t i;

	for (i = 0; i < TCPFSM_COMM_LEN - 1 && comm[i]; i++)
		out[i] = (comm[i] >= 0x20 && comm[i] < 0x7f) ? comm[i] : '?';
	out[i] = 0;
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
	char l[64], r[64], tr[40], dur[32], comm[TCPFSM_COMM_LEN], pid[16];
	int64_t ns = (int64_t)e->ts_ns + o->boot_to_real_ns;
	time_t sec = ns / 1000000000LL;
	struct tm tm;

	localtime_r(&sec, &tm);
	format_endpoint(l, sizeof(l), e->family, e->saddr, e->sport);
	format_endpoint(r, sizeof(r), e->family, e->daddr, e->dport);
	snprintf(tr, sizeof(tr), "%s -> %s", state_or_unknown(e->oldstate),
		 state_or_unknown(e->newstate));
	if (e->old_duration_ns == TCPFSM_DURATION_UNKNOWN)
		snprintf(dur, sizeof(dur), "\xe2\x80\x94"); /* — */
	else
		duration_format(dur, sizeof(dur), e->old_duration_ns);
	if (e->flags & TCPFSM_F_OWNER) {
		snprintf(pid, sizeof(pid), "%u", e->pid);
		safe_comm(comm, e->comm);
	} else {
		snprintf(pid, sizeof(pid), "-");
		snprintf(comm, sizeof(comm), "-");
	}
	return snprintf(buf, len, "%02d:%02d:%02d.%06ld %-7s %-15s %-26s %-26s %-28s %s\n",
			tm.tm_hour, tm.tm_min, tm.tm_sec, (long)((ns % 1000000000LL) / 1000), pid,
			comm, l, r, tr, dur);
}

int format_event_json(char *buf, size_t len, const struct tcpfsm_event *e,
		      const struct fmt_opts *o)
{
	char t[48], a[INET6_ADDRSTRLEN];
	struct sbuf b;

	sb_init(&b, buf, len);
	format_rfc3339(t, sizeof(t), (int64_t)e->ts_ns + o->boot_to_real_ns);
	sb_printf(&b, "{\"type\":\"transition\",\"time\":\"%s\",\"cookie\":%llu,", t,
		  (unsigned long long)e->cookie);
	if (e->flags & TCPFSM_F_OWNER) {
		sb_printf(&b, "\"pid\":%u,\"comm\":", e->pid);
		sb_json_string(&b, e->comm, TCPFSM_COMM_LEN);
	} else {
		sb_printf(&b, "\"pid\":null,\"comm\":null");
	}
	sb_printf(&b, ",\"family\":\"%s\",", e->family == TCPFSM_AF_INET ? "ipv4" : "ipv6");
	format_addr(a, sizeof(a), e->family, e->saddr);
	sb_printf(&b, "\"saddr\":\"%s\",\"sport\":%u,", a, e->sport);
	format_addr(a, sizeof(a), e->family, e->daddr);
	sb_printf(&b, "\"daddr\":\"%s\",\"dport\":%u,\"netns\":%u,", a, e->dport, e->netns);
	sb_printf(&b, "\"old\":\"%s\",\"new\":\"%s\",", state_or_unknown(e->oldstate),
		  state_or_unknown(e->newstate));
	if (e->old_duration_ns == TCPFSM_DURATION_UNKNOWN)
		sb_printf(&b, "\"old_duration_ns\":null,");
	else
		sb_printf(&b, "\"old_duration_ns\":%llu,", (unsigned long long)e->old_duration_ns);
	sb_printf(&b, "\"cgroup_id\":%llu,\"softirq\":%s}\n", (unsigned long long)e->cgroup_id,
		  (e->flags & TCPFSM_F_SOFTIRQ) ? "true" : "false");
	return b.pos;
}
