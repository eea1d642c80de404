/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_DROPFMT_H
#define TCPFSM_DROPFMT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
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

#endif
