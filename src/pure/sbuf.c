// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "pure/sbuf.h"

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

void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->pos < b->len) {
		size_t room = b->len - b->pos - 1, k = n < room ? n : room;

		memcpy(b->p + b->pos, s, k);
		b->p[b->pos + k] = 0;
	}
	b->pos += n;
}

void sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

void sb_putu0(struct sbuf *b, unsigned long long v, unsigned int width)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	char d[20];
	unsigned int n = 0;

	/* two digits a division */
	while (v >= 100) {
		unsigned int r = v % 100;

		v /= 100;
		n += 2;
		memcpy(d + sizeof(d) - n, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		n += 2;
		memcpy(d + sizeof(d) - n, pairs + 2 * v, 2);
	} else {
		d[sizeof(d) - 1 - n++] = '0' + v;
	}
	for (; width > n; width--)
		sb_putc(b, '0');
	sb_put(b, d + sizeof(d) - n, n);
}

void sb_putu(struct sbuf *b, unsigned long long v)
{
	sb_putu0(b, v, 1);
}

void sb_pad(struct sbuf *b, size_t from, size_t width)
{
	static const char spaces[] = "                                ";

	while (b->pos - from < width) {
		size_t n = width - (b->pos - from);

		sb_put(b, spaces, n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1);
	}
}
