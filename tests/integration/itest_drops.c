// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Packet drops (skb:kfree_skb) in namespaces and veth pairs this test makes
 * (198.18.0.1 client, 198.18.0.2 server), with nft rules inside them whose
 * counters say exactly how many segments they dropped: `trace --drops`
 * reports each one with the kernel's reason and location, this host's view
 * of the 4-tuple, the segment kind and the direction; a UDP flood dropped
 * the same way reports nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

#define PORT 8766
#define UDP_PORT 9999

static char ns_c[32], ns_s[32];
static int fd_c = -1, fd_s = -1, fd_home = -1;
static uint32_t ino_c, ino_s;

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

static uint32_t ns_inode(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

/* nft rules (a multi-line table) into namespace ns */
static void nft_in(const char *ns, const char *rules)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/tcpfsm-itest-drops-%d.nft", getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(rules, f);
	fclose(f);
	assert_int_equal(sh("ip netns exec %s nft -f %s", ns, path), 0);
	unlink(path);
}

/* Two namespaces joined by a veth pair, each with nft rules (or none). */
static void pair_up(const char *client_nft, const char *server_nft)
{
	char path[64];

	snprintf(ns_c, sizeof(ns_c), "tcpfsm-dc-%d", getpid());
	snprintf(ns_s, sizeof(ns_s), "tcpfsm-ds-%d", getpid());
	assert_int_equal(sh("ip netns add %s && ip netns add %s", ns_c, ns_s), 0);
	assert_int_equal(sh("ip link add tdc%d netns %s type veth peer name tds%d netns %s",
			    getpid(), ns_c, getpid(), ns_s), 0);
	assert_int_equal(sh("ip -n %s addr add 198.18.0.1/24 dev tdc%d && ip -n %s link set tdc%d up "
			    "&& ip -n %s link set lo up",
			    ns_c, getpid(), ns_c, getpid(), ns_c), 0);
	assert_int_equal(sh("ip -n %s addr add 198.18.0.2/24 dev tds%d && ip -n %s link set tds%d up "
			    "&& ip -n %s link set lo up",
			    ns_s, getpid(), ns_s, getpid(), ns_s), 0);
	if (client_nft)
		nft_in(ns_c, client_nft);
	if (server_nft)
		nft_in(ns_s, server_nft);
	snprintf(path, sizeof(path), "/run/netns/%s", ns_c);
	fd_c = open(path, O_RDONLY);
	ino_c = ns_inode(path);
	snprintf(path, sizeof(path), "/run/netns/%s", ns_s);
	fd_s = open(path, O_RDONLY);
	ino_s = ns_inode(path);
	assert_true(fd_c >= 0 && fd_s >= 0);
}

static int teardown(void **state)
{
	if (fd_c >= 0) {
		close(fd_c);
		close(fd_s);
		fd_c = fd_s = -1;
		setns(fd_home, CLONE_NEWNET);
		sh("ip netns del %s; ip netns del %s", ns_c, ns_s);
	}
	return 0;
}

/* The packets the counter of table inet t's chain `chain` in ns counted. */
static long nft_packets(const char *ns, const char *chain)
{
	char cmd[256], out[4096];
	char *const argv[] = { "/bin/sh", "-c", cmd, NULL };
	char *p;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft list chain inet t %s", ns, chain);
	assert_int_equal(run_capture(argv, out, sizeof(out), 0), 0);
	p = strstr(out, "counter packets ");
	assert_non_null(p);
	return strtol(p + strlen("counter packets "), NULL, 10);
}

static int socket_in(int nsfd, int type)
{
	int fd;

	assert_int_equal(setns(nsfd, CLONE_NEWNET), 0);
	fd = socket(AF_INET, type, 0);
	assert_int_equal(setns(fd_home, CLONE_NEWNET), 0);
	assert_true(fd >= 0);
	return fd;
}

