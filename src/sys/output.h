/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_OUTPUT_H
#define TCPFSM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

/* stdout, fully buffered for speed, flushed by the caller every tick. */
struct output {
	bool dirty;
};

void output_init(struct output *o);
/* Returns 0, or -EPIPE when stdout is gone. */
int output_write(struct output *o, const char *buf, size_t n);
int output_flush(struct output *o);

#endif
