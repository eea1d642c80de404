/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_PROCFD_H
#define TCPFSM_PROCFD_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

/*
 * Which process holds which socket, as `ss -p` finds out: the links
 * /proc/PID/fd/N -> "socket:[INODE]". Other users' processes need
 * CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE (kept by watch, serve and top);
 * processes that cannot be read, or are gone, are passed over.
 */

/* fn(ctx, fd, ino) for each socket among pid's open fds, in the kernel's
 * order; a non-zero return stops the walk and is returned. Returns 0, fn's
 * value, or -errno (-ENOENT: no such process; -EACCES: not ours to read). */
int procfd_sockets(uint32_t pid, int (*fn)(void *ctx, int fd, uint32_t ino), void *ctx);

/* The fd by which pid holds socket inode ino (the lowest, if several), or
 * -errno: -ENOENT when it holds none. The fd a CLOSE_WAIT alert names. */
int procfd_fd_of(uint32_t pid, uint32_t ino);

/* A socket and the process holding it. */
struct procfd_owner {
	uint32_t ino;
	uint32_t pid;
	char comm[TCPFSM_COMM_LEN];	/* /proc/PID/comm, "" if unreadable */
};

/*
 * The owners of the sockets of every process: all of them (nwant 0), or
 * only the inodes in want (sorted ascending). One entry per inode, the
 * lowest pid holding it (a forking server's parent, usually), sorted by
 * inode for procfd_owner_of. *out is malloc'ed (free it; NULL when *n is
 * 0). Returns 0 or -errno (-ENOMEM; -errno of opening /proc).
 */
int procfd_owners(const uint32_t *want, size_t nwant, struct procfd_owner **out, size_t *n);

/* The entry for ino in procfd_owners' result, or NULL. */
const struct procfd_owner *procfd_owner_of(const struct procfd_owner *v, size_t n, uint32_t ino);

#endif
