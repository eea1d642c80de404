// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The drop reason table: prefixes, lookup, unknown values, bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "pure/reasons.h"

static void test_names_and_prefixes(void **unused)
{
	struct reasons *r = reasons__new();
	char buf[32];

	assert_non_null(r);
	/* as the kernel's BTF lists them: in order, some without the prefix */
	assert_int_equal(reasons__add(r, 0, "SKB_NOT_DROPPED_YET"), 0);
	assert_int_equal(reasons__add(r, 1, "SKB_CONSUMED"), 0);
	assert_int_equal(reasons__add(r, 2, "SKB_DROP_REASON_NOT_SPECIFIED"), 0);
	assert_int_equal(reasons__add(r, 12, "SKB_DROP_REASON_NETFILTER_DROP"), 0);
	assert_int_equal(reasons__add(r, 4, "SKB_DROP_REASON_NO_SOCKET"), 0);
	assert_int_equal(reasons__add(r, 0xffff0000u, "SKB_DROP_REASON_SUBSYS_MASK"), 0);
	/* a value seen again keeps its first name (an alias such as _MAX) */
	assert_int_equal(reasons__add(r, 12, "SKB_DROP_REASON_OTHER"), 0);
	assert_int_equal(reasons__count(r), 6);

	assert_string_equal(reasons__name(r, 0), "NOT_DROPPED_YET");
	assert_string_equal(reasons__name(r, 1), "CONSUMED");
	assert_string_equal(reasons__name(r, 4), "NO_SOCKET");
	assert_string_equal(reasons__name(r, 12), "NETFILTER_DROP");
	assert_string_equal(reasons__name(r, 0xffff0000u), "SUBSYS_MASK");
	assert_null(reasons__name(r, 3));
	assert_null(reasons__name(r, 13));
	assert_string_equal(reasons__format(r, 4, buf, sizeof(buf)), "NO_SOCKET");
	assert_string_equal(reasons__format(r, 77, buf, sizeof(buf)), "reason_77");
	assert_string_equal(reasons__format(NULL, 12, buf, sizeof(buf)), "reason_12");
	assert_int_equal(reasons__value(r, "NETFILTER_DROP"), 12);
	assert_int_equal(reasons__value(r, "NO_SUCH"), -ENOENT);
	assert_int_equal(reasons__value(NULL, "NO_SOCKET"), -ENOENT);
	reasons__free(r);
}

static void test_bad_names(void **unused)
{
	struct reasons *r = reasons__new();

	/* nothing left after the prefix */
	assert_int_equal(reasons__add(r, 5, "SKB_DROP_REASON_"), -EINVAL);
	assert_int_equal(reasons__add(r, 5, ""), -EINVAL);
	assert_null(reasons__name(r, 5));
	/* a name of another enum keeps its whole name */
	assert_int_equal(reasons__add(r, 6, "OTHER_THING"), 0);
	assert_string_equal(reasons__name(r, 6), "OTHER_THING");
	reasons__free(r);
	reasons__free(NULL);
}

/* Many values, added out of order: every one found. */
static void test_many(void **unused)
{
	struct reasons *r = reasons__new();
	char name[32];

	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t v = (i * 7919) % 1000;

		snprintf(name, sizeof(name), "SKB_DROP_REASON_R%u", v);
		assert_int_equal(reasons__add(r, v, name), 0);
	}
	assert_int_equal(reasons__count(r), 1000);
	for (uint32_t v = 0; v < 1000; v++) {
		snprintf(name, sizeof(name), "R%u", v);
		assert_string_equal(reasons__name(r, v), name);
	}
	reasons__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_prefixes),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
