/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_SNAPSHOT_H
#define TCPFSM_SNAPSHOT_H

#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

typedef int (*snapshot_fn)(void *ctx, const struct tcpfsm_event *e);

struct snapshot_stats {
	uint32_t netns;		/* namespaces walked */
	uint32_t netns_failed;	/* namespaces that vanished or refused setns */
	uint64_t sockets;	/* records delivered */
	uint64_t owners;	/* of those, owner found through /proc */
};

/*
 * Take a snapshot of the TCP sockets of every network namespace on the host
 * (or only those in `only`, when n_only > 0): an iter/tcp iterator walks the
 * namespace it is created in, so we setns() into each distinct one found
 * through /proc/PID/ns/net and /run/netns, then back. Owners are resolved
 * from socket inodes through /proc/PID/fd, as `ss -p` does. Each record
 * (TCPFSM_KIND_SNAPSHOT) goes to fn. Returns 0 or -errno.
 *
 * -ENOTRECOVERABLE: we could not setns() back into our own namespace (the
 * error is printed). The process now runs in a foreign one: the caller must
 * stop; every later call fails the same way.
 */
int snapshot_run(int iter_link_fd, const uint32_t *only, unsigned int n_only, snapshot_fn fn,
		 void *ctx, struct snapshot_stats *st);
/* The same for periodic sweeps: the namespaces found by the last call are
 * reused for a few seconds (finding them reads all of /proc). */
int snapshot_sweep(int iter_link_fd, const uint32_t *only, unsigned int n_only, snapshot_fn fn,
		   void *ctx, struct snapshot_stats *st);
/*
 * The owner pass, once the programs are attached (the loader runs it): the
 * owner of each socket of the host found through /proc goes, through the
 * BPF map given to snapshot_owner_map(), into the kernel-side storage of
 * the sockets older than tcpfsm that have none, so that a listener's future
 * children carry it. The iterator must be set to TCPFSM_ITER_OWNERS.
 */
int snapshot_adopt_owners(int iter_link_fd, const uint32_t *only, unsigned int n_only,
			  struct snapshot_stats *st);
/* That map (socket inode -> owner, the BPF side's `owners`); -1: none. */
void snapshot_owner_map(int map_fd);
/* Whether the namespace list sweeps use has ino. */
bool snapshot_ns_known(uint32_t ino);
/* Free what sweeps keep between calls (the next sweep looks afresh). */
void snapshot_forget(void);

#endif
