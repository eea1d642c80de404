// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <time.h>
#include "pure/alert.h"
#include "pure/dropfmt.h"
#include "pure/sbuf.h"
#include "pure/state.h"

const char *alert_state_name(int s)
{
	const char *n = state_name(s);

	return n ? n : "UNKNOWN";
}

static const char *const verdict_names[VERDICT_MAX] = {
	[VERDICT_UNKNOWN] = "unknown",
	[VERDICT_SYN_DROPPED_HERE] = "syn_dropped_here",
	[VERDICT_SYN_DROPPED_AT_PEER] = "syn_dropped_at_peer",
	[VERDICT_SYN_LOST_ON_PATH] = "syn_lost_on_path",
	[VERDICT_SYNACK_DROPPED_HERE] = "synack_dropped_here",
	[VERDICT_SYNACK_DROPPED_AT_PEER] = "synack_dropped_at_peer",
	[VERDICT_SYNACK_LOST_ON_PATH] = "synack_lost_on_path",
	[VERDICT_LISTEN_OVERFLOW] = "listen_overflow",
	[VERDICT_NO_LISTENER] = "no_listener",
	[VERDICT_ICMP_REJECT] = "icmp_reject",
	[VERDICT_APP_NOT_CLOSING] = "app_not_closing",
	[VERDICT_PEER_NOT_CLOSING] = "peer_not_closing",
};

const char *alert_verdict_name(int v)
{
	return v > 0 && v < VERDICT_MAX ? verdict_names[v] : "unknown";
}

int format_alert_text(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o)
{
	int64_t ns = fmt_realtime(a->time_ns, o->boot_to_real_ns);
	time_t sec = ns / 1000000000LL;
	char l[64], r[64], comm[TCPFSM_COMM_LEN];
	struct sbuf b;
	struct tm tm;

	sb_init(&b, buf, len);
	localtime_r(&sec, &tm);
	sb_printf(&b, "%02d:%02d:%02d %-8s %-11s ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		  a->status == ALERT_FIRING ? "FIRING" : "RESOLVED",
		  a->half_open ? "HALF-OPEN" : alert_state_name(a->state));
	if (a->aggregate) {
		sb_printf(&b, "%s\n", a->diagnosis);
		return b.pos;
	}
	format_endpoint(l, sizeof(l), a->family, a->saddr, a->sport);
	format_endpoint(r, sizeof(r), a->family, a->daddr, a->dport);
	if (a->owner)
		sb_printf(&b, "pid %u %s ", a->pid, comm_printable(comm, sizeof(comm), a->comm));
	else
		sb_printf(&b, "pid - ");
	/* a listener's alert is about SYNs from anywhere */
	if (a->state == TCPFSM_LISTEN)
		sb_printf(&b, "%s: %s\n", l, a->diagnosis);
	else
		sb_printf(&b, "%s -> %s: %s\n", l, r, a->diagnosis);
	return b.pos;
}

int format_alert_json(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o)
{
	const struct json_identity id = JSON_IDENTITY(a, a->owner);
	char t[48], diag[6 * sizeof(a->diagnosis) + 3];
	struct sbuf b;

	sb_init(&b, buf, len);
	format_rfc3339(t, sizeof(t), fmt_realtime(a->time_ns, o->boot_to_real_ns));
	sb_printf(&b, "{\"type\":\"alert\",\"time\":\"%s\",\"status\":\"%s\",\"state\":\"%s\",", t,
		  a->status == ALERT_FIRING ? "firing" : "resolved", alert_state_name(a->state));
	sb_printf(&b, "\"half_open\":%s,", a->half_open ? "true" : "false");
	if (a->aggregate)
		sb_printf(&b, "\"aggregate\":true,\"count\":%u,", a->count);
	sb_printf(&b, "\"age_ns\":%llu,\"age_at_least\":%s,\"threshold_ns\":%llu",
		  (unsigned long long)a->age_ns, a->age_at_least ? "true" : "false",
		  (unsigned long long)a->threshold_ns);
	sb_json_identity(&b, &id);
	sb_putc(&b, ',');
	if (a->fd >= 0)
		sb_printf(&b, "\"fd\":%d,", a->fd);
	else
		sb_printf(&b, "\"fd\":null,");
	sb_printf(&b, "\"ino\":%u,\"syn_retransmits\":%u,\"rst_received\":%s,\"icmp_error\":%s,",
		  a->ino, a->syn_retrans, (a->evidence & TCPFSM_EV_RST_RECV) ? "true" : "false",
		  (a->evidence & TCPFSM_EV_ICMP) ? "true" : "false");
	if (a->status == ALERT_RESOLVED && !a->aggregate && a->to_state)
		sb_printf(&b, "\"to\":\"%s\",", alert_state_name(a->to_state));
	else if (a->status == ALERT_RESOLVED && !a->aggregate)
		sb_printf(&b, "\"to\":null,");
	format_json_string(diag, sizeof(diag), a->diagnosis, sizeof(a->diagnosis));
	sb_printf(&b, "\"diagnosis\":%s", diag);
	sb_printf(&b, ",\"verdict\":\"%s\"", alert_verdict_name(a->verdict));
	if (a->drops.n || a->drops.more) {
		sb_putc(&b, ',');
		sb_drop_list_json(&b, &a->drops, o);
	}
	if (a->state == TCPFSM_LISTEN && !a->aggregate)
		sb_printf(&b, ",\"backlog\":%u,\"max_backlog\":%u", a->backlog, a->max_backlog);
	sb_lit(&b, "}\n");
	return b.pos;
}
