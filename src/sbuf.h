/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_SBUF_H
#define TCPFSM_SBUF_H

#include <stddef.h>

/*
 * snprintf-style appender for the formatters: writes what fits, always
 * NUL-terminated, and pos counts what would have been written.
 */
struct sbuf {
	char *p;
	size_t len, pos;
};

void sb_init(struct sbuf *b, char *buf, size_t len);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_putc(struct sbuf *b, char c);

#endif
