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
/* The same without printf, for the per-event formatters: n bytes of s; a
 * string; an unsigned number; one zero-padded to width digits; spaces until
 * what was written since `from` is width wide (printf's %-*s). */
void sb_put(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_putu(struct sbuf *b, unsigned long long v);
void sb_putu0(struct sbuf *b, unsigned long long v, unsigned int width);
void sb_pad(struct sbuf *b, size_t from, size_t width);
/* a string literal, its length known at compile time */
#define sb_lit(b, s) sb_put((b), "" s, sizeof(s) - 1)

#endif
