// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* filter_user_side / filter_kernel_side on hand-made events and configs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pure/filter.h"
#include "sys/config.h"

static struct tcpfsm_config cfg;
static struct tcpfsm_event ev;

static int reset(void **unused)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(&ev, 0, sizeof(ev));
	ev.family = TCPFSM_AF_INET;
	ev.oldstate = TCPFSM_SYN_SENT;
	ev.newstate = TCPFSM_ESTABLISHED;
	ev.flags = TCPFSM_F_OWNER;
	ev.pid = 4242;
	strcpy(ev.comm, "curl");
	ev.sport = 40000;
	ev.dport = 443;
	ev.netns = 4026531840U;
	ev.cgroup_id = 7777;
	ev.old_duration_ns = TCPFSM_DURATION_UNKNOWN;
	return 0;
}

static void test_empty_config_passes_everything(void **unused)
{
	assert_true(filter_user_side(&cfg.uf, &ev));
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	/* even events without an owner or with odd states */
	ev.flags = 0;
	ev.pid = 0;
	ev.comm[0] = 0;
	ev.oldstate = 0;
	ev.newstate = 255;
	assert_true(filter_user_side(&cfg.uf, &ev));
	assert_true(filter_kernel_side(&cfg.kf, &ev));
}

static void test_state_mask(void **unused)
{
	/* either side of the transition matches */
	cfg.uf.state_mask = 1u << TCPFSM_SYN_SENT;
	assert_true(filter_user_side(&cfg.uf, &ev));
	cfg.uf.state_mask = 1u << TCPFSM_ESTABLISHED;
	assert_true(filter_user_side(&cfg.uf, &ev));
	cfg.uf.state_mask = 1u << TCPFSM_CLOSE_WAIT;
	assert_false(filter_user_side(&cfg.uf, &ev));
	cfg.uf.state_mask = (1u << TCPFSM_CLOSE_WAIT) | (1u << TCPFSM_ESTABLISHED);
	assert_true(filter_user_side(&cfg.uf, &ev));

	/* every state, as old and as new */
	for (int s = 1; s < TCPFSM_STATE_MAX; s++) {
		cfg.uf.state_mask = 1u << s;
		for (int o = 1; o < TCPFSM_STATE_MAX; o++) {
			ev.oldstate = o;
			ev.newstate = o == s ? TCPFSM_CLOSE : s;
			assert_true(filter_user_side(&cfg.uf, &ev));
			ev.newstate = (s == TCPFSM_LISTEN) ? TCPFSM_CLOSING : TCPFSM_LISTEN;
			if (o == s || ev.newstate == s)
				assert_true(filter_user_side(&cfg.uf, &ev));
			else
				assert_false(filter_user_side(&cfg.uf, &ev));
		}
	}
	/* the state filter is not a kernel-side one */
	cfg.uf.state_mask = 1u << TCPFSM_CLOSE_WAIT;
	ev.oldstate = TCPFSM_SYN_SENT;
	ev.newstate = TCPFSM_ESTABLISHED;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
}

static void test_state_out_of_range(void **unused)
{
	unsigned int s;

	/* a corrupt record: states past the table never match, and no UB */
	cfg.uf.state_mask = ~0u;
	for (s = TCPFSM_STATE_MAX; s < 256; s++) {
		ev.oldstate = s;
		ev.newstate = s;
		assert_false(filter_user_side(&cfg.uf, &ev));
		/* a valid state on the other side still matches */
		ev.newstate = TCPFSM_ESTABLISHED;
		assert_true(filter_user_side(&cfg.uf, &ev));
		ev.oldstate = TCPFSM_ESTABLISHED;
		ev.newstate = s;
		assert_true(filter_user_side(&cfg.uf, &ev));
	}
	/* shifted modulo the width, 33 and 34 would alias ESTABLISHED and SYN_SENT */
	cfg.uf.state_mask = 1u << TCPFSM_ESTABLISHED | 1u << TCPFSM_SYN_SENT;
	ev.oldstate = 33;
	ev.newstate = 34;
	assert_false(filter_user_side(&cfg.uf, &ev));
	ev.oldstate = 65;
	ev.newstate = 255;
	assert_false(filter_user_side(&cfg.uf, &ev));
}

