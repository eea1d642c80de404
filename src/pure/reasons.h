/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_REASONS_H
#define TCPFSM_REASONS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The names of the running kernel's drop reasons (enum skb_drop_reason,
 * read from its BTF by kernel/drops.c): their numbers differ between
 * kernels, so they are never compiled in. Pure: a value -> name table.
 */
struct reasons;

struct reasons *reasons__new(void);
void reasons__free(struct reasons *r);
/* Add the enumerator `name` = value, its SKB_DROP_REASON_ (or SKB_) prefix
 * taken off. A value added again keeps its first name. 0 or -errno. */
int reasons__add(struct reasons *r, uint32_t value, const char *name);
/* "NETFILTER_DROP", or NULL when unknown. */
const char *reasons__name(const struct reasons *r, uint32_t value);
/* The name, or "reason_N" when unknown (r may be NULL), into buf. */
const char *reasons__format(const struct reasons *r, uint32_t value, char *buf, size_t len);
/* The value of a name (without prefix), or -ENOENT. */
int64_t reasons__value(const struct reasons *r, const char *name);
uint32_t reasons__count(const struct reasons *r);

#endif
