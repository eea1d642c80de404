// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The alert thresholds: defaults, and --alert STATE=DURATION, good and bad. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pure/alertcfg.h"
#include "support.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

static void test_cfg_defaults(void **unused)
{
	struct alert_cfg cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	alert_cfg_defaults(&cfg);
	assert_int_equal(cfg.threshold_ns[0], 0);
	assert_int_equal(cfg.threshold_ns[ESTABLISHED], 0);
	assert_int_equal(cfg.threshold_ns[SYN_SENT], 3 * SEC);
	assert_int_equal(cfg.threshold_ns[SYN_RECV], 3 * SEC);
	assert_int_equal(cfg.threshold_ns[FIN_WAIT1], 30 * SEC);
	assert_int_equal(cfg.threshold_ns[FIN_WAIT2], 60 * SEC);
	assert_int_equal(cfg.threshold_ns[TIME_WAIT], 0);
	assert_int_equal(cfg.threshold_ns[CLOSE], 0);
	assert_int_equal(cfg.threshold_ns[CLOSE_WAIT], 60 * SEC);
	assert_int_equal(cfg.threshold_ns[LAST_ACK], 30 * SEC);
	assert_int_equal(cfg.threshold_ns[LISTEN], 0);
	assert_int_equal(cfg.threshold_ns[CLOSING], 30 * SEC);
	assert_int_equal(cfg.threshold_ns[NEW_SYN_RECV], 0);
	assert_int_equal(cfg.rate, 10);
}

static void parse_ok(struct alert_cfg *cfg, const char *spec, int state, uint64_t want)
{
	char err[256] = "untouched";

	assert_int_equal(alert_cfg_parse(cfg, spec, err, sizeof(err)), 0);
	assert_int_equal(cfg->threshold_ns[state], want);
	assert_string_equal(err, "untouched");
}

static void parse_err(const char *spec, const char *msg)
{
	struct alert_cfg cfg, before;
	char err[256] = "";

	alert_cfg_defaults(&cfg);
	before = cfg;
	assert_int_equal(alert_cfg_parse(&cfg, spec, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, msg);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void test_cfg_parse(void **unused)
{
	struct alert_cfg cfg, want;

	alert_cfg_defaults(&cfg);
	parse_ok(&cfg, "SYN_SENT=3s", SYN_SENT, 3 * SEC);
	parse_ok(&cfg, "close-wait=250ms", CLOSE_WAIT, 250 * MS);
	parse_ok(&cfg, "SYN-RECEIVED=1m", SYN_RECV, 60 * SEC);
	parse_ok(&cfg, "established=1.5h", ESTABLISHED, 5400 * SEC);
	parse_ok(&cfg, "FIN_WAIT_2=10", FIN_WAIT2, 10 * SEC);
	/* nothing else moved */
	alert_cfg_defaults(&want);
	want.threshold_ns[CLOSE_WAIT] = 250 * MS;
	want.threshold_ns[SYN_RECV] = 60 * SEC;
	want.threshold_ns[ESTABLISHED] = 5400 * SEC;
	want.threshold_ns[FIN_WAIT2] = 10 * SEC;
	assert_memory_equal(&cfg, &want, sizeof(cfg));

	parse_err("SYN_SENT", "bad --alert 'SYN_SENT': expected STATE=DURATION (SYN_SENT=3s)");
	parse_err("=3s", "bad --alert '=3s': expected STATE=DURATION (SYN_SENT=3s)");
	parse_err("", "bad --alert '': expected STATE=DURATION (SYN_SENT=3s)");
	parse_err("SYN_SNET=3s", "bad --alert 'SYN_SNET=3s': unknown state 'SYN_SNET'");
	parse_err("SYN SENT!=3s", "bad --alert 'SYN SENT!=3s': unknown state 'SYN SENT!'");
	parse_err("CLOSE=1s",
		  "bad --alert 'CLOSE=1s': CLOSE cannot be alerted (half-open requests are SYN_RECV)");
	parse_err("closed=1s",
		  "bad --alert 'closed=1s': CLOSE cannot be alerted (half-open requests are SYN_RECV)");
	parse_err("time-wait=1s", "bad --alert 'time-wait=1s': TIME_WAIT cannot be alerted "
				  "(half-open requests are SYN_RECV)");
	parse_err("NEW_SYN_RECV=1s", "bad --alert 'NEW_SYN_RECV=1s': NEW_SYN_RECV cannot be "
				     "alerted (half-open requests are SYN_RECV)");
	parse_err("SYN_SENT=0", "bad --alert 'SYN_SENT=0': '0' is not a positive duration");
	parse_err("SYN_SENT=0ms", "bad --alert 'SYN_SENT=0ms': '0ms' is not a positive duration");
	parse_err("SYN_SENT=-3s", "bad --alert 'SYN_SENT=-3s': '-3s' is not a positive duration");
	parse_err("SYN_SENT=soon",
		  "bad --alert 'SYN_SENT=soon': 'soon' is not a positive duration");
	parse_err("SYN_SENT=3x", "bad --alert 'SYN_SENT=3x': '3x' is not a positive duration");
	parse_err("SYN_SENT=", "bad --alert 'SYN_SENT=': '' is not a positive duration");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_defaults),
		cmocka_unit_test(test_cfg_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
