// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "pure/duration.h"
#include "pure/connfmt.h"
#include "pure/dropfmt.h"
#include "pure/sbuf.h"
#include "pure/state.h"

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

struct json_identity conn_json_identity(const struct conn *c)
{
	return JSON_IDENTITY(c, c->flags & CONN_OWNER);
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
	sb_endpoint(b, c->family, local ? c->saddr : c->daddr, local ? c->sport : c->dport);
}

int format_conn_text(char *buf, size_t len, const struct conn *c, const struct conn_end *end,
		     const struct fmt_opts *o)
{
	char d[32];
	struct sbuf b;
	bool exact, known, lower;
	uint64_t start = conn_start_ns(c, &exact);
	int64_t ns = fmt_realtime(start ? start : end->end_ns, o->boot_to_real_ns);

	sb_init(&b, buf, len);
	sb_time_owner_cols(&b, ns, c->flags & CONN_OWNER, c->pid, c->comm);
	fmt_ep(&b, c, true);
	sb_lit(&b, " -> ");
	fmt_ep(&b, c, false);
	if (start && end->end_ns >= start) {
		duration_format(d, sizeof(d), end->end_ns - start);
		/* a lower bound when it began earlier or still goes on (evicted) */
		sb_puts(&b, exact && end->reason != END_EVICTED ? "  " : "  >=");
		sb_puts(&b, d);
		sb_putc(&b, ' ');
	} else {
		sb_lit(&b, "  ? ");
	}
	for (int k = 0; k < c->npath; k++) {
		uint64_t du = entry_duration(c, end, k, &known, &lower);

		if (k)
			sb_lit(&b, " \xe2\x86\x92 "); /* → */
		if (k == CONN_PATH_MAX - 1 && c->skipped) {
			sb_putc(&b, '(');
			sb_putu(&b, c->skipped);
			sb_lit(&b, " more) \xe2\x86\x92 ");
		}
		sb_puts(&b, sname(c->states[k]));
		if (known) {
			duration_format(d, sizeof(d), du);
			sb_puts(&b, lower ? " >=" : " ");
			sb_puts(&b, d);
		} else if (k < c->npath - 1 || end->reason == END_EVICTED) {
			sb_lit(&b, " ?");
		}
	}
	sb_lit(&b, "  (");
	sb_puts(&b, end_reason_text(end->reason));
	if (c->syn_retrans) {
		sb_lit(&b, ", ");
		sb_putu(&b, c->syn_retrans);
		sb_lit(&b, " SYN retransmits");
	}
	if (!(c->flags & CONN_COMPLETE))
		sb_lit(&b, ", began before tracing");
	if (end->drops.n || end->drops.more) {
		sb_lit(&b, ", ");
		sb_drop_list_text(&b, &end->drops);
	}
	sb_lit(&b, ")\n");
	return b.pos;
}

static void json_time(struct sbuf *b, uint64_t boot_ns, const struct fmt_opts *o)
{
	if (!boot_ns) {
		sb_lit(b, "null");
		return;
	}
	sb_putc(b, '"');
	sb_rfc3339(b, fmt_realtime(boot_ns, o->boot_to_real_ns));
	sb_putc(b, '"');
}

static void json_u64_or_null(struct sbuf *b, const char *key, bool known, uint64_t v)
{
	sb_puts(b, key);
	if (known)
		sb_putu(b, v);
	else
		sb_lit(b, "null");
}

int format_conn_json(char *buf, size_t len, const struct conn *c, const struct conn_end *end,
		     const struct fmt_opts *o)
{
	const struct json_identity id = conn_json_identity(c);
	struct sbuf b;
	bool exact, known, lower;
	uint64_t start = conn_start_ns(c, &exact);

	sb_init(&b, buf, len);
	sb_lit(&b, "{\"type\":\"connection\"");
	sb_json_identity(&b, &id);
	sb_lit(&b, ",\"start\":");
	json_time(&b, start, o);
	sb_lit(&b, ",\"end\":");
	json_time(&b, end->end_ns, o);
	json_u64_or_null(&b, ",\"duration_ns\":", start && end->end_ns >= start,
			 end->end_ns - start);
	sb_puts(&b, (c->flags & CONN_COMPLETE) ? ",\"complete\":true,\"path\":[" :
						 ",\"complete\":false,\"path\":[");
	for (int k = 0; k < c->npath; k++) {
		uint64_t du = entry_duration(c, end, k, &known, &lower);

		sb_puts(&b, k ? ",{\"state\":\"" : "{\"state\":\"");
		sb_puts(&b, sname(c->states[k]));
		sb_lit(&b, "\",\"enter\":");
		json_time(&b, c->enter_ns[k], o);
		json_u64_or_null(&b, ",\"duration_ns\":", known, du);
		if (known && lower)
			sb_lit(&b, ",\"at_least\":true");
		sb_putc(&b, '}');
	}
	sb_lit(&b, "],\"end_reason\":\"");
	sb_puts(&b, end_reason_name(end->reason));
	sb_lit(&b, "\",\"syn_retransmits\":");
	sb_putu(&b, c->syn_retrans);
	if (c->skipped) {
		sb_lit(&b, ",\"skipped_states\":");
		sb_putu(&b, c->skipped);
	}
	sb_lit(&b, ",\"cgroup_id\":");
	sb_putu(&b, c->cgroup_id);
	/* the drops of its segments, when there were any */
	if (end->drops.n || end->drops.more) {
		sb_putc(&b, ',');
		sb_drop_list_json(&b, &end->drops, o);
	}
	sb_lit(&b, "}\n");
	return b.pos;
}
