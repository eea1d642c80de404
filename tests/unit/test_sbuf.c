// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The printf-free appenders against snprintf: same text, same truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pure/sbuf.h"

/* One random operation applied both ways into buffers of size len. */
static void one_op(struct sbuf *b, struct sbuf *ref, unsigned int op, unsigned long long v,
		   unsigned int w, const char *s, size_t start)
{
	char tmp[64];

	switch (op) {
	case 0:
		sb_putu(b, v);
		sb_printf(ref, "%llu", v);
		break;
	case 1:
		sb_putu0(b, v, w);
		sb_printf(ref, "%0*llu", (int)w, v);
		break;
	case 2:
		sb_puts(b, s);
		sb_printf(ref, "%s", s);
		break;
	case 3:
		sb_put(b, s, strlen(s) / 2);
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(strlen(s) / 2), s);
		sb_printf(ref, "%s", tmp);
		break;
	default:
		/* pad what was written since start to w columns */
		sb_pad(b, start, w);
		if (ref->pos - start < w)
			sb_printf(ref, "%*s", (int)(w - (ref->pos - start)), "");
		break;
	}
}

static void test_against_snprintf(void **unused)
{
	static const char *strs[] = { "", "a", "LISTEN -> SYN_RECV", "127.0.0.1:8080",
				      "a string longer than thirty-two characters, for pad" };
	unsigned long long vals[] = { 0, 1, 9, 10, 99, 100, 65535, 4294967295ULL,
				      18446744073709551615ULL, 999999999, 123456 };

	srand(7);
	for (int round = 0; round < 20000; round++) {
		size_t len = rand() % 80;
		char *a = malloc(len + 1), *r = malloc(len + 1);
		struct sbuf b, ref;
		size_t start = 0;

		sb_init(&b, len ? a : NULL, len);
		sb_init(&ref, len ? r : NULL, len);
		for (int k = 0; k < 6; k++) {
			unsigned int op = rand() % 5, w = rand() % 40;
			unsigned long long v = rand() % 3 ? vals[rand() % 11] :
							    ((unsigned long long)rand() << 31) ^ rand();

			if (op == 4 && rand() % 2)
				start = b.pos;
			one_op(&b, &ref, op, v, w, strs[rand() % 5], start);
			assert_int_equal(b.pos, ref.pos);
			if (len)
				assert_string_equal(a, r);
		}
		free(a);
		free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_snprintf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
