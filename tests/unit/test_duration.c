// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* duration_parse / duration_format: units, fractions, overflow, rounding edges. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pure/duration.h"

#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL

/* parse s, expect success and exactly want */
static void parse_ok(const char *s, uint64_t want)
{
	uint64_t ns = 0xdeadbeef;

	assert_int_equal(duration_parse(s, &ns), 0);
	assert_int_equal(ns, want);
}

/* parse s, expect err and ns left alone */
static void parse_err(const char *s, int err)
{
	uint64_t ns = 0xdeadbeef;

	assert_int_equal(duration_parse(s, &ns), err);
	assert_int_equal(ns, 0xdeadbeef);
}

static void test_parse_units(void **unused)
{
	parse_ok("250ms", 250 * MS);
	parse_ok("3s", 3 * SEC);
	parse_ok("5m", 300 * SEC);
	parse_ok("1h", 3600 * SEC);
	parse_ok("2d", 2 * 86400 * SEC);
	parse_ok("100us", 100 * US);
	parse_ok("100\xc2\xb5s", 100 * US); /* micro sign U+00B5 */
	parse_ok("100\xce\xbcs", 100 * US); /* Greek mu U+03BC */
	parse_ok("500ns", 500);
	parse_ok("1ns", 1);
	parse_ok("0ns", 0);
}

static void test_parse_bare_number_is_seconds(void **unused)
{
	parse_ok("10", 10 * SEC);
	parse_ok("0", 0);
	parse_ok("1", SEC);
	parse_ok("007", 7 * SEC);
}

static void test_parse_fractions(void **unused)
{
	parse_ok("1.5s", 1500 * MS);
	parse_ok("0.25s", 250 * MS);
	parse_ok(".5s", 500 * MS);
	parse_ok("1.5", 1500 * MS);
	parse_ok("1.5m", 90 * SEC);
	parse_ok("0.5h", 1800 * SEC);
	parse_ok("1.25d", 108000 * SEC);
	parse_ok("1.5ms", 1500 * US);
	parse_ok("2.5us", 2500);
	parse_ok("0.000000001s", 1);
	parse_ok("1.123456789s", 1123456789);
	/* below a nanosecond: truncated */
	parse_ok("1.9ns", 1);
	parse_ok("0.0000000001s", 0);
	/* very many fraction digits do not overflow anything */
	parse_ok("1.00000000000000000000000000000000000000000000000001s", SEC);
	parse_ok("0.99999999999999999999999999d", 86400 * SEC - 1);
}

static void test_parse_rejects(void **unused)
{
	parse_err(NULL, -EINVAL);
	parse_err("", -EINVAL);
	parse_err("-3s", -EINVAL);
	parse_err("+3s", -EINVAL);
	parse_err("3x", -EINVAL);
	parse_err("s", -EINVAL);
	parse_err("ms", -EINVAL);
	parse_err(".", -EINVAL);
	parse_err(".s", -EINVAL);
	parse_err("3 s", -EINVAL);
	parse_err(" 3s", -EINVAL);
	parse_err("3s ", -EINVAL);
	parse_err("3ss", -EINVAL);
	parse_err("3S", -EINVAL);
	parse_err("3sec", -EINVAL);
	parse_err("1e3", -EINVAL);
	parse_err("1.2.3s", -EINVAL);
	parse_err("0x10", -EINVAL);
	parse_err("3\xc2s", -EINVAL); /* half a micro sign */
	parse_err("3\xb5s", -EINVAL);
	parse_err("3m30s", -EINVAL);
	parse_err("inf", -EINVAL);
	parse_err("nan", -EINVAL);
}

static void test_parse_overflow(void **unused)
{
	parse_err("99999999999999999999", -ERANGE);
	parse_err("99999999999999999999ns", -ERANGE);
	parse_err("300000d", -ERANGE);
	parse_err("18446744074s", -ERANGE);
	parse_err("18446744073.8s", -ERANGE);
	parse_err("18446744073709551616ns", -ERANGE);
	parse_err("1000000000000000000000000000000000000000ns", -ERANGE);
	/* the largest values that fit */
	parse_ok("18446744073709551615ns", UINT64_MAX);
	parse_ok("18446744073709551610ns", UINT64_MAX - 5);
	parse_ok("18446744073s", 18446744073ULL * SEC);
	parse_ok("213503d", 213503ULL * 86400 * SEC);
	parse_err("213504d", -ERANGE);
}

static const char *fmt(uint64_t ns)
{
	static char buf[64];
	int n;

	memset(buf, 'X', sizeof(buf));
	n = duration_format(buf, sizeof(buf), ns);
	assert_int_equal(n, strlen(buf));
	return buf;
}

