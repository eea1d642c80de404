// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm watch` against the troubleshooting story, in namespaces and veth
 * pairs this test creates (198.18.0.1 client, 198.18.0.2 server) with nft
 * rules inside them: SYN dropped at the server, SYN/ACK dropped at the
 * client, a CLOSE_WAIT leak (new and pre-existing), a healthy burst, and the
 * --alert-exec hook: its input, and the user and capabilities it runs with.
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

#define PORT 8765

static char my_comm[16];
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

/* Two namespaces joined by a veth pair; nft rules given as files' text. */
static void pair_up(const char *client_nft, const char *server_nft)
{
	char path[64];
	FILE *f;

	snprintf(ns_c, sizeof(ns_c), "tcpfsm-c-%d", getpid());
	snprintf(ns_s, sizeof(ns_s), "tcpfsm-s-%d", getpid());
	assert_int_equal(sh("ip netns add %s && ip netns add %s", ns_c, ns_s), 0);
	assert_int_equal(sh("ip link add tfc%d netns %s type veth peer name tfs%d netns %s",
			    getpid(), ns_c, getpid(), ns_s), 0);
	assert_int_equal(sh("ip -n %s addr add 198.18.0.1/24 dev tfc%d && ip -n %s link set tfc%d up "
			    "&& ip -n %s link set lo up",
			    ns_c, getpid(), ns_c, getpid(), ns_c), 0);
	assert_int_equal(sh("ip -n %s addr add 198.18.0.2/24 dev tfs%d && ip -n %s link set tfs%d up "
			    "&& ip -n %s link set lo up",
			    ns_s, getpid(), ns_s, getpid(), ns_s), 0);
	/* the connect gives up after about 7 s (SYNs at 0, 1 and 3 s) */
	assert_int_equal(sh("ip netns exec %s sysctl -qw net.ipv4.tcp_syn_retries=2", ns_c), 0);
	for (int i = 0; i < 2; i++) {
		const char *rules = i ? server_nft : client_nft;

		if (!rules)
			continue;
		snprintf(path, sizeof(path), "/tmp/tcpfsm-itest-%d.nft", getpid());
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(rules, f);
		fclose(f);
		assert_int_equal(sh("ip netns exec %s nft -f %s", i ? ns_s : ns_c, path), 0);
		unlink(path);
	}
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

/* A socket created inside the namespace nsfd (it stays there). */
static int socket_in(int nsfd)
{
	int fd;

	assert_int_equal(setns(nsfd, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(setns(fd_home, CLONE_NEWNET), 0);
	assert_true(fd >= 0);
	return fd;
}

static int server_in(int nsfd, const char *addr)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd = socket_in(nsfd), one = 1;

	inet_pton(AF_INET, addr, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* Start a non-blocking connect to addr:PORT from namespace nsfd. */
static int connect_from(int nsfd, const char *addr)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd = socket_in(nsfd);

	inet_pton(AF_INET, addr, &a.sin_addr);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), -1);
	assert_int_equal(errno, EINPROGRESS);
	return fd;
}

/* Wait for a non-blocking connect to end; its errno (0: connected). */
static int connect_result(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	socklen_t len = sizeof(int);
	int err = -1;

	if (poll(&p, 1, timeout_ms) != 1)
		return ETIME;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

static void start_watch(struct tracer *t, uint32_t ns1, uint32_t ns2, const char *a1,
			const char *a2, const char *const *more)
{
	char n2[16];
	const char *args[24] = { "--sweep", "100ms", "--alert", a1 };
	int n = 4;

	if (a2) {
		args[n++] = "--alert";
		args[n++] = a2;
	}
	if (ns2) {
		snprintf(n2, sizeof(n2), "%u", ns2);
		args[n++] = "--netns";
		args[n++] = n2;
	}
	for (int i = 0; more && more[i]; i++)
		args[n++] = more[i];
	args[n] = NULL;
	assert_int_equal(tracer_start_cmd(t, "watch", ns1, args), 0);
}

/* The first alert with this status and state (and half_open), or NULL. */
static json_object *alert(const struct tracer *t, const char *status, const char *state,
			  bool half_open)
{
	for (size_t i = 0; i < t->n_events; i++) {
		json_object *o = t->events[i];

		if (!strcmp(ev_str(o, "type"), "alert") && !strcmp(ev_str(o, "status"), status) &&
		    !strcmp(ev_str(o, "state"), state) &&
		    json_object_get_boolean(json_object_object_get(o, "half_open")) == half_open)
			return o;
	}
	return NULL;
}

static void expect_text(json_object *a, const char *needle)
{
	const char *d = ev_str(a, "diagnosis");

	if (!d || !strstr(d, needle))
		fprintf(stderr, "diagnosis \"%s\" lacks \"%s\"\n", d ? d : "(null)", needle);
	assert_non_null(d);
	assert_non_null(strstr(d, needle));
}

static void test_syn_dropped_at_server(void **state)
{
	struct tracer t;
	json_object *f, *r;
	int lfd, cfd;

	pair_up(NULL, "table inet tcpfsm_itest {\n"
		      "  chain input {\n"
		      "    type filter hook input priority 0;\n"
		      "    tcp dport 8765 tcp flags & (syn|ack) == syn drop\n"
		      "  }\n"
		      "}\n");
	/* past the first SYN retransmit (1 s) with room to spare on a loaded
	 * machine, well before the second (3 s) */
	start_watch(&t, ino_c, ino_s, "SYN_SENT=2s", NULL, NULL);
	lfd = server_in(fd_s, "198.18.0.2");
	cfd = connect_from(fd_c, "198.18.0.2");
	assert_int_equal(tracer_wait_output(&t, "\"firing\"", 6000), 0);
	assert_int_equal(connect_result(cfd, 10000), ETIMEDOUT);
	assert_int_equal(tracer_wait_output(&t, "\"resolved\"", 3000), 0);
	assert_int_equal(tracer_stop(&t), 0);
	f = alert(&t, "firing", "SYN_SENT", false);
	assert_non_null(f);
	assert_int_equal(ev_int(f, "pid"), getpid());
	assert_string_equal(ev_str(f, "daddr"), "198.18.0.2");
	assert_true(ev_int(f, "syn_retransmits") >= 1);
	assert_true(ev_int(f, "age_ns") >= 2000000000LL);
	/* the drop tracker names the drop at the server (itest_drops has more) */
	expect_text(f, "our SYNs are dropped at the peer");
	r = alert(&t, "resolved", "SYN_SENT", false);
	assert_non_null(r);
	assert_string_equal(ev_str(r, "to"), "CLOSE");
	expect_text(r, "connect timed out");
	/* the server never saw a SYN: no half-open alert */
	assert_null(alert(&t, "firing", "SYN_RECV", true));
	close(cfd);
	close(lfd);
	tracer_free(&t);
}

static void test_synack_dropped_at_client(void **state)
{
	struct tracer t;
	json_object *c, *s;
	int lfd, cfd;

	pair_up("table inet tcpfsm_itest {\n"
		"  chain input {\n"
		"    type filter hook input priority 0;\n"
		"    tcp sport 8765 tcp flags & (syn|ack) == syn|ack drop\n"
		"  }\n"
		"}\n",
		NULL);
	start_watch(&t, ino_c, ino_s, "SYN_SENT=2s", "SYN_RECV=2s", NULL);
	lfd = server_in(fd_s, "198.18.0.2");
	cfd = connect_from(fd_c, "198.18.0.2");
	assert_int_equal(tracer_wait_output(&t, "\"half_open\":true", 6000), 0);
	assert_int_equal(tracer_wait_output(&t, "\"state\":\"SYN_SENT\"", 6000), 0);
	assert_int_equal(tracer_stop(&t), 0);
	c = alert(&t, "firing", "SYN_SENT", false);
	assert_non_null(c);
	expect_text(c, "the peer is half-open: the SYN/ACK does not reach this client");
	s = alert(&t, "firing", "SYN_RECV", true);
	assert_non_null(s);
	assert_int_equal(ev_int(s, "sport"), PORT);
	assert_string_equal(ev_str(s, "daddr"), "198.18.0.1");
	assert_true(ev_int(s, "syn_retransmits") >= 1);
	expect_text(s, "SYN/ACK");
	expect_text(s, "is in SYN_SENT: the SYN/ACK does not reach it");
	/* the listener is the server's: owner attributed through it */
	assert_int_equal(ev_int(s, "pid"), getpid());
	close(cfd);
	close(lfd);
	tracer_free(&t);
}

static void test_close_wait_leak(void **state)
{
	struct tracer t;
	json_object *f, *r;
	uint32_t ns;
	int lfd, sfd;

	assert_int_equal(netns_enter_new(&ns), 0);
	start_watch(&t, ns, 0, "CLOSE_WAIT=1s", NULL, NULL);
	sfd = lo_close_wait(&lfd, NULL);
	assert_int_equal(tracer_wait_output(&t, "\"firing\"", 5000), 0);
	close(sfd);
	assert_int_equal(tracer_wait_output(&t, "\"resolved\"", 3000), 0);
	assert_int_equal(tracer_stop(&t), 0);
	f = alert(&t, "firing", "CLOSE_WAIT", false);
	assert_non_null(f);
	assert_int_equal(ev_int(f, "pid"), getpid());
	assert_string_equal(ev_str(f, "comm"), my_comm);
	assert_int_equal(ev_int(f, "fd"), sfd);
	assert_false(json_object_get_boolean(json_object_object_get(f, "age_at_least")));
	expect_text(f, "has not called close()");
	r = alert(&t, "resolved", "CLOSE_WAIT", false);
	assert_non_null(r);
	assert_string_equal(ev_str(r, "to"), "LAST_ACK");
	/* one alert, in the singular */
	if (!strstr(t.err_text, "tcpfsm: 1 alert fired, 0 folded into summaries by the rate limit\n"))
		fail_msg("exit lines: %s", t.err_text);
	close(lfd);
	tracer_free(&t);
}

static void test_preexisting_close_wait(void **state)
{
	struct tracer t;
	json_object *f;
	uint32_t ns;
	int lfd, sfd;

	assert_int_equal(netns_enter_new(&ns), 0);
	sfd = lo_close_wait(&lfd, NULL);
	msleep(100);
	start_watch(&t, ns, 0, "CLOSE_WAIT=500ms", NULL, NULL);
	assert_int_equal(tracer_wait_output(&t, "\"firing\"", 5000), 0);
	assert_int_equal(tracer_stop(&t), 0);
	f = alert(&t, "firing", "CLOSE_WAIT", false);
	assert_non_null(f);
	assert_true(json_object_get_boolean(json_object_object_get(f, "age_at_least")));
	assert_int_equal(ev_int(f, "pid"), getpid());
	expect_text(f, "at least");
	close(sfd);
	close(lfd);
	tracer_free(&t);
}

static void test_no_alert_for_healthy_burst(void **state)
{
	const char *more[] = { "--alert", "CLOSE_WAIT=1s", "--alert", "FIN_WAIT2=1s",
			       "--alert", "LAST_ACK=1s", NULL };
	struct tracer t;
	uint32_t ns;

	assert_int_equal(netns_enter_new(&ns), 0);
	start_watch(&t, ns, 0, "SYN_SENT=1s", "SYN_RECV=1s", more);
	lo_connections(1000, 0);
	msleep(1500); /* past every threshold, and sweeps */
	assert_int_equal(tracer_stop(&t), 0);
	for (size_t i = 0; i < t.n_events; i++)
		fprintf(stderr, "unexpected: %s\n", json_object_to_json_string(t.events[i]));
	assert_int_equal(t.n_events, 0);
	assert_non_null(strstr(t.err_text, "0 alerts fired"));
	tracer_free(&t);
}

/*
 * The hook gets the alert intact even when the owner's comm holds shell
 * metacharacters, and a slow hook does not stall the event loop.
 */
static void test_exec_hook(void **state)
{
	static const char *evil = "a\";$(id)>x'`b";
	char dir[] = "/tmp/tcpfsm-hook-XXXXXX", script[128], cmd[4096], path[256];
	const char *more[4];
	struct tracer t;
	uint32_t ns;
	int p[2], status;
	pid_t child;
	char c;
	FILE *f;
	json_object *got;

	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/hook.sh", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	/* record stdin and the comm variable, then be slow */
	fprintf(f, "#!/bin/sh\ncd %s\ncat > \"$TCPFSM_STATUS.json\"\n"
		   "printf '%%s' \"$TCPFSM_COMM\" > \"$TCPFSM_STATUS.comm\"\nsleep 10\n",
		dir);
	fclose(f);
	chmod(script, 0755);
	snprintf(cmd, sizeof(cmd), "%s", script);
	more[0] = "--alert-exec";
	more[1] = cmd;
	more[2] = "--alert-exec-timeout=20s";
	more[3] = NULL;

	assert_int_equal(netns_enter_new(&ns), 0);
	start_watch(&t, ns, 0, "CLOSE_WAIT=500ms", NULL, more);
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int lfd, sfd;

		prctl(PR_SET_NAME, evil);
		sfd = lo_close_wait(&lfd, NULL);
		/* leak until told */
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		close(sfd);
		close(lfd);
		_exit(0);
	}
	assert_int_equal(tracer_wait_output(&t, "\"firing\"", 5000), 0);
	/* the hook sleeps 10 s; the resolution must still show at once */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(tracer_wait_output(&t, "\"resolved\"", 3000), 0);
	msleep(300);
	snprintf(path, sizeof(path), "%s/firing.json", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(cmd, sizeof(cmd), f));
	fclose(f);
	got = json_tokener_parse(cmd);
	assert_non_null(got);
	assert_string_equal(ev_str(got, "comm"), evil);
	assert_string_equal(ev_str(got, "state"), "CLOSE_WAIT");
	json_object_put(got);
	snprintf(path, sizeof(path), "%s/firing.comm", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(cmd, sizeof(cmd), f));
	fclose(f);
	assert_string_equal(cmd, evil);
	/* nothing was run from the comm */
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(tracer_stop(&t), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh("%s", cmd);
	tracer_free(&t);
}

/* watch/serve/top keep CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH */
#define KEPT ((1ULL << 21) | (1ULL << 19) | (1ULL << 2))
#define SETID ((1ULL << 7) | (1ULL << 6))

/* What a process is: ids and capability sets (-1 when missing). */
struct ident {
	long uid, gid;
	uint64_t inh, prm, eff, bnd, amb;
	long nnp;
};

/* "Name:\tvalue" lines (/proc/PID/status, or the hook's copy of its own). */
static void read_ident(const char *path, struct ident *id)
{
	char line[256];
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	memset(id, 0xff, sizeof(*id));
	id->uid = id->gid = id->nnp = -1;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(line, "Uid"))
			id->uid = strtol(v, NULL, 10);
		else if (!strcmp(line, "Gid"))
			id->gid = strtol(v, NULL, 10);
		else if (!strcmp(line, "CapInh"))
			id->inh = strtoull(v, NULL, 16);
		else if (!strcmp(line, "CapPrm"))
			id->prm = strtoull(v, NULL, 16);
		else if (!strcmp(line, "CapEff"))
			id->eff = strtoull(v, NULL, 16);
		else if (!strcmp(line, "CapBnd"))
			id->bnd = strtoull(v, NULL, 16);
		else if (!strcmp(line, "CapAmb"))
			id->amb = strtoull(v, NULL, 16);
		else if (!strcmp(line, "NoNewPrivs"))
			id->nnp = strtol(v, NULL, 10);
	}
	fclose(f);
}