static void test_pids(void **unused)
{
	cfg.uf.pids[0] = 1;
	cfg.uf.pids[1] = 4242;
	cfg.uf.n_pids = 2;
	assert_true(filter_user_side(&cfg.uf, &ev));
	ev.pid = 1;
	assert_true(filter_user_side(&cfg.uf, &ev));
	ev.pid = 4243;
	assert_false(filter_user_side(&cfg.uf, &ev));
	/* entries past n_pids do not count */
	cfg.uf.n_pids = 1;
	ev.pid = 4242;
	assert_false(filter_user_side(&cfg.uf, &ev));
	/* owner unknown: never matches, whatever pid holds */
	cfg.uf.n_pids = 2;
	ev.flags = TCPFSM_F_SOFTIRQ;
	assert_false(filter_user_side(&cfg.uf, &ev));
	ev.pid = 0;
	cfg.uf.pids[0] = 0;
	assert_false(filter_user_side(&cfg.uf, &ev));
	/* pid is user side only */
	assert_true(filter_kernel_side(&cfg.kf, &ev));
}

static void test_comms(void **unused)
{
	strcpy(cfg.uf.comms[0], "nginx");
	strcpy(cfg.uf.comms[1], "curl");
	cfg.uf.n_comms = 2;
	assert_true(filter_user_side(&cfg.uf, &ev));
	strcpy(ev.comm, "nginx");
	assert_true(filter_user_side(&cfg.uf, &ev));
	/* exact, not a prefix either way */
	strcpy(ev.comm, "curl2");
	assert_false(filter_user_side(&cfg.uf, &ev));
	strcpy(ev.comm, "cur");
	assert_false(filter_user_side(&cfg.uf, &ev));
	strcpy(ev.comm, "CURL");
	assert_false(filter_user_side(&cfg.uf, &ev));
	/* owner unknown: never matches */
	strcpy(ev.comm, "curl");
	ev.flags = 0;
	assert_false(filter_user_side(&cfg.uf, &ev));
	strcpy(cfg.uf.comms[0], "");
	ev.comm[0] = 0;
	assert_false(filter_user_side(&cfg.uf, &ev));
	assert_true(filter_kernel_side(&cfg.kf, &ev));
}

static void test_comm_full_field(void **unused)
{
	/* 15 characters, the longest --comm */
	strcpy(cfg.uf.comms[0], "abcdefghijklmno");
	cfg.uf.n_comms = 1;
	strcpy(ev.comm, "abcdefghijklmno");
	assert_true(filter_user_side(&cfg.uf, &ev));
	/* an event comm of 16 bytes without NUL is read no further */
	memcpy(ev.comm, "abcdefghijklmnop", TCPFSM_COMM_LEN);
	assert_false(filter_user_side(&cfg.uf, &ev));
}

static void test_pid_and_comm_together(void **unused)
{
	cfg.uf.pids[0] = 4242;
	cfg.uf.n_pids = 1;
	strcpy(cfg.uf.comms[0], "nginx");
	cfg.uf.n_comms = 1;
	/* both must match */
	assert_false(filter_user_side(&cfg.uf, &ev));
	strcpy(ev.comm, "nginx");
	assert_true(filter_user_side(&cfg.uf, &ev));
	cfg.uf.state_mask = 1u << TCPFSM_TIME_WAIT;
	assert_false(filter_user_side(&cfg.uf, &ev));
	cfg.uf.state_mask |= 1u << TCPFSM_SYN_SENT;
	assert_true(filter_user_side(&cfg.uf, &ev));
	ev.pid = 1;
	assert_false(filter_user_side(&cfg.uf, &ev));
}

static void test_family(void **unused)
{
	cfg.kf.family = TCPFSM_AF_INET;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	ev.family = TCPFSM_AF_INET6;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.family = TCPFSM_AF_INET6;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	ev.family = TCPFSM_AF_INET;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	ev.family = 0;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	/* family is kernel side only */
	assert_true(filter_user_side(&cfg.uf, &ev));
}

