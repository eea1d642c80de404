// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "pure/dropfmt.h"
#include "pure/sbuf.h"

static const char *const seg_names[TCPFSM_SEG_MAX] = {
	[TCPFSM_SEG_SYN] = "syn",  [TCPFSM_SEG_SYNACK] = "synack", [TCPFSM_SEG_ACK] = "ack",
	[TCPFSM_SEG_FIN] = "fin",  [TCPFSM_SEG_RST] = "rst",	   [TCPFSM_SEG_DATA] = "data",
};

const char *drop_segment_name(unsigned int seg)
{
	return seg < TCPFSM_SEG_MAX && seg_names[seg] ? seg_names[seg] : "?";
}

unsigned int drop_segment_parse(const char *name)
{
	for (unsigned int s = 1; s < TCPFSM_SEG_MAX; s++)
		if (!strcmp(seg_names[s], name))
			return s;
	return 0;
}

const char *drop_direction_name(unsigned int dir)
{
	return dir == TCPFSM_DROP_IN ? "in" : dir == TCPFSM_DROP_OUT ? "out" : "?";
}

int format_drop_text(char *buf, size_t len, const struct tcpfsm_event *e,
		     const struct fmt_opts *o, const struct drop_names *n)
{
	struct sbuf b;
	size_t at;

	sb_init(&b, buf, len);
	sb_time_owner_cols(&b, fmt_realtime(e->ts_ns, o->boot_to_real_ns), false, 0, NULL);
	at = b.pos;
	sb_endpoint(&b, e->family, e->saddr, e->sport);
	sb_pad(&b, at, 26);
	sb_putc(&b, ' ');
	at = b.pos;
	sb_endpoint(&b, e->family, e->daddr, e->dport);
	sb_pad(&b, at, 26);
	sb_putc(&b, ' ');
	at = b.pos;
	sb_puts(&b, e->oldstate == TCPFSM_DROP_IN ? "dropped incoming " :
		    e->oldstate == TCPFSM_DROP_OUT ? "dropped outgoing " : "dropped ");
	sb_puts(&b, drop_segment_name(e->evidence));
	sb_pad(&b, at, 28);
	sb_putc(&b, ' ');
	sb_puts(&b, n->reason);
	sb_lit(&b, " at ");
	sb_puts(&b, n->where);
	sb_putc(&b, '\n');
	return b.pos;
}

int format_drop_json(char *buf, size_t len, const struct tcpfsm_event *e,
		     const struct fmt_opts *o, const struct drop_names *n)
{
	struct sbuf b;

	sb_init(&b, buf, len);
	sb_lit(&b, "{\"type\":\"drop\",\"time\":\"");
	sb_rfc3339(&b, fmt_realtime(e->ts_ns, o->boot_to_real_ns));
	sb_puts(&b, e->family == TCPFSM_AF_INET ? "\",\"family\":\"ipv4\",\"saddr\":\"" :
						 "\",\"family\":\"ipv6\",\"saddr\":\"");
	sb_addr(&b, e->family, e->saddr);
	sb_lit(&b, "\",\"sport\":");
	sb_putu(&b, e->sport);
	sb_lit(&b, ",\"daddr\":\"");
	sb_addr(&b, e->family, e->daddr);
	sb_lit(&b, "\",\"dport\":");
	sb_putu(&b, e->dport);
	sb_lit(&b, ",\"netns\":");
	sb_putu(&b, e->netns);
	sb_lit(&b, ",\"direction\":\"");
	sb_puts(&b, drop_direction_name(e->oldstate));
	sb_lit(&b, "\",\"segment\":\"");
	sb_puts(&b, drop_segment_name(e->evidence));
	sb_lit(&b, "\",\"reason\":");
	sb_json_string(&b, n->reason, strlen(n->reason));
	sb_lit(&b, ",\"where\":");
	sb_json_string(&b, n->where, strlen(n->where));
	sb_lit(&b, ",\"tcp_flags\":");
	sb_putu(&b, e->newstate);
	sb_lit(&b, ",\"payload\":");
	sb_putu(&b, e->syn_retrans);
	sb_lit(&b, "}\n");
	return b.pos;
}

static void json_time(struct sbuf *b, uint64_t boot_ns, const struct fmt_opts *o)
{
	sb_putc(b, '"');
	sb_rfc3339(b, fmt_realtime(boot_ns, o->boot_to_real_ns));
	sb_putc(b, '"');
}

void sb_drop_list_json(struct sbuf *b, const struct drop_list *l, const struct fmt_opts *o)
{
	sb_lit(b, "\"drops\":[");
	for (uint32_t i = 0; i < l->n && i < DROP_LIST_MAX; i++) {
		const struct drop_item *it = &l->item[i];

		sb_puts(b, i ? ",{\"reason\":" : "{\"reason\":");
		sb_json_string(b, it->reason_name, sizeof(it->reason_name));
		sb_lit(b, ",\"where\":");
		sb_json_string(b, it->where, sizeof(it->where));
		sb_lit(b, ",\"segment\":\"");
		sb_puts(b, drop_segment_name(it->segment));
		sb_lit(b, "\",\"direction\":\"");
		sb_puts(b, drop_direction_name(it->direction));
		sb_puts(b, it->peer ? "\",\"side\":\"peer\",\"netns\":" :
				      "\",\"side\":\"here\",\"netns\":");
		sb_putu(b, it->netns);
		sb_lit(b, ",\"count\":");
		sb_putu(b, it->count);
		sb_lit(b, ",\"first\":");
		json_time(b, it->first_ns, o);
		sb_lit(b, ",\"last\":");
		json_time(b, it->last_ns, o);
		sb_putc(b, '}');
	}
	sb_putc(b, ']');
	if (l->more) {
		sb_lit(b, ",\"drops_more\":");
		sb_putu(b, l->more);
	}
}

void sb_drop_list_text(struct sbuf *b, const struct drop_list *l)
{
	for (uint32_t i = 0; i < l->n && i < DROP_LIST_MAX; i++) {
		const struct drop_item *it = &l->item[i];

		if (i)
			sb_lit(b, ", ");
		sb_putu(b, it->count);
		sb_putc(b, ' ');
		sb_puts(b, drop_segment_name(it->segment));
		sb_puts(b, it->peer ? " dropped at the peer (" : " dropped here (");
		sb_puts(b, it->reason_name);
		sb_lit(b, " at ");
		sb_puts(b, it->where);
		sb_putc(b, ')');
	}
	if (l->more) {
		sb_lit(b, ", ");
		sb_putu(b, l->more);
		sb_lit(b, " more dropped");
	}
}