static int server_in(int nsfd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd = socket_in(nsfd, SOCK_STREAM), one = 1;

	inet_pton(AF_INET, "198.18.0.2", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* A non-blocking connect to the server from the client namespace; its
 * local port in *port. */
static int connect_client(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	socklen_t len = sizeof(a);
	int fd = socket_in(fd_c, SOCK_STREAM);

	inet_pton(AF_INET, "198.18.0.2", &a.sin_addr);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), -1);
	assert_int_equal(errno, EINPROGRESS);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void start_drops(struct tracer *t, uint32_t ns, const char *const *more)
{
	const char *args[16] = { "--drops" };
	int n = 1;

	for (int i = 0; more && more[i]; i++)
		args[n++] = more[i];
	args[n] = NULL;
	assert_int_equal(tracer_start(t, ns, args), 0);
}

static bool is_drop(json_object *o)
{
	return !strcmp(ev_str(o, "type"), "drop");
}

static size_t count_drops(const struct tracer *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_events; i++)
		n += is_drop(t->events[i]);
	return n;
}

/* Every drop t saw is this one; their number is returned. */
static size_t expect_drops(const struct tracer *t, const char *reason, const char *where,
			   const char *segment, const char *direction, const char *saddr, int sport,
			   const char *daddr, int dport, uint32_t netns)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_events; i++) {
		json_object *o = t->events[i];

		if (!is_drop(o))
			continue;
		n++;
		assert_string_equal(ev_str(o, "reason"), reason);
		if (where)
			assert_string_equal(ev_str(o, "where"), where);
		assert_string_equal(ev_str(o, "segment"), segment);
		assert_string_equal(ev_str(o, "direction"), direction);
		assert_string_equal(ev_str(o, "family"), "ipv4");
		assert_string_equal(ev_str(o, "saddr"), saddr);
		assert_int_equal(ev_int(o, "sport"), sport);
		assert_string_equal(ev_str(o, "daddr"), daddr);
		assert_int_equal(ev_int(o, "dport"), dport);
		assert_int_equal(ev_int(o, "netns"), netns);
	}
	return n;
}

static const char syn_drop_nft[] =
	"table inet t {\n"
	"	chain input {\n"
	"		type filter hook input priority 0;\n"
	"		tcp dport 8766 tcp flags & (syn|ack) == syn counter drop\n"
	"	}\n"
	"}\n";

/*
 * The server's firewall drops SYNs: one record per SYN, in the server's
 * namespace, addressed as the server sees it; nothing in the client's,
 * nothing for a filter that excludes it.
 */
static void test_syn_dropped_at_server(void **state)
{
	struct tracer srv = {}, cli = {}, other = {}, pid = {};
	const char *other_args[] = { "--port", "8767", NULL };
	const char *pid_args[] = { "--pid", "1", NULL };
	uint16_t cport;
	int lfd, cfd;
	long packets;

	pair_up(NULL, syn_drop_nft);
	start_drops(&srv, ino_s, NULL);
	start_drops(&cli, ino_c, NULL);
	start_drops(&other, ino_s, other_args);
	start_drops(&pid, ino_s, pid_args);
	lfd = server_in(fd_s);
	cfd = connect_client(&cport);
	/* SYNs at 0 and 1 s */
	msleep(1500);
	close(cfd);
	msleep(300);
	assert_int_equal(tracer_stop(&srv), 0);
	assert_int_equal(tracer_stop(&cli), 0);
	assert_int_equal(tracer_stop(&other), 0);
	assert_int_equal(tracer_stop(&pid), 0);
	packets = nft_packets(ns_s, "input");
	assert_true(packets >= 2);
	assert_int_equal(expect_drops(&srv, "NETFILTER_DROP", "nft_do_chain", "syn", "in",
				      "198.18.0.2", PORT, "198.18.0.1", cport, ino_s),
			 packets);
	assert_non_null(strstr(srv.err_text, "TCP drops, 0 lost"));
	assert_int_equal(count_drops(&cli), 0);
	assert_int_equal(count_drops(&other), 0);
	assert_int_equal(count_drops(&pid), 0);
	close(lfd);
	tracer_free(&srv);
	tracer_free(&cli);
	tracer_free(&other);
	tracer_free(&pid);
}

/* The client's own firewall drops its SYN on the way out: direction out,
 * its own end first, in its namespace. */
