// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* state_name / state_parse: every state, every accepted spelling, bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>
#include "tcpfsm.h"
#include "pure/state.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	int state;
	const char *name;
} linux_names[] = {
	{ TCPFSM_ESTABLISHED, "ESTABLISHED" }, { TCPFSM_SYN_SENT, "SYN_SENT" },
	{ TCPFSM_SYN_RECV, "SYN_RECV" },       { TCPFSM_FIN_WAIT1, "FIN_WAIT1" },
	{ TCPFSM_FIN_WAIT2, "FIN_WAIT2" },     { TCPFSM_TIME_WAIT, "TIME_WAIT" },
	{ TCPFSM_CLOSE, "CLOSE" },	       { TCPFSM_CLOSE_WAIT, "CLOSE_WAIT" },
	{ TCPFSM_LAST_ACK, "LAST_ACK" },       { TCPFSM_LISTEN, "LISTEN" },
	{ TCPFSM_CLOSING, "CLOSING" },	       { TCPFSM_NEW_SYN_RECV, "NEW_SYN_RECV" },
};

static void test_state_numbers_match_linux(void **unused)
{
	/* include/net/tcp_states.h */
	assert_int_equal(TCPFSM_ESTABLISHED, 1);
	assert_int_equal(TCPFSM_SYN_SENT, 2);
	assert_int_equal(TCPFSM_SYN_RECV, 3);
	assert_int_equal(TCPFSM_FIN_WAIT1, 4);
	assert_int_equal(TCPFSM_FIN_WAIT2, 5);
	assert_int_equal(TCPFSM_TIME_WAIT, 6);
	assert_int_equal(TCPFSM_CLOSE, 7);
	assert_int_equal(TCPFSM_CLOSE_WAIT, 8);
	assert_int_equal(TCPFSM_LAST_ACK, 9);
	assert_int_equal(TCPFSM_LISTEN, 10);
	assert_int_equal(TCPFSM_CLOSING, 11);
	assert_int_equal(TCPFSM_NEW_SYN_RECV, 12);
	assert_int_equal(TCPFSM_STATE_MAX, 13);
}

static void test_state_name_every_state(void **unused)
{
	assert_string_equal(state_name(1), "ESTABLISHED");
	assert_string_equal(state_name(2), "SYN_SENT");
	assert_string_equal(state_name(3), "SYN_RECV");
	assert_string_equal(state_name(4), "FIN_WAIT1");
	assert_string_equal(state_name(5), "FIN_WAIT2");
	assert_string_equal(state_name(6), "TIME_WAIT");
	assert_string_equal(state_name(7), "CLOSE");
	assert_string_equal(state_name(8), "CLOSE_WAIT");
	assert_string_equal(state_name(9), "LAST_ACK");
	assert_string_equal(state_name(10), "LISTEN");
	assert_string_equal(state_name(11), "CLOSING");
	assert_string_equal(state_name(12), "NEW_SYN_RECV");
}

static void test_state_name_out_of_range(void **unused)
{
	assert_null(state_name(0));
	assert_null(state_name(13));
	assert_null(state_name(-1));
	assert_null(state_name(255));
	assert_null(state_name(INT32_MIN));
	assert_null(state_name(INT32_MAX));
}

static void test_state_parse_linux_names(void **unused)
{
	char lower[32], mixed[32];
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(linux_names); i++) {
		const char *n = linux_names[i].name;
		size_t len = strlen(n);

		/* upper case, as printed */
		assert_int_equal(state_parse(n), linux_names[i].state);
		/* round trip */
		assert_string_equal(state_name(state_parse(n)), n);

		for (j = 0; j <= len; j++) {
			char c = n[j];

			lower[j] = (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
			/* every other letter lower case: "sYn_sEnT" */
			mixed[j] = (j % 2 == 0) ? lower[j] : c;
		}
		assert_int_equal(state_parse(lower), linux_names[i].state);
		assert_int_equal(state_parse(mixed), linux_names[i].state);
	}
	assert_int_equal(state_parse("Syn_Sent"), TCPFSM_SYN_SENT);
	assert_int_equal(state_parse("close_wait"), TCPFSM_CLOSE_WAIT);
	assert_int_equal(state_parse("tImE_wAiT"), TCPFSM_TIME_WAIT);
}

static void test_state_parse_dashes_and_spaces(void **unused)
{
	assert_int_equal(state_parse("SYN-SENT"), TCPFSM_SYN_SENT);
	assert_int_equal(state_parse("syn-recv"), TCPFSM_SYN_RECV);
	assert_int_equal(state_parse("CLOSE-WAIT"), TCPFSM_CLOSE_WAIT);
	assert_int_equal(state_parse("TIME-WAIT"), TCPFSM_TIME_WAIT);
	assert_int_equal(state_parse("LAST-ACK"), TCPFSM_LAST_ACK);
	assert_int_equal(state_parse("NEW-SYN-RECV"), TCPFSM_NEW_SYN_RECV);
	assert_int_equal(state_parse("close wait"), TCPFSM_CLOSE_WAIT);
	assert_int_equal(state_parse("FIN WAIT 1"), TCPFSM_FIN_WAIT1);
}

