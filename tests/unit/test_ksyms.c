// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kallsyms lines, the closest text symbol below an address, the cache. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "pure/ksyms.h"

static void test_parse(void **unused)
{
	static const char mod[] = "ffffffffc0a1b2c0 t nft_do_chain\t[nf_tables]";
	static const char core[] = "ffffffff81000000 T _stext";
	struct ksym_line l;

	assert_int_equal(ksym_parse(mod, strlen(mod), &l), 0);
	assert_true(l.addr == 0xffffffffc0a1b2c0ULL);
	assert_int_equal(l.type, 't');
	assert_int_equal(l.name_len, strlen("nft_do_chain"));
	assert_memory_equal(l.name, "nft_do_chain", l.name_len);
	assert_int_equal(ksym_parse(core, strlen(core), &l), 0);
	assert_int_equal(l.type, 'T');
	assert_memory_equal(l.name, "_stext", l.name_len);
	/* a length shorter than the text: the name ends there */
	assert_int_equal(ksym_parse(core, strlen(core) - 2, &l), 0);
	assert_int_equal(l.name_len, 4);

	assert_int_equal(ksym_parse("", 0, &l), -EINVAL);
	assert_int_equal(ksym_parse("ffff T", 6, &l), -EINVAL);
	assert_int_equal(ksym_parse("ffff T ", 7, &l), -EINVAL);
	assert_int_equal(ksym_parse("xfff T a", 8, &l), -EINVAL);
	assert_int_equal(ksym_parse("ffff  T a", 9, &l), -EINVAL);
	assert_int_equal(ksym_parse("ffffTa", 6, &l), -EINVAL);
	/* more than 64 bits of address */
	assert_int_equal(ksym_parse("11111111111111111 T a", 21, &l), -EINVAL);
}

static void feed(struct ksym_best *b, const char *const *lines)
{
	for (size_t i = 0; lines[i]; i++)
		ksym_best_line(b, lines[i], strlen(lines[i]));
}

static const char *const listing[] = {
	"ffffffff81000000 T _stext",
	"ffffffff81001000 t helper",
	"ffffffff81001000 T helper_alias",
	"ffffffff81002000 D some_data",
	"ffffffff81003000 T tcp_v4_rcv",
	"0000000000000000 A fixed_percpu_data",
	"ffffffffc0a1b000 t nft_do_chain\t[nf_tables]",
	"ffffffffc0a00000 t nft_other\t[nf_tables]",
	"not a line",
	NULL,
};

static void test_best(void **unused)
{
	struct ksym_best b;

	ksym_best_init(&b, 0xffffffffc0a1b2d4ULL);
	feed(&b, listing);
	assert_true(b.found);
	assert_string_equal(b.name, "nft_do_chain");
	assert_true(b.addr == 0xffffffffc0a1b000ULL);

	/* in data past a function: the function before it (text only) */
	ksym_best_init(&b, 0xffffffff81002800ULL);
	feed(&b, listing);
	assert_string_equal(b.name, "helper");
	/* exactly at a symbol; of two at one address, the first listed */
	ksym_best_init(&b, 0xffffffff81001000ULL);
	feed(&b, listing);
	assert_string_equal(b.name, "helper");
	ksym_best_init(&b, 0xffffffff81003001ULL);
	feed(&b, listing);
	assert_string_equal(b.name, "tcp_v4_rcv");
	/* below every symbol, or too far above the closest: not found */
	ksym_best_init(&b, 0xffffffff80000000ULL);
	feed(&b, listing);
	assert_false(b.found);
	ksym_best_init(&b, 0xffffffff81003000ULL + KSYM_MAX_OFFSET);
	feed(&b, listing);
	assert_false(b.found);
	/* zeros (kptr_restrict) name nothing */
	{
		static const char *const hidden[] = { "0000000000000000 T _stext",
						      "0000000000000000 t nft_do_chain", NULL };

		ksym_best_init(&b, 0xffffffffc0a1b2d4ULL);
		feed(&b, hidden);
		assert_false(b.found);
	}
}

static void test_long_name(void **unused)
{
	char line[400];
	struct ksym_best b;

	memset(line, 'a', sizeof(line));
	memcpy(line, "ffffffff81000000 T ", 19);
	ksym_best_init(&b, 0xffffffff81000010ULL);
	ksym_best_line(&b, line, sizeof(line));
	assert_true(b.found);
	assert_int_equal(strlen(b.name), KSYM_NAME_MAX - 1);
}

static void test_cache(void **unused)
{
	struct ksym_cache *c = ksym_cache__new();
	struct ksym_best b;
	char buf[32];

	assert_non_null(c);
	ksym_best_init(&b, 0xffffffffc0a1b2d4ULL);
	feed(&b, listing);
	assert_null(ksym_cache__get(c, b.want));
	assert_int_equal(ksym_cache__put(c, &b), 0);
	assert_string_equal(ksym_cache__get(c, 0xffffffffc0a1b2d4ULL), "nft_do_chain");
	/* not found is cached as "", shown as the address */
	ksym_best_init(&b, 0x1000);
	feed(&b, listing);
	assert_int_equal(ksym_cache__put(c, &b), 0);
	assert_string_equal(ksym_cache__get(c, 0x1000), "");
	assert_string_equal(ksym_format(ksym_cache__get(c, 0x1000), 0x1000, buf, sizeof(buf)),
			    "0x1000");
	assert_string_equal(ksym_format("tcp_v4_rcv", 0x1000, buf, sizeof(buf)), "tcp_v4_rcv");
	assert_string_equal(ksym_format(NULL, 0xffffffff81a2b3c4ULL, buf, sizeof(buf)),
			    "0xffffffff81a2b3c4");
	assert_null(ksym_cache__get(c, 0));
	/* address 0 is never cached */
	ksym_best_init(&b, 0);
	assert_int_equal(ksym_cache__put(c, &b), -EINVAL);
	/* bounded: full at KSYM_CACHE_MAX, a known one may be put again */
	for (uint64_t a = 1; a <= KSYM_CACHE_MAX - 2; a++) {
		ksym_best_init(&b, 0x100000 + a);
		assert_int_equal(ksym_cache__put(c, &b), 0);
	}
	ksym_best_init(&b, 0x900000);
	assert_int_equal(ksym_cache__put(c, &b), -ENOSPC);
	ksym_best_init(&b, 0x1000);
	assert_int_equal(ksym_cache__put(c, &b), 0);
	ksym_cache__free(c);
	ksym_cache__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_best),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