/*
 * watch with a hook that writes `id -u`, `id -g` and its capability lines;
 * user: --alert-exec-user (NULL: none). What the hook was into *hook, what
 * tcpfsm itself held meanwhile into *self.
 */
static void hook_ident(const char *user, struct ident *hook, struct ident *self)
{
	char dir[] = "/tmp/tcpfsm-hookid-XXXXXX", script[128], path[128], status[64];
	const char *more[6] = { "--alert-exec", script, NULL };
	struct tracer t;
	uint32_t ns;
	int lfd, sfd;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	/* the hook may run as nobody */
	assert_int_equal(chmod(dir, 0777), 0);
	snprintf(script, sizeof(script), "%s/hook.sh", dir);
	snprintf(path, sizeof(path), "%s/id", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\ncat >/dev/null\n"
		   "{ echo \"Uid: $(id -u)\"; echo \"Gid: $(id -g)\"; "
		   "grep -E '^(Cap[A-Za-z]+|NoNewPrivs):' /proc/self/status; } > %s.$$ && "
		   "mv %s.$$ %s\n",
		path, path, path);
	fclose(f);
	assert_int_equal(chmod(script, 0755), 0);
	if (user) {
		more[1] = script;
		more[2] = "--alert-exec-user";
		more[3] = user;
		more[4] = NULL;
	}
	assert_int_equal(netns_enter_new(&ns), 0);
	start_watch(&t, ns, 0, "CLOSE_WAIT=300ms", NULL, more);
	snprintf(status, sizeof(status), "/proc/%d/status", t.pid);
	read_ident(status, self);
	sfd = lo_close_wait(&lfd, NULL);
	assert_int_equal(tracer_wait_output(&t, "\"firing\"", 5000), 0);
	for (int i = 0; i < 500 && access(path, F_OK); i++)
		msleep(10);
	if (access(path, F_OK)) {
		tracer_stop(&t);
		fprintf(stderr, "no output from the hook; tcpfsm said: %s\n", t.err_text);
	}
	assert_int_equal(access(path, F_OK), 0);
	read_ident(path, hook);
	close(sfd);
	close(lfd);
	assert_int_equal(tracer_stop(&t), 0);
	/* the firing and the resolution: neither failed */
	assert_non_null(strstr(t.err_text, " run, 0 failed, 0 timed out"));
	sh("rm -rf %s", dir);
	tracer_free(&t);
}

