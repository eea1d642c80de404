// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The snapshot's walk over network namespaces: a sweep that cannot setns()
 * back into tcpfsm's own namespace must stop tcpfsm with a clear error, not
 * let it run on in the foreign namespace.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

static char other_ns[64];

static int make_other_ns(void **state)
{
	char *argv[] = { "/usr/sbin/ip", "netns", "add", other_ns + strlen("/run/netns/"), NULL };
	char out[256];

	snprintf(other_ns, sizeof(other_ns), "/run/netns/tcpfsm-itest-%d", getpid());
	return run_capture(argv, out, sizeof(out), 0);
}

static int del_other_ns(void **state)
{
	char *argv[] = { "/usr/sbin/ip", "netns", "del", other_ns + strlen("/run/netns/"), NULL };
	char out[256];

	return run_capture(argv, out, sizeof(out), 0);
}

/*
 * watch sweeps its own namespace and another one. The test hook makes the
 * return from the other one fail, as a refused setns() would: watch must
 * exit 1 at once, saying why.
 */
static void test_sweep_stranded_is_fatal(void **state)
{
	struct stat st;
	char other[32];
	const char *args[] = { "--netns", other, "--sweep", "200ms", NULL };
	struct tracer t;
	uint32_t ns;
	int status;

	assert_int_equal(stat(other_ns, &st), 0);
	snprintf(other, sizeof(other), "%lu", (unsigned long)st.st_ino);
	assert_int_equal(netns_enter_new(&ns), 0);
	setenv("TCPFSM_TEST_HOOKS", "sweep_setns_back", 1);
	assert_int_equal(tracer_start_cmd(&t, "watch", ns, args), 0);
	unsetenv("TCPFSM_TEST_HOOKS");
	msleep(3000); /* a few sweeps' time */
	status = tracer_stop(&t);
	assert_int_equal(status, 1);
	assert_non_null(strstr(t.err_text, "cannot return to tcpfsm's own network namespace"));
	tracer_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sweep_stranded_is_fatal, make_other_ns,
						del_other_ns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
