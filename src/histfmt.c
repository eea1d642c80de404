// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "duration.h"
#include "histfmt.h"
#include "sbuf.h"
#include "state.h"

uint64_t conn_start_ns(const struct conn *c, bool *exact)
{
	*exact = (c->flags & CONN_COMPLETE) && c->enter_ns[0];
	if (c->npath && c->enter_ns[0])
		return c->enter_ns[0];
	return c->npath > 1 ? c->enter_ns[1] : 0;
}

bool conn_path_has(const struct conn *c, int state)
{
	for (int i = 0; i < c->npath; i++)
		if (c->states[i] == state)
			return true;
	return false;
}

static const char *sname(int s)
{
	const char *n = state_name(s);

	return n ? n : "UNKNOWN";
}

/*
 * Duration of path entry i: 0 and *known false when it cannot be told;
 * *lower when it is a lower bound. The last entry runs until end_ns unless it
 * is the final CLOSE/TIME_WAIT.
 */
static uint64_t entry_duration(const struct conn *c, const struct conn_end *end, int i, bool *known,
			       bool *lower)
{
	uint64_t from = c->enter_ns[i], to;
	bool last = i == c->npath - 1;

	*known = false;
	*lower = i == 0 && (c->flags & CONN_FIRST_LOWER);
	if (last && end->reason != END_EVICTED)
		return 0; /* the final state: no duration */
	/* the state before the latest of a long path was followed by skipped ones */
	if (c->skipped && i == CONN_PATH_MAX - 2)
		return 0;
	to = last ? end->end_ns : c->enter_ns[i + 1];
	if (!from || to < from)
		return 0;
	*known = true;
	if (last)
		*lower = true; /* still in it when evicted */
	return to - from;
}

static void fmt_ep(struct sbuf *b, const struct conn *c, bool local)
{
	char ep[64];

	format_endpoint(ep, sizeof(ep), c->family, local ? c->saddr : c->daddr,
			local ? c->sport : c->dport);
	sb_printf(b, "%s", ep);
}

