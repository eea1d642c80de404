/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_DROPS_H
#define TCPFSM_DROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sys/config.h"

struct loader;

/*
 * The drop tracker (bpf/drops.bpf.c): its own BPF object on skb:kfree_skb,
 * writing TCPFSM_KIND_DROP records into the loader's rings (shared through
 * bpf_map__reuse_fd), so they arrive in the same time-ordered stream. Not
 * subject to lazy tracking: every TCP drop that passes the kernel-side
 * filters is sent (drops are rare; their cost when a host drops a flood of
 * them is measured by make bench).
 */
struct drops;

/* Load and attach next to ld's object: tp_btf where the loader uses it and
 * this kernel allows it, else the classic tracepoint. On failure says why
 * (a warning: tracing goes on without drops) and returns NULL, errno set. */
struct drops *drops__new(const struct tcpfsm_config *cfg, struct loader *ld);
/* "tp_btf" or "tracepoint" */
const char *drops__mode(const struct drops *d);

struct drops_stats {
	uint64_t seen;		/* TCP drops that passed the filters */
	uint64_t lost;		/* of those, not delivered: the ring was full */
	uint64_t missed;	/* drops the kernel did not run the program for
				 * (it was running on that CPU: tp_btf counts) */
};

void drops__stats(const struct drops *d, struct drops_stats *st);
/*
 * The listener sweep: every listening socket of every namespace (or those
 * of cfg's --netns), the drops it counted itself (sk_drops), its accept
 * queue and owner, to fn. 0, -EOPNOTSUPP (no iterator here: tp_btf only),
 * -ENOTRECOVERABLE (stranded in another namespace: stop) or -errno.
 */
struct listener_info;
int drops__listeners(struct drops *d, const struct tcpfsm_config *cfg,
		     int (*fn)(void *ctx, const struct listener_info *li), void *ctx);
void drops__free(struct drops *d);

/*
 * The running kernel's names for a drop record: reasons from its BTF (enum
 * skb_drop_reason), locations from /proc/kallsyms (opened here, while
 * privileged, and searched again for each new location; results cached).
 * Where either is unavailable, or numbers_only was set (a recording from
 * another boot), reason_N and hex addresses.
 */
struct dropnames;

struct dropnames *dropnames__new(void);
/* Numbers, not names, from now on (the records come from another boot). */
void dropnames__numbers_only(struct dropnames *n);
const char *dropnames__reason(struct dropnames *n, uint32_t reason, char *buf, size_t len);
const char *dropnames__where(struct dropnames *n, uint64_t addr, char *buf, size_t len);
/* Names for a drop list's item (pure/droptab.h's drop_name_fn; ctx: the
 * struct dropnames). */
struct drop_item;
void dropnames__name_item(void *ctx, struct drop_item *it);
/* Replaying a recording whose CLOCK_REALTIME - CLOCK_BOOTTIME was
 * boot_to_real_ns: from another boot (it moves by a whole reboot, within a
 * boot only by clock adjustments), numbers only. */
void dropnames__for_recording(struct dropnames *n, int64_t boot_to_real_ns);
/* The running kernel's value of a reason name ("NETFILTER_DROP"), or -ENOENT. */
int64_t dropnames__reason_value(struct dropnames *n, const char *name);
void dropnames__free(struct dropnames *n);

#endif
