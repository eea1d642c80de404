/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_LINELOG_H
#define TCPFSM_LINELOG_H

#include <stddef.h>
#include <stdint.h>

/*
 * A log file of lines (serve --log: JSON lines): appended to, buffered,
 * written whole lines at a time, every write checked. A line that cannot be
 * written is counted as lost; the first failure of a run of them is said
 * on stderr once, not per line, and so is the recovery. Reopened on SIGHUP
 * after rotation. Lines end in '\n'.
 */
struct linelog;

/* Open (create, append) path: NULL with errno. */
struct linelog *linelog__open(const char *path);
/* Reopen the same path (after rotation): 0, or -errno keeping the old file. */
int linelog__reopen(struct linelog *l);
/* Queue one line; written when the buffer fills and at each flush. */
void linelog__write(struct linelog *l, const char *line, size_t n);
/* Write what is queued. */
void linelog__flush(struct linelog *l);
/* Lines lost so far: they could not be written. */
uint64_t linelog__lost(const struct linelog *l);
/* Flush, say on stderr how many lines were lost in all (if any), close. */
void linelog__close(struct linelog *l);

#endif
