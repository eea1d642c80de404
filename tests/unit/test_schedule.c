// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* When the engine's sweeps run: lazy tracking's delay and its back-off. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pure/schedule.h"
#include "support.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

/* tracked within a second, and by half the smallest threshold */
static void test_track_after(void **unused)
{
	struct alert_cfg c;

	alert_cfg_defaults(&c);
	assert_int_equal(sched_track_after_ns(&c), SEC);
	c.threshold_ns[CLOSE_WAIT] = 1 * SEC;
	assert_int_equal(sched_track_after_ns(&c), 500 * MS);
	c.threshold_ns[ESTABLISHED] = 100 * MS;
	assert_int_equal(sched_track_after_ns(&c), 50 * MS);
	memset(&c, 0, sizeof(c));
	assert_int_equal(sched_track_after_ns(&c), SEC);
}

/* lazy tracking's sweep backs off when it is costly, within the thresholds */
static void test_track_interval(void **unused)
{
	struct alert_cfg c;

	alert_cfg_defaults(&c);
	/* cheap: every --sweep */
	assert_int_equal(sched_track_interval_ns(&c, SEC, 2 * MS), SEC);
	/* 130 ms a sweep: 50 times that, 6.5 s */
	assert_int_equal(sched_track_interval_ns(&c, SEC, 130 * MS), 6500 * MS);
	/* never later than half the smallest threshold a sweep must find:
	 * LAST_ACK, FIN_WAIT1, CLOSING 30 s (SYN_SENT 3 s and SYN_RECV are
	 * found by their retransmits) */
	assert_int_equal(sched_track_interval_ns(&c, SEC, 2 * SEC), 15 * SEC);
	/* a SYN_SENT threshold under 2 s comes before its first retransmit */
	c.threshold_ns[SYN_SENT] = 1500 * MS;
	assert_int_equal(sched_track_interval_ns(&c, SEC, 2 * SEC), 750 * MS > SEC ? 750 * MS : SEC);
	c.threshold_ns[SYN_SENT] = 3 * SEC;
	c.threshold_ns[CLOSE_WAIT] = 4 * SEC;
	assert_int_equal(sched_track_interval_ns(&c, 100 * MS, 2 * SEC), 2 * SEC);
	/* no alerts at all: only the cost bounds it */
	memset(&c, 0, sizeof(c));
	assert_int_equal(sched_track_interval_ns(&c, SEC, 2 * SEC), 100 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_track_after),
		cmocka_unit_test(test_track_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