static void test_syn_dropped_going_out(void **state)
{
	static const char out_nft[] = "table inet t {\n"
				      "	chain output {\n"
				      "		type filter hook output priority 0;\n"
				      "		tcp dport 8766 tcp flags & (syn|ack) == syn counter drop\n"
				      "	}\n"
				      "}\n";
	struct tracer cli = {};
	uint16_t cport;
	int cfd;
	long packets;

	pair_up(out_nft, NULL);
	start_drops(&cli, ino_c, NULL);
	cfd = connect_client(&cport);
	msleep(300);
	close(cfd);
	msleep(100);
	assert_int_equal(tracer_stop(&cli), 0);
	packets = nft_packets(ns_c, "output");
	assert_true(packets >= 1);
	assert_int_equal(expect_drops(&cli, "NETFILTER_DROP", "nft_do_chain", "syn", "out",
				      "198.18.0.1", cport, "198.18.0.2", PORT, ino_c),
			 packets);
	tracer_free(&cli);
}

/*
 * No listener: the server's kernel drops each SYN (NO_SOCKET) and answers
 * with an RST, which the client's firewall drops (so the client keeps
 * trying): both drops, each in its own namespace.
 */
static void test_no_listener_rst_dropped(void **state)
{
	static const char rst_nft[] = "table inet t {\n"
				      "	chain input {\n"
				      "		type filter hook input priority 0;\n"
				      "		tcp sport 8766 tcp flags & rst == rst counter drop\n"
				      "	}\n"
				      "}\n";
	struct tracer srv = {}, cli = {};
	uint16_t cport;
	int cfd;
	long packets;

	pair_up(rst_nft, NULL);
	start_drops(&srv, ino_s, NULL);
	start_drops(&cli, ino_c, NULL);
	cfd = connect_client(&cport);
	msleep(1500);
	close(cfd);
	msleep(300);
	assert_int_equal(tracer_stop(&srv), 0);
	assert_int_equal(tracer_stop(&cli), 0);
	packets = nft_packets(ns_c, "input");
	assert_true(packets >= 2);
	/* each SYN that found no socket, and each RST it caused */
	assert_int_equal(expect_drops(&srv, "NO_SOCKET", NULL, "syn", "in", "198.18.0.2", PORT,
				      "198.18.0.1", cport, ino_s),
			 packets);
	assert_int_equal(expect_drops(&cli, "NETFILTER_DROP", "nft_do_chain", "rst", "in",
				      "198.18.0.1", cport, "198.18.0.2", PORT, ino_c),
			 packets);
	tracer_free(&srv);
	tracer_free(&cli);
}

/* ---- drops as evidence: watch's alerts, history, a replay, metrics ---- */


static void start_cmd(struct tracer *t, const char *cmd, const char *const *more)
{
	char n2[16];
	const char *args[24] = { "--netns", n2 };
	int n = 2;

	snprintf(n2, sizeof(n2), "%u", ino_s);
	for (int i = 0; more && more[i]; i++)
		args[n++] = more[i];
	args[n] = NULL;
	assert_int_equal(tracer_start_cmd(t, cmd, ino_c, args), 0);
}

/* serve's address: one per test, so that one failing leaves the next a port */
static const char *metrics_at(void)
{
	static char at[32];

	snprintf(at, sizeof(at), "127.0.0.1:%d", 19800 + (int)(random() % 100));
	return at;
}

static const char *metrics_addr;

/* The value of the sample `series` (name and labels, exactly) in serve's
 * /metrics, -1 if absent. */
static long long metric(const char *series)
{
	static char out[1 << 17];
	char url[64];
	char *const argv[] = { "/usr/bin/curl", "-s", url, NULL };
	char want[256], *p;

	snprintf(url, sizeof(url), "http://%s/metrics", metrics_addr);
	assert_int_equal(run_capture(argv, out, sizeof(out), 0), 0);
	snprintf(want, sizeof(want), "\n%s ", series);
	p = strstr(out, want);
	return p ? strtoll(p + strlen(want), NULL, 10) : -1;
}

static void start_serve(struct tracer *t)
{
	const char *args[] = { "--listen", NULL, "--sweep", "100ms", NULL };

	metrics_addr = args[1] = metrics_at();
	start_cmd(t, "serve", args);
}

static const char *const watch_args[] = { "--sweep", "100ms", "--alert", "SYN_SENT=1s",
					  "--alert", "SYN_RECV=1s", NULL };