static void test_state_parse_rfc793(void **unused)
{
	assert_int_equal(state_parse("CLOSED"), TCPFSM_CLOSE);
	assert_int_equal(state_parse("closed"), TCPFSM_CLOSE);
	assert_int_equal(state_parse("LISTENING"), TCPFSM_LISTEN);
	assert_int_equal(state_parse("listening"), TCPFSM_LISTEN);
	assert_int_equal(state_parse("SYN_RECEIVED"), TCPFSM_SYN_RECV);
	assert_int_equal(state_parse("SYN-RECEIVED"), TCPFSM_SYN_RECV);
	assert_int_equal(state_parse("syn-received"), TCPFSM_SYN_RECV);
	assert_int_equal(state_parse("FIN_WAIT_1"), TCPFSM_FIN_WAIT1);
	assert_int_equal(state_parse("FIN-WAIT-1"), TCPFSM_FIN_WAIT1);
	assert_int_equal(state_parse("fin-wait-1"), TCPFSM_FIN_WAIT1);
	assert_int_equal(state_parse("FIN_WAIT_2"), TCPFSM_FIN_WAIT2);
	assert_int_equal(state_parse("FIN-WAIT-2"), TCPFSM_FIN_WAIT2);
	assert_int_equal(state_parse("SYN-SENT"), TCPFSM_SYN_SENT);
	assert_int_equal(state_parse("ESTABLISHED"), TCPFSM_ESTABLISHED);
	assert_int_equal(state_parse("CLOSE-WAIT"), TCPFSM_CLOSE_WAIT);
	assert_int_equal(state_parse("CLOSING"), TCPFSM_CLOSING);
	assert_int_equal(state_parse("LAST-ACK"), TCPFSM_LAST_ACK);
	assert_int_equal(state_parse("TIME-WAIT"), TCPFSM_TIME_WAIT);
}

static void test_state_parse_ss(void **unused)
{
	/* ss -t prints these */
	assert_int_equal(state_parse("ESTAB"), TCPFSM_ESTABLISHED);
	assert_int_equal(state_parse("estab"), TCPFSM_ESTABLISHED);
	assert_int_equal(state_parse("SYN-RECV"), TCPFSM_SYN_RECV);
	assert_int_equal(state_parse("SYN-SENT"), TCPFSM_SYN_SENT);
	assert_int_equal(state_parse("FIN-WAIT-1"), TCPFSM_FIN_WAIT1);
	assert_int_equal(state_parse("FIN-WAIT-2"), TCPFSM_FIN_WAIT2);
	assert_int_equal(state_parse("UNCONN"), -EINVAL); /* UDP, not TCP */
}

static void test_state_parse_rejects(void **unused)
{
	char longs[300];

	assert_int_equal(state_parse(NULL), -EINVAL);
	assert_int_equal(state_parse(""), -EINVAL);
	assert_int_equal(state_parse("FOO"), -EINVAL);
	assert_int_equal(state_parse("SYN_SENTX"), -EINVAL);
	assert_int_equal(state_parse("SYN_SEN"), -EINVAL);
	assert_int_equal(state_parse("XSYN_SENT"), -EINVAL);
	assert_int_equal(state_parse("SYN$SENT"), -EINVAL);
	assert_int_equal(state_parse("SYN.SENT"), -EINVAL);
	assert_int_equal(state_parse("SYN_SENT\n"), -EINVAL);
	assert_int_equal(state_parse(" SYN_SENT"), -EINVAL);
	assert_int_equal(state_parse("SYN_SENT "), -EINVAL);
	assert_int_equal(state_parse("SYN__SENT"), -EINVAL);
	assert_int_equal(state_parse("SYN\xc2\xb5SENT"), -EINVAL);
	assert_int_equal(state_parse("\xff"), -EINVAL);
	assert_int_equal(state_parse("UNKNOWN"), -EINVAL);
	assert_int_equal(state_parse("0"), -EINVAL);
	assert_int_equal(state_parse("1"), -EINVAL);
	assert_int_equal(state_parse("-"), -EINVAL);
	assert_int_equal(state_parse("_"), -EINVAL);

	/* a valid name followed by a lot more: must not be cut to fit */
	memset(longs, 'A', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = 0;
	memcpy(longs, "SYN_SENT", 8);
	assert_int_equal(state_parse(longs), -EINVAL);
	/* valid name padded with underscores to exactly 31 and 32 bytes */
	memset(longs, '_', 32);
	memcpy(longs, "CLOSE", 5);
	longs[31] = 0;
	assert_int_equal(state_parse(longs), -EINVAL);
	longs[31] = '_';
	longs[32] = 0;
	assert_int_equal(state_parse(longs), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_numbers_match_linux),
		cmocka_unit_test(test_state_name_every_state),
		cmocka_unit_test(test_state_name_out_of_range),
		cmocka_unit_test(test_state_parse_linux_names),
		cmocka_unit_test(test_state_parse_dashes_and_spaces),
		cmocka_unit_test(test_state_parse_rfc793),
		cmocka_unit_test(test_state_parse_ss),
		cmocka_unit_test(test_state_parse_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
