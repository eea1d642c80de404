// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one clock helper: each clock's nanoseconds, as clock_gettime has them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>
#include "sys/clock.h"
#include "support.h"

static uint64_t ts_ns(clockid_t clk)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(clk, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* a reading lies between two made around it, for every clock we use */
static void test_between(void **unused)
{
	static const clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME };

	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		uint64_t before = ts_ns(clocks[i]), t = clock_ns(clocks[i]);

		assert_in_range(t, before, ts_ns(clocks[i]));
	}
}

/* the records' clock (CLOCK_BOOTTIME; on a host that never suspended it
 * reads as CLOCK_MONOTONIC does, so only the wall clock or a wrong unit
 * would fail here) */
static void test_boot(void **unused)
{
	uint64_t before = ts_ns(CLOCK_BOOTTIME), t = clock_boot_ns();

	assert_in_range(t, before, ts_ns(CLOCK_BOOTTIME));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_between),
		cmocka_unit_test(test_boot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