int format_conn_text(char *buf, size_t len, const struct conn *c, const struct conn_end *end,
		     const struct fmt_opts *o)
{
	char d[32], comm[TCPFSM_COMM_LEN], pid[16];
	struct sbuf b;
	bool exact, known, lower;
	uint64_t start = conn_start_ns(c, &exact);
	int64_t ns = (int64_t)(start ? start : end->end_ns) + o->boot_to_real_ns;
	time_t sec = ns / 1000000000LL;
	struct tm tm;
	size_t i;

	sb_init(&b, buf, len);
	localtime_r(&sec, &tm);
	if (c->flags & CONN_OWNER) {
		snprintf(pid, sizeof(pid), "%u", c->pid);
		for (i = 0; i < TCPFSM_COMM_LEN - 1 && c->comm[i]; i++)
			comm[i] = (c->comm[i] >= 0x20 && c->comm[i] < 0x7f) ? c->comm[i] : '?';
		comm[i] = 0;
	} else {
		strcpy(pid, "-");
		strcpy(comm, "-");
	}
	sb_printf(&b, "%02d:%02d:%02d.%06ld %-7s %-15s ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		  (long)((ns % 1000000000LL) / 1000), pid, comm);
	fmt_ep(&b, c, true);
	sb_printf(&b, " -> ");
	fmt_ep(&b, c, false);
	if (start && end->end_ns >= start) {
		duration_format(d, sizeof(d), end->end_ns - start);
		/* a lower bound when it began earlier or still goes on (evicted) */
		sb_printf(&b, "  %s%s ", exact && end->reason != END_EVICTED ? "" : ">=", d);
	} else {
		sb_printf(&b, "  ? ");
	}
	for (int k = 0; k < c->npath; k++) {
		uint64_t du = entry_duration(c, end, k, &known, &lower);

		if (k)
			sb_printf(&b, " \xe2\x86\x92 "); /* → */
		if (k == CONN_PATH_MAX - 1 && c->skipped)
			sb_printf(&b, "(%u more) \xe2\x86\x92 ", c->skipped);
		sb_printf(&b, "%s", sname(c->states[k]));
		if (known) {
			duration_format(d, sizeof(d), du);
			sb_printf(&b, " %s%s", lower ? ">=" : "", d);
		} else if (k < c->npath - 1 || end->reason == END_EVICTED) {
			sb_printf(&b, " ?");
		}
	}
	sb_printf(&b, "  (%s", end_reason_text(end->reason));
	if (c->syn_retrans)
		sb_printf(&b, ", %u SYN retransmits", c->syn_retrans);
	if (!(c->flags & CONN_COMPLETE))
		sb_printf(&b, ", began before tracing");
	sb_printf(&b, ")\n");
	return b.pos;
}

static void json_time(struct sbuf *b, uint64_t boot_ns, const struct fmt_opts *o)
{
	char t[48];

	if (!boot_ns) {
		sb_printf(b, "null");
		return;
	}
	format_rfc3339(t, sizeof(t), (int64_t)boot_ns + o->boot_to_real_ns);
	sb_printf(b, "\"%s\"", t);
}

int format_conn_json(char *buf, size_t len, const struct conn *c, const struct conn_end *end,
		     const struct fmt_opts *o)
{
	/* every byte of comm may take a 6-byte escape ("\u00XX"), plus quotes */
	char a[64], comm[6 * TCPFSM_COMM_LEN + 3];
	struct sbuf b;
	bool exact, known, lower;
	uint64_t start = conn_start_ns(c, &exact);

	sb_init(&b, buf, len);
	sb_printf(&b, "{\"type\":\"connection\",\"cookie\":%llu,", (unsigned long long)c->cookie);
	if (c->flags & CONN_OWNER) {
		format_json_string(comm, sizeof(comm), c->comm, TCPFSM_COMM_LEN);
		sb_printf(&b, "\"pid\":%u,\"comm\":%s,", c->pid, comm);
	} else {
		sb_printf(&b, "\"pid\":null,\"comm\":null,");
	}
	sb_printf(&b, "\"family\":\"%s\",", c->family == TCPFSM_AF_INET ? "ipv4" : "ipv6");
	format_addr(a, sizeof(a), c->family, c->saddr);
	sb_printf(&b, "\"saddr\":\"%s\",\"sport\":%u,", a, c->sport);
	format_addr(a, sizeof(a), c->family, c->daddr);
	sb_printf(&b, "\"daddr\":\"%s\",\"dport\":%u,\"netns\":%u,", a, c->dport, c->netns);
	sb_printf(&b, "\"start\":");
	json_time(&b, start, o);
	sb_printf(&b, ",\"end\":");
	json_time(&b, end->end_ns, o);
	if (start && end->end_ns >= start)
		sb_printf(&b, ",\"duration_ns\":%llu", (unsigned long long)(end->end_ns - start));
	else
		sb_printf(&b, ",\"duration_ns\":null");
	sb_printf(&b, ",\"complete\":%s,\"path\":[", (c->flags & CONN_COMPLETE) ? "true" : "false");
	for (int k = 0; k < c->npath; k++) {
		uint64_t du = entry_duration(c, end, k, &known, &lower);

		sb_printf(&b, "%s{\"state\":\"%s\",\"enter\":", k ? "," : "", sname(c->states[k]));
		json_time(&b, c->enter_ns[k], o);
		if (known)
			sb_printf(&b, ",\"duration_ns\":%llu", (unsigned long long)du);
		else
			sb_printf(&b, ",\"duration_ns\":null");
		if (known && lower)
			sb_printf(&b, ",\"at_least\":true");
		sb_printf(&b, "}");
	}
	sb_printf(&b, "],\"end_reason\":\"%s\",\"syn_retransmits\":%u", end_reason_name(end->reason),
		  c->syn_retrans);
	if (c->skipped)
		sb_printf(&b, ",\"skipped_states\":%u", c->skipped);
	sb_printf(&b, ",\"cgroup_id\":%llu}\n", (unsigned long long)c->cgroup_id);
	return b.pos;
}