static void test_format_ns_us_ms(void **unused)
{
	assert_string_equal(fmt(0), "0ns");
	assert_string_equal(fmt(1), "1ns");
	assert_string_equal(fmt(812), "812ns");
	assert_string_equal(fmt(999), "999ns");
	assert_string_equal(fmt(1000), "1.00\xc2\xb5s");
	assert_string_equal(fmt(1234), "1.23\xc2\xb5s");
	assert_string_equal(fmt(1235), "1.24\xc2\xb5s");
	assert_string_equal(fmt(9994), "9.99\xc2\xb5s");
	assert_string_equal(fmt(9995), "10.0\xc2\xb5s");
	assert_string_equal(fmt(12345), "12.3\xc2\xb5s");
	assert_string_equal(fmt(99949), "99.9\xc2\xb5s");
	assert_string_equal(fmt(99950), "100\xc2\xb5s");
	assert_string_equal(fmt(123456), "123\xc2\xb5s");
	assert_string_equal(fmt(999499), "999\xc2\xb5s");
	assert_string_equal(fmt(999500), "1.00ms");
	assert_string_equal(fmt(999999), "1.00ms");
	assert_string_equal(fmt(MS), "1.00ms");
	assert_string_equal(fmt(45600 * US), "45.6ms");
	assert_string_equal(fmt(999499 * US), "999ms");
	assert_string_equal(fmt(999500 * US), "1.00s");
	assert_string_equal(fmt(SEC - 1), "1.00s");
}

static void test_format_micro_sign_is_utf8(void **unused)
{
	const char *s = fmt(1234);

	/* U+00B5 MICRO SIGN, two bytes, then 's' */
	assert_int_equal(strlen(s), 7);
	assert_int_equal((unsigned char)s[4], 0xc2);
	assert_int_equal((unsigned char)s[5], 0xb5);
	assert_int_equal(s[6], 's');
}

static void test_format_seconds(void **unused)
{
	assert_string_equal(fmt(SEC), "1.00s");
	assert_string_equal(fmt(5100 * MS), "5.10s");
	assert_string_equal(fmt(9994 * MS), "9.99s");
	assert_string_equal(fmt(9995 * MS), "10.0s");
	assert_string_equal(fmt(59940 * MS), "59.9s");
	assert_string_equal(fmt(59949 * MS), "59.9s");
	/* would be "60.0s" in three digits: a minute is shown as such */
	assert_string_equal(fmt(59950 * MS), "1m00s");
	assert_string_equal(fmt(59960 * MS), "1m00s");
	assert_string_equal(fmt(60 * SEC - 1), "1m00s");
	assert_string_equal(fmt(60 * SEC), "1m00s");
}

static void test_format_minutes_hours_days(void **unused)
{
	assert_string_equal(fmt(61 * SEC), "1m01s");
	assert_string_equal(fmt(123 * SEC), "2m03s");
	assert_string_equal(fmt(3599 * SEC), "59m59s");
	assert_string_equal(fmt(3600 * SEC - 1), "59m59s");
	assert_string_equal(fmt(3600 * SEC), "1h00m");
	assert_string_equal(fmt(3720 * SEC), "1h02m");
	assert_string_equal(fmt(86399 * SEC), "23h59m");
	assert_string_equal(fmt(86400 * SEC), "1d00h");
	assert_string_equal(fmt((3 * 86400 + 4 * 3600) * SEC), "3d04h");
	/* 18446744073 s = 213503 d 23 h 34 m 33 s */
	assert_string_equal(fmt(UINT64_MAX), "213503d23h");
	assert_string_equal(fmt(UINT64_MAX - SEC), "213503d23h");
}

static void test_format_truncates(void **unused)
{
	char buf[4];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(duration_format(buf, sizeof(buf), 1234), 7);
	assert_string_equal(buf, "1.2");
	assert_int_equal(duration_format(buf, sizeof(buf), UINT64_MAX), 10);
	assert_string_equal(buf, "213");
	assert_int_equal(duration_format(NULL, 0, 3600 * SEC), 5);
}

static void test_round_trip(void **unused)
{
	/* what duration_format prints without rounding, duration_parse reads back */
	static const struct {
		const char *s;
		uint64_t ns;
	} cases[] = {
		{ "999ns", 999 },	   { "1.23\xc2\xb5s", 1230 }, { "45.6ms", 45600 * US },
		{ "5.10s", 5100 * MS },	   { "100\xc2\xb5s", 100 * US },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_ok(cases[i].s, cases[i].ns);
		assert_string_equal(fmt(cases[i].ns), cases[i].s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_units),
		cmocka_unit_test(test_parse_bare_number_is_seconds),
		cmocka_unit_test(test_parse_fractions),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_overflow),
		cmocka_unit_test(test_format_ns_us_ms),
		cmocka_unit_test(test_format_micro_sign_is_utf8),
		cmocka_unit_test(test_format_seconds),
		cmocka_unit_test(test_format_minutes_hours_days),
		cmocka_unit_test(test_format_truncates),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