/*
 * Without --alert-exec-user the hook is root, but with no more than what
 * tcpfsm kept: the bounding set went too, so execve gives nothing back.
 */
static void test_exec_hook_privileges_default(void **state)
{
	struct ident hook, self;

	hook_ident(NULL, &hook, &self);
	assert_int_equal(self.eff, KEPT);
	assert_int_equal(self.prm, KEPT);
	assert_int_equal(self.bnd, KEPT);
	assert_int_equal(self.inh, 0);
	assert_int_equal(self.amb, 0);
	assert_int_equal(hook.uid, 0);
	assert_int_equal(hook.gid, 0);
	assert_int_equal(hook.eff & ~KEPT, 0);
	assert_int_equal(hook.prm & ~KEPT, 0);
	assert_int_equal(hook.bnd & ~KEPT, 0);
	assert_int_equal(hook.inh, 0);
	assert_int_equal(hook.amb, 0);
	assert_int_equal(hook.nnp, 1);
}

/*
 * --alert-exec-user nobody: uid/gid 65534 and no capability at all; tcpfsm
 * keeps CAP_SETUID/CAP_SETGID permitted for the switch, never effective.
 */
static void test_exec_hook_as_nobody(void **state)
{
	struct ident hook, self;

	hook_ident("nobody", &hook, &self);
	assert_int_equal(self.eff, KEPT);
	assert_int_equal(self.prm, KEPT | SETID);
	assert_int_equal(self.bnd, KEPT);
	assert_int_equal(hook.uid, 65534);
	assert_int_equal(hook.gid, 65534);
	assert_int_equal(hook.eff, 0);
	assert_int_equal(hook.prm, 0);
	assert_int_equal(hook.inh, 0);
	assert_int_equal(hook.amb, 0);
	assert_int_equal(hook.bnd & ~KEPT, 0);
	assert_int_equal(hook.nnp, 1);
	/* uid 0 keeps capabilities across setuid(): they are cleared anyway */
	hook_ident("0:65534", &hook, &self);
	assert_int_equal(hook.uid, 0);
	assert_int_equal(hook.gid, 65534);
	assert_int_equal(hook.eff, 0);
	assert_int_equal(hook.prm, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_syn_dropped_at_server, teardown),
		cmocka_unit_test_teardown(test_synack_dropped_at_client, teardown),
		cmocka_unit_test(test_close_wait_leak),
		cmocka_unit_test(test_preexisting_close_wait),
		cmocka_unit_test(test_no_alert_for_healthy_burst),
		cmocka_unit_test(test_exec_hook),
		cmocka_unit_test(test_exec_hook_privileges_default),
		cmocka_unit_test(test_exec_hook_as_nobody),
	};
	FILE *f = fopen("/proc/self/comm", "r");

	if (!f || !fgets(my_comm, sizeof(my_comm), f))
		return 1;
	fclose(f);
	my_comm[strcspn(my_comm, "\n")] = 0;
	fd_home = open("/proc/self/ns/net", O_RDONLY);
	return cmocka_run_group_tests_name("itest_watch", tests, NULL, NULL);
}