/* The first firing alert in state (half_open as said), or fail. */
static json_object *firing(const struct tracer *t, const char *state, bool half_open)
{
	for (size_t i = 0; i < t->n_events; i++) {
		json_object *o = t->events[i];

		if (!strcmp(ev_str(o, "type"), "alert") && !strcmp(ev_str(o, "status"), "firing") &&
		    !strcmp(ev_str(o, "state"), state) &&
		    json_object_get_boolean(json_object_object_get(o, "half_open")) == half_open)
			return o;
	}
	fail_msg("no firing %s alert", state);
	return NULL;
}

/* Its drops item i: side, segment, reason, where, namespace; its count. */
static int64_t drop_item(json_object *a, size_t i, const char *side, const char *segment,
			 const char *reason, const char *where, uint32_t netns)
{
	json_object *drops = json_object_object_get(a, "drops"), *d;

	assert_non_null(drops);
	assert_true(i < json_object_array_length(drops));
	d = json_object_array_get_idx(drops, i);
	assert_string_equal(ev_str(d, "side"), side);
	assert_string_equal(ev_str(d, "segment"), segment);
	assert_string_equal(ev_str(d, "reason"), reason);
	if (where)
		assert_string_equal(ev_str(d, "where"), where);
	assert_int_equal(ev_int(d, "netns"), netns);
	assert_non_null(ev_str(d, "first"));
	assert_non_null(ev_str(d, "last"));
	return ev_int(d, "count");
}

static void expect_diagnosis(json_object *a, const char *needle)
{
	const char *d = ev_str(a, "diagnosis");

	if (!d || !strstr(d, needle))
		fail_msg("diagnosis \"%s\" lacks \"%s\"", d ? d : "(none)", needle);
}

/*
 * The server's firewall drops our SYNs: watch (lazy: drops reach it all
 * the same) names the drop on the server's side in the client's alert;
 * a recording of the same gives the same alert when replayed.
 */
static void test_watch_syn_dropped_at_peer(void **state)
{
	struct tracer w = {}, rec = {}, srv = {};
	char path[64];
	const char *rec_args[] = { "-w", path, NULL };
	json_object *a;
	uint16_t cport;
	int lfd, cfd;
	int64_t n;

	snprintf(path, sizeof(path), "/tmp/tcpfsm-itest-drops-%d.tfr", getpid());
	pair_up(NULL, syn_drop_nft);
	start_cmd(&w, "watch", watch_args);
	start_cmd(&rec, "record", rec_args);
	start_serve(&srv);
	lfd = server_in(fd_s);
	cfd = connect_client(&cport);
	assert_int_equal(tracer_wait_output(&w, "\"verdict\":\"syn_dropped_at_peer\"", 8000), 0);
	/* a while longer: the replay's sweeps come every 100 ms of its clock */
	msleep(500);
	close(cfd);
	msleep(300);
	/* /metrics counts exactly the SYNs the firewall dropped */
	assert_int_equal(metric("tcpfsm_drops_total{reason=\"NETFILTER_DROP\",segment=\"syn\"}"),
			 nft_packets(ns_s, "input"));
	assert_int_equal(metric("tcpfsm_listen_drops_total{reason=\"NETFILTER_DROP\"}"),
			 nft_packets(ns_s, "input"));
	assert_int_equal(tracer_stop(&srv), 0);
	assert_int_equal(tracer_stop(&w), 0);
	assert_int_equal(tracer_stop(&rec), 0);
	a = firing(&w, "SYN_SENT", false);
	assert_int_equal(ev_int(a, "sport"), cport);
	assert_string_equal(ev_str(a, "verdict"), "syn_dropped_at_peer");
	expect_diagnosis(a, "our SYNs are dropped at the peer (network namespace");
	expect_diagnosis(a, "by netfilter (NETFILTER_DROP in nft_do_chain, ");
	n = drop_item(a, 0, "peer", "syn", "NETFILTER_DROP", "nft_do_chain", ino_s);
	assert_true(n >= 1 && n <= nft_packets(ns_s, "input"));
	/* the server's side: its listener's SYNs are dropped before any
	 * socket exists for them */
	a = firing(&w, "LISTEN", false);
	assert_string_equal(ev_str(a, "verdict"), "syn_dropped_here");
	assert_int_equal(ev_int(a, "pid"), getpid());
	assert_int_equal(ev_int(a, "sport"), PORT);
	assert_int_equal(ev_int(a, "netns"), ino_s);
	expect_diagnosis(a, "SYNs to 198.18.0.2:8766 are dropped here by netfilter (NETFILTER_DROP in "
			    "nft_do_chain): ");
	expect_diagnosis(a, " from 198.18.0.1 in ");
	drop_item(a, 0, "here", "syn", "NETFILTER_DROP", "nft_do_chain", ino_s);

	/* the recording holds the drops: the replay decides alike, and names
	 * them as live (same boot) */
	{
		char *const argv[] = { (char *)tcpfsm_path(), "watch", "--json", "-r", path,
				       "--sweep", "100ms", "--alert", "SYN_SENT=1s", NULL };
		static char out[65536];

		assert_int_equal(run_capture(argv, out, sizeof(out), 0), 0);
		if (!strstr(out, "\"verdict\":\"syn_dropped_at_peer\",\"drops\":[{\"reason\":"
				 "\"NETFILTER_DROP\",\"where\":\"nft_do_chain\",\"segment\":\"syn\""))
			fail_msg("replay: %s", out);
	}
	unlink(path);
	close(lfd);
	tracer_free(&w);
	tracer_free(&rec);
	tracer_free(&srv);
}

