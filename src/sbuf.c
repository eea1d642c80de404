// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include "sbuf.h"

void sb_init(struct sbuf *b, char *buf, size_t len)
{
	b->p = buf;
	b->len = len;
	b->pos = 0;
	if (len)
		buf[0] = 0;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	size_t room = b->pos < b->len ? b->len - b->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->p + b->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->pos += n;
}

void sb_putc(struct sbuf *b, char c)
{
	if (b->pos + 1 < b->len) {
		b->p[b->pos] = c;
		b->p[b->pos + 1] = 0;
	}
	b->pos++;
}