static void test_netns(void **unused)
{
	cfg.kf.netns[0] = 4026532000U;
	cfg.kf.n_netns = 1;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.netns[1] = 4026531840U;
	cfg.kf.n_netns = 2;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	ev.netns = 4026532000U;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	ev.netns = 0;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	/* entries past n_netns do not count */
	ev.netns = 4026531840U;
	cfg.kf.n_netns = 1;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.n_netns = TCPFSM_MAX_NETNS;
	for (int i = 0; i < TCPFSM_MAX_NETNS; i++)
		cfg.kf.netns[i] = 100 + i;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	ev.netns = 100 + TCPFSM_MAX_NETNS - 1;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	assert_true(filter_user_side(&cfg.uf, &ev));
}

static void test_lport_rport(void **unused)
{
	/* sport is local, dport remote */
	cfg.kf.lports[0] = 40000;
	cfg.kf.n_lports = 1;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.lports[0] = 443;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.n_lports = 0;

	cfg.kf.rports[0] = 443;
	cfg.kf.n_rports = 1;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.rports[0] = 40000;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.rports[1] = 443;
	cfg.kf.n_rports = 2;
	assert_true(filter_kernel_side(&cfg.kf, &ev));

	/* both given: both must match */
	cfg.kf.lports[0] = 40000;
	cfg.kf.n_lports = 1;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.lports[0] = 40001;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	assert_true(filter_user_side(&cfg.uf, &ev));
}

static void test_port_either_side(void **unused)
{
	cfg.kf.ports[0] = 443;
	cfg.kf.n_ports = 1;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.ports[0] = 40000;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.ports[0] = 80;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	/* the last of a full list */
	for (int i = 0; i < TCPFSM_MAX_PORTS; i++)
		cfg.kf.ports[i] = 1000 + i;
	cfg.kf.n_ports = TCPFSM_MAX_PORTS;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	ev.dport = 1000 + TCPFSM_MAX_PORTS - 1;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	/* with --lport as well: both filters apply */
	cfg.kf.lports[0] = 22;
	cfg.kf.n_lports = 1;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	ev.sport = 22;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
}

static void test_cgroup(void **unused)
{
	cfg.kf.cgroup_id = 7777;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	cfg.kf.cgroup_id = 7778;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	/* unknown cgroup (0) never matches a cgroup filter */
	ev.cgroup_id = 0;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	assert_true(filter_user_side(&cfg.uf, &ev));
}

static void test_all_kernel_filters(void **unused)
{
	cfg.kf.family = TCPFSM_AF_INET;
	cfg.kf.netns[0] = 4026531840U;
	cfg.kf.n_netns = 1;
	cfg.kf.lports[0] = 40000;
	cfg.kf.n_lports = 1;
	cfg.kf.rports[0] = 443;
	cfg.kf.n_rports = 1;
	cfg.kf.ports[0] = 443;
	cfg.kf.n_ports = 1;
	cfg.kf.cgroup_id = 7777;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
	/* each one alone can reject */
	ev.family = TCPFSM_AF_INET6;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	ev.family = TCPFSM_AF_INET;
	ev.netns++;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	ev.netns--;
	ev.cgroup_id++;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	ev.cgroup_id--;
	ev.sport++;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	ev.sport--;
	ev.dport++;
	assert_false(filter_kernel_side(&cfg.kf, &ev));
	ev.dport--;
	assert_true(filter_kernel_side(&cfg.kf, &ev));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_empty_config_passes_everything, reset),
		cmocka_unit_test_setup(test_state_mask, reset),
		cmocka_unit_test_setup(test_state_out_of_range, reset),
		cmocka_unit_test_setup(test_pids, reset),
		cmocka_unit_test_setup(test_comms, reset),
		cmocka_unit_test_setup(test_comm_full_field, reset),
		cmocka_unit_test_setup(test_pid_and_comm_together, reset),
		cmocka_unit_test_setup(test_family, reset),
		cmocka_unit_test_setup(test_netns, reset),
		cmocka_unit_test_setup(test_lport_rport, reset),
		cmocka_unit_test_setup(test_port_either_side, reset),
		cmocka_unit_test_setup(test_cgroup, reset),
		cmocka_unit_test_setup(test_all_kernel_filters, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