/*
 * The client's firewall drops SYN/ACKs: its own alert says so
 * (synack_dropped_here), the server's half-open one names the client's
 * drop; the client's history holds exactly the SYN/ACKs its firewall
 * dropped while it lived.
 */
static void test_synack_dropped_at_client(void **state)
{
	static const char synack_nft[] =
		"table inet t {\n"
		"	chain input {\n"
		"		type filter hook input priority 0;\n"
		"		tcp sport 8766 tcp flags & (syn|ack) == syn|ack counter drop\n"
		"	}\n"
		"}\n";
	struct tracer w = {}, h = {};
	json_object *a, *conn = NULL;
	uint16_t cport;
	int lfd, cfd;
	long packets;

	pair_up(synack_nft, NULL);
	start_cmd(&w, "watch", watch_args);
	start_cmd(&h, "history", NULL);
	lfd = server_in(fd_s);
	cfd = connect_client(&cport);
	assert_int_equal(tracer_wait_output(&w, "\"verdict\":\"synack_dropped_at_peer\"", 8000),
			 0);
	assert_int_equal(tracer_wait_output(&w, "\"verdict\":\"synack_dropped_here\"", 8000), 0);
	/* no more SYN/ACKs once the listener (and its request) is gone */
	close(lfd);
	msleep(300);
	packets = nft_packets(ns_c, "input");
	close(cfd);
	msleep(300);
	assert_int_equal(tracer_stop(&w), 0);
	assert_int_equal(tracer_stop(&h), 0);

	a = firing(&w, "SYN_SENT", false);
	assert_string_equal(ev_str(a, "verdict"), "synack_dropped_here");
	expect_diagnosis(a, "the SYN/ACKs are dropped on this host by netfilter (NETFILTER_DROP in "
			    "nft_do_chain, ");
	drop_item(a, 0, "here", "synack", "NETFILTER_DROP", "nft_do_chain", ino_c);
	a = firing(&w, "SYN_RECV", true);
	assert_string_equal(ev_str(a, "verdict"), "synack_dropped_at_peer");
	expect_diagnosis(a, "the SYN/ACKs are dropped at the client (network namespace");

	for (size_t i = 0; i < h.n_events; i++)
		if (!strcmp(ev_str(h.events[i], "type"), "connection") &&
		    ev_int(h.events[i], "sport") == cport)
			conn = h.events[i];
	assert_non_null(conn);
	assert_int_equal(drop_item(conn, 0, "here", "synack", "NETFILTER_DROP", "nft_do_chain",
				   ino_c),
			 packets);
	assert_int_equal(json_object_array_length(json_object_object_get(conn, "drops")), 1);
	tracer_free(&w);
	tracer_free(&h);
}

/* No listener, and the client's firewall drops the RSTs: no_listener, the
 * server's NO_SOCKET named. */
