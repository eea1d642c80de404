/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_DROPFMT_H
#define TCPFSM_DROPFMT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "pure/droptab.h"
#include "pure/format.h"
#include "tcpfsm.h"

/* Drop records (TCPFSM_KIND_DROP, fields in tcpfsm.h) as trace prints them. */

/* "syn", "synack", "ack", "fin", "rst", "data"; "?" out of range. */
const char *drop_segment_name(unsigned int seg);
/* TCPFSM_SEG_* of a name, or 0. */
unsigned int drop_segment_parse(const char *name);
/* "in", "out"; "?" out of range. */
const char *drop_direction_name(unsigned int dir);

/* The names the running kernel gives a record's reason and location. */
struct drop_names {
	const char *reason;	/* "NETFILTER_DROP" (or "reason_N") */
	const char *where;	/* "nft_do_chain" (or "0xffff...") */
};

/* The trace line (columns of format_text_header) and the JSON object. */
int format_drop_text(char *buf, size_t len, const struct tcpfsm_event *e,
		     const struct fmt_opts *o, const struct drop_names *n);
int format_drop_json(char *buf, size_t len, const struct tcpfsm_event *e,
		     const struct fmt_opts *o, const struct drop_names *n);

/* A connection's or an alert's drops: `"drops":[{reason, where, segment,
 * direction, side ("here" or "peer"), netns, count, first, last}, ...]`
 * and, when some were not itemized, `,"drops_more":N` (no leading comma). */
struct sbuf;
void sb_drop_list_json(struct sbuf *b, const struct drop_list *l, const struct fmt_opts *o);
/* The same in words: "3 syn dropped here (NETFILTER_DROP at nft_do_chain),
 * ..." (nothing for an empty list). */
void sb_drop_list_text(struct sbuf *b, const struct drop_list *l);

#endif