static void test_watch_no_listener(void **state)
{
	static const char rst_nft[] = "table inet t {\n"
				      "	chain input {\n"
				      "		type filter hook input priority 0;\n"
				      "		tcp sport 8766 tcp flags & rst == rst counter drop\n"
				      "	}\n"
				      "}\n";
	struct tracer w = {};
	json_object *a;
	uint16_t cport;
	int cfd;

	pair_up(rst_nft, NULL);
	start_cmd(&w, "watch", watch_args);
	cfd = connect_client(&cport);
	assert_int_equal(tracer_wait_output(&w, "\"verdict\":\"no_listener\"", 8000), 0);
	close(cfd);
	assert_int_equal(tracer_stop(&w), 0);
	a = firing(&w, "SYN_SENT", false);
	expect_diagnosis(a, "nothing listens on 198.18.0.2:8766: the peer's kernel drops our SYNs "
			    "(NO_SOCKET in ");
	expect_diagnosis(a, "and the RSTs it answers with are dropped on this host by netfilter "
			    "(NETFILTER_DROP in nft_do_chain, ");
	tracer_free(&w);
}

/* 20000 UDP datagrams dropped by the server's firewall: not one record. */
static void test_udp_flood(void **state)
{
	static const char udp_nft[] = "table inet t {\n"
				      "	chain input {\n"
				      "		type filter hook input priority 0;\n"
				      "		udp dport 9999 counter drop\n"
				      "	}\n"
				      "}\n";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(UDP_PORT) };
	struct tracer srv = {}, w = {};
	const char *args[3] = { "--netns" };
	char payload[64] = "", ino[16];
	int fd;

	pair_up(NULL, udp_nft);
	snprintf(ino, sizeof(ino), "%u", ino_c);
	args[1] = ino;
	start_drops(&srv, ino_s, args);
	start_cmd(&w, "watch", watch_args);
	fd = socket_in(fd_c, SOCK_DGRAM);
	inet_pton(AF_INET, "198.18.0.2", &a.sin_addr);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&a,
					sizeof(a)),
				 sizeof(payload));
	close(fd);
	msleep(200);
	assert_int_equal(tracer_stop(&srv), 0);
	/* they were dropped (and passed kfree_skb) while it traced */
	assert_int_equal(nft_packets(ns_s, "input"), 20000);
	assert_int_equal(count_drops(&srv), 0);
	assert_non_null(strstr(srv.err_text, "0 TCP drops, 0 lost"));
	/* and no alert */
	msleep(1200);
	assert_int_equal(tracer_stop(&w), 0);
	assert_int_equal(w.n_events, 0);
	assert_non_null(strstr(w.err_text, "0 TCP drops, 0 lost"));
	tracer_free(&srv);
	tracer_free(&w);
}

/* The namespace's count of the netstat field name (TcpExt). */
static long netstat(const char *ns, const char *name)
{
	char cmd[256], out[8192], *hdr, *vals, *h, *v, *hs = NULL, *vs = NULL;
	char *const argv[] = { "/bin/sh", "-c", cmd, NULL };

	snprintf(cmd, sizeof(cmd), "ip netns exec %s grep TcpExt: /proc/net/netstat", ns);
	assert_int_equal(run_capture(argv, out, sizeof(out), 0), 0);
	hdr = out;
	vals = strchr(out, '\n');
	assert_non_null(vals);
	*vals++ = 0;
	for (h = strtok_r(hdr, " ", &hs), v = strtok_r(vals, " \n", &vs); h && v;
	     h = strtok_r(NULL, " ", &hs), v = strtok_r(NULL, " \n", &vs))
		if (!strcmp(h, name))
			return strtol(v, NULL, 10);
	fail_msg("no %s in netstat", name);
	return -1;
}

/*
 * A listener with backlog 1 that never accepts, and 50 clients: the kernel
 * refuses most of their SYNs (and handshake ACKs) for the full accept queue
 * and counts each on the listener, most without passing kfree_skb. The
 * listener alert says so (listen_overflow, owner, backlog) and resolves,
 * when the listener closes, with exactly the namespace's ListenOverflows;
 * the clients' alerts name the peer's overflow.
 */
static void test_listen_overflow(void **state)
{
	const char *args[] = { "--sweep", "100ms", "--alert", "SYN_SENT=2s", NULL };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct tracer w = {}, srv = {};
	json_object *f, *r = NULL, *c;
	int lfd, one = 1, cfd[50];
	long overflows;

	pair_up(NULL, NULL);
	/* each client gives up after its second SYN */
	assert_int_equal(sh("ip netns exec %s sysctl -qw net.ipv4.tcp_syn_retries=1", ns_c), 0);
	start_cmd(&w, "watch", args);
	start_serve(&srv);
	lfd = socket_in(fd_s, SOCK_STREAM);
	inet_pton(AF_INET, "198.18.0.2", &a.sin_addr);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	for (int i = 0; i < 50; i++) {
		uint16_t port;

		cfd[i] = connect_client(&port);
	}
	assert_int_equal(tracer_wait_output(&w, "\"verdict\":\"listen_overflow\"", 8000), 0);
	/* the clients give up within 3 s (SYNs at 0 and 1 s) */
	msleep(4000);
	overflows = netstat(ns_s, "ListenOverflows");
	/* serve's metric counts the same, once its next sweep ran */
	msleep(1200);
	assert_int_equal(netstat(ns_s, "ListenOverflows"), overflows);
	assert_int_equal(metric("tcpfsm_listen_drops_total{reason=\"TCP_LISTEN_OVERFLOW\"}"),
			 overflows);
	assert_true(metric("tcpfsm_alerts_total{state=\"LISTEN\"}") >= 1);
	assert_int_equal(tracer_stop(&srv), 0);
	close(lfd);
	assert_int_equal(tracer_wait_output(&w, "the listener closed", 5000), 0);
	for (int i = 0; i < 50; i++)
		close(cfd[i]);
	assert_int_equal(tracer_stop(&w), 0);

	assert_true(overflows > 0);
	/* nothing else counts on a listener here */
	assert_int_equal(netstat(ns_s, "ListenDrops"), overflows);
	f = firing(&w, "LISTEN", false);
	assert_string_equal(ev_str(f, "verdict"), "listen_overflow");
	assert_int_equal(ev_int(f, "pid"), getpid());
	assert_int_equal(ev_int(f, "max_backlog"), 1);
	expect_diagnosis(f, "SYNs to 198.18.0.2:8766 are dropped here: accept queue full "
			    "(TCP_LISTEN_OVERFLOW, ");
	expect_diagnosis(f, ", backlog 1): process ");
	expect_diagnosis(f, ") does not accept() fast enough");
	for (size_t i = 0; i < w.n_events; i++) {
		json_object *o = w.events[i];

		if (!strcmp(ev_str(o, "type"), "alert") && !strcmp(ev_str(o, "state"), "LISTEN") &&
		    !strcmp(ev_str(o, "status"), "resolved"))
			r = o;
	}
	assert_non_null(r);
	expect_diagnosis(r, "the listener closed");
	/* exact */
	assert_int_equal(drop_item(r, 0, "here", "syn", "TCP_LISTEN_OVERFLOW", "tcp_listendrop",
				   ino_s),
			 overflows);
	/* a client that alerted knows why */
	c = firing(&w, "SYN_SENT", false);
	assert_string_equal(ev_str(c, "verdict"), "listen_overflow");
	expect_diagnosis(c, "the peer's listen queue is full, it refuses SYNs (TCP_LISTEN_OVERFLOW "
			    "in tcp_listendrop, ");
	tracer_free(&w);
	tracer_free(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_syn_dropped_at_server, teardown),
		cmocka_unit_test_teardown(test_syn_dropped_going_out, teardown),
		cmocka_unit_test_teardown(test_no_listener_rst_dropped, teardown),
		cmocka_unit_test_teardown(test_udp_flood, teardown),
		cmocka_unit_test_teardown(test_watch_syn_dropped_at_peer, teardown),
		cmocka_unit_test_teardown(test_synack_dropped_at_client, teardown),
		cmocka_unit_test_teardown(test_watch_no_listener, teardown),
		cmocka_unit_test_teardown(test_listen_overflow, teardown),
	};

	srandom(getpid());
	fd_home = open("/proc/self/ns/net", O_RDONLY);
	return cmocka_run_group_tests_name("itest_drops", tests, NULL, NULL);
}
