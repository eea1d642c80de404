// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm serve` in a fresh network namespace: its /metrics pass promtool and
 * our own histogram checks, a real Prometheus (Debian's, started here on
 * loopback, 1 s scrapes) scrapes it and answers a histogram_quantile query
 * and fires the project's CLOSE_WAIT rule on a leak this test makes; bad and
 * oversized requests get errors while tracing loses nothing. Without --log,
 * serve tracks lazily: 200 short connections reach userspace only as kernel
 * counts, the gauges match ss exactly, a leak still alerts with an exact age.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

#define LISTEN "127.0.0.1:19867"
#define PROM "127.0.0.1:19090"

static char tmpdir[] = "/tmp/tcpfsm-serve-XXXXXX";
static char body[1 << 20];

/* GET url with curl into body; the HTTP status. */
static int http_get(const char *url)
{
	char path[128], code[16];
	char *argv[] = { "/usr/bin/curl", "-s", "-g", "-o", path, "-w", "%{http_code}", (char *)url,
			 NULL };
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/body", tmpdir);
	if (run_capture(argv, code, sizeof(code), 0))
		return -1;
	f = fopen(path, "r");
	n = f ? fread(body, 1, sizeof(body) - 1, f) : 0;
	body[n] = 0;
	if (f)
		fclose(f);
	return atoi(code);
}

/* The value of the first sample line of metric{labels...} in text, or -1. */
static double sample(const char *text, const char *series)
{
	const char *p = strstr(text, series);

	while (p && p != text && p[-1] != '\n')
		p = strstr(p + 1, series);
	if (!p)
		return -1;
	return atof(p + strlen(series));
}

/* Every histogram: le increasing, counts non-decreasing, +Inf == _count; no
 * series twice. */
static void check_histograms(const char *text)
{
	char *copy = strdup(text), *line, *save = NULL;
	char seen[512][160];
	size_t nseen = 0;
	char cur[32] = "";
	double last_le = -1, last_count = -1, inf = -1;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char series[160], state[32], le[32];
		double v;

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%159s %lf", series, &v), 2);
		for (size_t i = 0; i < nseen; i++)
			assert_string_not_equal(seen[i], series);
		assert_true(nseen < 512);
		strcpy(seen[nseen++], series);
		if (sscanf(series, "tcpfsm_state_duration_seconds_bucket{state=\"%31[^\"]\",le=\"%31[^\"]\"}",
			   state, le) == 2) {
			if (strcmp(state, cur)) {
				strcpy(cur, state);
				last_le = -1;
				last_count = -1;
			}
			if (!strcmp(le, "+Inf")) {
				inf = v;
			} else {
				assert_true(atof(le) > last_le);
				last_le = atof(le);
			}
			assert_true(v >= last_count);
			last_count = v;
		} else if (sscanf(series, "tcpfsm_state_duration_seconds_count{state=\"%31[^\"]\"}",
				  state) == 1) {
			assert_string_equal(state, cur);
			assert_true(inf == v);
		}
	}
	free(copy);
}

static pid_t start_prometheus(void)
{
	char cfg[160], rules[160], data[160], cmd[512];
	pid_t pid;
	FILE *f;

	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", tmpdir);
	snprintf(rules, sizeof(rules), "%s/tcpfsm.rules.yml", tmpdir);
	snprintf(data, sizeof(data), "%s/data", tmpdir);
	/* the project's rules, with their `for:` cut to nothing for the test */
	snprintf(cmd, sizeof(cmd), "sed 's/^\\( *\\)for: .*/\\1for: 0s/' deploy/prometheus/tcpfsm.rules.yml > %s",
		 rules);
	assert_int_equal(system(cmd), 0);
	f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
		   "rule_files:\n  - %s\n"
		   "scrape_configs:\n  - job_name: tcpfsm\n    static_configs:\n"
		   "      - targets: [\"" LISTEN "\"]\n",
		rules);
	fclose(f);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char a1[200], a2[200];

		snprintf(a1, sizeof(a1), "--config.file=%s", cfg);
		snprintf(a2, sizeof(a2), "--storage.tsdb.path=%s", data);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl("/usr/bin/prometheus", "prometheus", a1, a2, "--web.listen-address=" PROM, NULL);
		_exit(127);
	}
	harness_track(pid, true);
	for (int i = 0; i < 300; i++) {
		if (http_get("http://" PROM "/-/ready") == 200)
			return pid;
		msleep(100);
	}
	fail_msg("prometheus did not become ready");
	return pid;
}

/* Poll a Prometheus query until its first result value satisfies ok(). */
static double prom_query(const char *query, bool (*ok)(double), unsigned int timeout_ms)
{
	char url[512], enc[400];
	size_t k = 0;
	double v = -1;

	for (const char *p = query; *p && k < sizeof(enc) - 4; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '.')
			enc[k++] = *p;
		else
			k += snprintf(enc + k, sizeof(enc) - k, "%%%02X", (unsigned char)*p);
	}
	enc[k] = 0;
	snprintf(url, sizeof(url), "http://" PROM "/api/v1/query?query=%s", enc);
	for (unsigned int waited = 0; waited <= timeout_ms; waited += 250) {
		json_object *o, *data, *res, *val;

		if (http_get(url) == 200 && (o = json_tokener_parse(body))) {
			if (json_object_object_get_ex(o, "data", &data) &&
			    json_object_object_get_ex(data, "result", &res) &&
			    json_object_array_length(res) > 0 &&
			    json_object_object_get_ex(json_object_array_get_idx(res, 0), "value", &val))
				v = atof(json_object_get_string(json_object_array_get_idx(val, 1)));
			json_object_put(o);
			if (v >= 0 && ok(v))
				return v;
		}
		msleep(250);
	}
	return v;
}

static bool positive(double v)
{
	return v > 0;
}

static bool one(double v)
{
	return v == 1;
}

/* Send raw bytes, return the status of the reply (0: closed without one). */
static int raw_request(const char *req, size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(19867),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;
	char reply[256] = "";
	struct timeval tv = { 5, 0 };
	ssize_t r;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	/* the server may hang up before taking it all: that is an answer too */
	(void)!send(fd, req, n, MSG_NOSIGNAL);
	r = recv(fd, reply, sizeof(reply) - 1, 0);
	if (r > 0) {
		reply[r] = 0;
		sscanf(reply, "HTTP/1.%*d %d", &status);
	}
	close(fd);
	return status;
}

static void test_serve(void **state)
{
	char logarg[176], logpath[160], rotated[160];
	const char *args[] = { "--listen", LISTEN, "--alert", "CLOSE_WAIT=1s", "--sweep", "200ms",
			       logarg, NULL };
	char *promtool[] = { "/bin/sh", "-c", NULL, NULL }, cmd[256], out[4096];
	struct tracer t;
	uint32_t ns;
	pid_t prom;
	double q, events_before;
	int lfd, sfd, idle[8];
	char *big;

	assert_non_null(mkdtemp(tmpdir));
	snprintf(logpath, sizeof(logpath), "%s/tcpfsm.json", tmpdir);
	snprintf(rotated, sizeof(rotated), "%s/tcpfsm.json.1", tmpdir);
	snprintf(logarg, sizeof(logarg), "--log=%s", logpath);
	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&t, "serve", ns, args), 0);
	lo_connections(20, 10);

	/* /metrics: promtool's lint, and our own histogram checks */
	assert_int_equal(http_get("http://" LISTEN "/metrics"), 200);
	assert_true(sample(body, "tcpfsm_state_duration_seconds_count{state=\"ESTABLISHED\"}") == 40);
	/* 20 of ours and curl's own connect for this very request */
	assert_true(sample(body, "tcpfsm_transitions_total{from=\"CLOSE\",to=\"SYN_SENT\"}") == 21);
	assert_true(sample(body, "tcpfsm_events_lost_total") == 0);
	check_histograms(body);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s/body", tmpdir);
	promtool[2] = cmd;
	if (run_capture(promtool, out, sizeof(out), 0))
		fail_msg("promtool check metrics: %s", out);
	assert_int_equal(http_get("http://" LISTEN "/healthz"), 200);
	assert_string_equal(body, "ok\n");

	/* a real Prometheus scrapes it and evaluates the project's rules */
	prom = start_prometheus();
	/*
	 * LISTEN: only our listener has left it (curl's and Prometheus' own
	 * connections add to every other state): it listened for the 20
	 * connections of 10 ms each, 200 ms and a little more, in the exported
	 * bucket (0.16777216, 0.67108864] which the quantile interpolates in.
	 */
	q = prom_query("histogram_quantile(0.5, sum by (le) "
		       "(tcpfsm_state_duration_seconds_bucket{state=\"LISTEN\"}))",
		       positive, 15000);
	if (!(q > 0.16777216 && q <= 0.67108864))
		fail_msg("histogram_quantile gave %f", q);

	/* a CLOSE_WAIT leak: the gauge, the alert rule, /connections */
	sfd = lo_close_wait(&lfd, NULL);
	assert_true(prom_query("tcpfsm_stuck_connections{state=\"CLOSE_WAIT\"}", one, 15000) == 1);
	assert_true(prom_query("count(ALERTS{alertname=\"TcpfsmCloseWaitLeak\",alertstate=\"firing\"})",
			       one, 15000) == 1);
	assert_int_equal(http_get("http://" LISTEN "/connections?state=close-wait"), 200);
	assert_non_null(strstr(body, "\"state\":\"CLOSE_WAIT\""));
	assert_non_null(strstr(body, "\"alert\":true"));
	assert_int_equal(http_get("http://" LISTEN "/connections?state=BOGUS"), 400);
	close(sfd);
	close(lfd);

	/* bad and hostile requests */
	assert_int_equal(http_get("http://" LISTEN "/nope"), 404);
	assert_int_equal(raw_request("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 38), 405);
	{
		/* a broken request line: refused or hung up on, never served */
		int st = raw_request("GARBAGE\r\n\r\n", 11);

		assert_true(st == 0 || st / 100 == 4);
	}
	big = malloc(70000);
	assert_non_null(big);
	memcpy(big, "GET /metrics HTTP/1.1\r\nX-Big: ", 30);
	memset(big + 30, 'a', 70000 - 34);
	memcpy(big + 70000 - 4, "\r\n\r\n", 4);
	{
		int st = raw_request(big, 70000);

		/* refused (431/413/400) or cut off: never served, never stuck */
		assert_true(st == 0 || st / 100 == 4);
	}
	free(big);
	/* slow clients that never finish their request */
	for (int i = 0; i < 8; i++) {
		struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(19867),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		idle[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(idle[i], (struct sockaddr *)&s, sizeof(s)), 0);
		assert_int_equal(send(idle[i], "GET /met", 8, 0), 8);
	}
	assert_int_equal(http_get("http://" LISTEN "/metrics"), 200);
	events_before = sample(body, "tcpfsm_events_total");
	lo_connections(100, 0);
	assert_int_equal(http_get("http://" LISTEN "/metrics"), 200);
	/* 100 connections, 10 transitions each (and the scrapes' own), none lost */
	assert_true(sample(body, "tcpfsm_events_total") - events_before >= 1000);
	assert_true(sample(body, "tcpfsm_events_lost_total") == 0);
	for (int i = 0; i < 8; i++)
		close(idle[i]);

	kill(prom, SIGTERM);
	waitpid(prom, NULL, 0);
	harness_track(prom, false);

	/* --log: histories and alerts as JSON lines; SIGHUP reopens it */
	msleep(200);
	assert_int_equal(rename(logpath, rotated), 0);
	kill(t.pid, SIGHUP);
	msleep(300);
	lo_connections(1, 0);
	msleep(300);
	{
		FILE *f = fopen(rotated, "r");
		char line[4096];
		int conns = 0, alerts = 0;

		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			json_object *o = json_tokener_parse(line);

			assert_non_null(o);
			conns += !strcmp(ev_str(o, "type"), "connection");
			alerts += !strcmp(ev_str(o, "type"), "alert");
			json_object_put(o);
		}
		fclose(f);
		/* 20 + 100 of ours (2 sockets each) and the leak, and its alerts */
		assert_true(conns >= 240);
		assert_true(alerts >= 2);
		f = fopen(logpath, "r");
		assert_non_null(f); /* reopened: the new connection went here */
		assert_non_null(fgets(line, sizeof(line), f));
		assert_non_null(strstr(line, "\"type\":\"connection\""));
		fclose(f);
	}
	assert_int_equal(tracer_stop(&t), 0);
	assert_non_null(strstr(t.err_text, " 0 lost"));
	/* --log needs every connection: no lazy tracking */
	assert_null(strstr(t.err_text, "sent to userspace"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	assert_int_equal(system(cmd), 0);
	tracer_free(&t);
}

/* Sockets of this network namespace by state, as ss sees them (timewait
 * sockets by their substate, as tcpfsm counts them too). */
struct ss_counts {
	int listen, syn_sent, syn_recv, established, fin_wait1, fin_wait2, closing, time_wait,
		close_wait, last_ack, other;
};

static void ss_count(struct ss_counts *c)
{
	char *argv[] = { "/bin/sh", "-c", "ss -Htan | awk '{print $1}' | sort | uniq -c", NULL };
	const struct {
		const char *name;
		size_t off;
	} names[] = {
		{ "LISTEN", offsetof(struct ss_counts, listen) },
		{ "SYN-SENT", offsetof(struct ss_counts, syn_sent) },
		{ "SYN-RECV", offsetof(struct ss_counts, syn_recv) },
		{ "ESTAB", offsetof(struct ss_counts, established) },
		{ "FIN-WAIT-1", offsetof(struct ss_counts, fin_wait1) },
		{ "FIN-WAIT-2", offsetof(struct ss_counts, fin_wait2) },
		{ "CLOSING", offsetof(struct ss_counts, closing) },
		{ "TIME-WAIT", offsetof(struct ss_counts, time_wait) },
		{ "CLOSE-WAIT", offsetof(struct ss_counts, close_wait) },
		{ "LAST-ACK", offsetof(struct ss_counts, last_ack) },
	};
	char out[4096], *line, *save = NULL;

	memset(c, 0, sizeof(*c));
	assert_int_equal(run_capture(argv, out, sizeof(out), 0), 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t off = offsetof(struct ss_counts, other);
		char name[32];
		int n;

		assert_int_equal(sscanf(line, "%d %31s", &n, name), 2);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(name, names[i].name))
				off = names[i].off;
		*(int *)((char *)c + off) += n;
	}
}

/* Wait until the loopback closes have settled: nothing in a transient
 * state, only our leak in CLOSE_WAIT and our connection ESTABLISHED (a
 * finished request's server end may linger in CLOSE_WAIT a moment). */
static void settle(struct ss_counts *c)
{
	for (int waited = 0;; waited += 50) {
		ss_count(c);
		if (c->close_wait == 1 && c->established == 2 && !c->syn_sent && !c->syn_recv &&
		    !c->fin_wait1 && !c->last_ack && !c->closing) {
			/* and tcpfsm has had the last closes: its events reach
			 * userspace within about 60 ms (50 ms polls, 10 ms
			 * reordering), /connections lists from them */
			msleep(200);
			return;
		}
		if (waited > 5000)
			fail_msg("ss never settled: %d CLOSE-WAIT, %d ESTAB, %d LAST-ACK",
				 c->close_wait, c->established, c->last_ack);
		msleep(50);
	}
}

/* tcpfsm_connections{state="STATE"} in body, or -1 */
static double gauge(const char *state)
{
	char series[80];

	snprintf(series, sizeof(series), "tcpfsm_connections{state=\"%s\"}", state);
	return sample(body, series);
}

/* The sum of every tcpfsm_transitions_total series in body. */
static double transitions_sum(void)
{
	const char *name = "tcpfsm_transitions_total{";
	double sum = 0;

	for (const char *p = strstr(body, name); p; p = strstr(p + 1, name))
		if (p == body || p[-1] == '\n')
			sum += atof(strchr(p, ' ') + 1);
	return sum;
}

/* The lazy exit line: transitions the kernel counted, lost, and how many
 * of them reached userspace (the tracked sockets'). */
static void lazy_summary(const char *err, unsigned long long *events, unsigned long long *lost,
			 unsigned long long *sent)
{
	const char *line = strstr(err, " of them sent to userspace");

	if (!line)
		fail_msg("no lazy summary: %s", err);
	while (line > err && line[-1] != '\n')
		line--;
	if (sscanf(line, "tcpfsm: %llu events, %llu lost (%llu of them", events, lost, sent) != 3)
		fail_msg("cannot read the lazy summary: %s", line);
}

#define SHORT_CONNS 200

/*
 * serve without --log tracks lazily: the kernel sends a socket's transitions
 * only once the sweep found it in one state for a while. 200 short
 * connections cost it histograms and counters only; a CLOSE_WAIT leak is
 * still taken up, alerts with an exact age and is listed; the gauges come
 * from the kernel's sweep and match ss exactly.
 */
static void test_serve_lazy(void **state)
{
	const char *args[] = { "--listen", LISTEN, "--alert", "CLOSE_WAIT=1s", "--sweep", "200ms",
			       NULL };
	unsigned long long events, lost, sent;
	int lfd, cw_s, est_c, est_s;
	uint16_t port;
	struct ss_counts c;
	struct tracer t;
	char cmd[64];
	uint32_t ns;
	json_object *o, *list, *conn;

	strcpy(tmpdir, "/tmp/tcpfsm-serve-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&t, "serve", ns, args), 0);

	/* 200 short connections: connect, accept, the client closes first
	 * (its end stays in TIME_WAIT), the server closes */
	lo_connections(SHORT_CONNS, 0);
	/* a leak: the client closed, the server never does (CLOSE_WAIT; the
	 * orphaned client a timewait socket in FIN_WAIT2); and one connection
	 * kept open (both ends ESTABLISHED) */
	cw_s = lo_close_wait(&lfd, &port);
	est_c = lo_connect(AF_INET, port);
	est_s = accept(lfd, NULL, NULL);
	assert_true(est_s >= 0);

	/* the leak is taken up by a sweep (after 0.5 s, half the threshold)
	 * with the time it entered CLOSE_WAIT: its alert's age is exact */
	if (tracer_wait_output(&t, "\"status\":\"firing\"", 10000))
		fail_msg("no CLOSE_WAIT alert");

	/* once the loopback closes have settled, the gauges count what ss
	 * counts: they are the engine's last tracking sweep's (every --sweep,
	 * 200 ms here, as long as a sweep is cheap), so wait for one more */
	settle(&c);
	assert_int_equal(c.time_wait, SHORT_CONNS); /* the short clients */
	assert_int_equal(c.fin_wait2, 1);	    /* the leak's client */
	assert_int_equal(c.listen, 2);		    /* ours and serve's */
	assert_int_equal(c.other, 0);
	msleep(600);
	assert_int_equal(http_get("http://" LISTEN "/metrics"), 200);
	assert_true(gauge("CLOSE_WAIT") == 1);
	/* ours; the scrape's own connection (both ends) only if a sweep ran
	 * while it was open */
	if (gauge("ESTABLISHED") != 2 && gauge("ESTABLISHED") != 2 + 2)
		fail_msg("ESTABLISHED %.0f", gauge("ESTABLISHED"));
	assert_true(gauge("TIME_WAIT") == c.time_wait);
	assert_true(gauge("FIN_WAIT2") == 1);
	assert_true(gauge("LISTEN") == 2);
	assert_true(gauge("SYN_SENT") == 0);
	assert_true(gauge("SYN_RECV") == 0);
	assert_true(gauge("FIN_WAIT1") == 0);
	assert_true(gauge("LAST_ACK") == 0);
	assert_true(gauge("CLOSING") == 0);
	assert_true(sample(body, "tcpfsm_stuck_connections{state=\"CLOSE_WAIT\"}") == 1);
	/* the transitions, all of them, from the kernel's counters: ours
	 * (200 + 2 connections) and this scrape's own connect */
	assert_true(sample(body, "tcpfsm_transitions_total{from=\"CLOSE\",to=\"SYN_SENT\"}") ==
		    SHORT_CONNS + 2 + 1);
	assert_true(sample(body, "tcpfsm_transitions_total{from=\"LISTEN\",to=\"SYN_RECV\"}") ==
		    SHORT_CONNS + 2 + 1);
	assert_true(sample(body, "tcpfsm_transitions_total{from=\"SYN_RECV\",to=\"ESTABLISHED\"}") ==
		    SHORT_CONNS + 2 + 1);
	assert_true(sample(body, "tcpfsm_transitions_total{from=\"ESTABLISHED\",to=\"FIN_WAIT1\"}") ==
		    SHORT_CONNS + 1);
	assert_true(sample(body, "tcpfsm_transitions_total{from=\"ESTABLISHED\",to=\"CLOSE_WAIT\"}") ==
		    SHORT_CONNS + 1);
	assert_true(sample(body, "tcpfsm_transitions_total{from=\"CLOSE_WAIT\",to=\"LAST_ACK\"}") ==
		    SHORT_CONNS);
	assert_true(sample(body, "tcpfsm_transitions_total{from=\"LAST_ACK\",to=\"CLOSE\"}") ==
		    SHORT_CONNS);
	/* the short clients and the leak's: FIN_WAIT2 -> CLOSE as their
	 * timewait sockets take over */
	assert_true(sample(body, "tcpfsm_transitions_total{from=\"FIN_WAIT2\",to=\"CLOSE\"}") ==
		    SHORT_CONNS + 1);
	assert_true(transitions_sum() == sample(body, "tcpfsm_events_total"));
	assert_true(sample(body, "tcpfsm_events_total") >= SHORT_CONNS * 10);
	assert_true(sample(body, "tcpfsm_events_lost_total") == 0);

	/* /connections: the leak, with the exact time it entered CLOSE_WAIT */
	settle(&c);
	assert_int_equal(http_get("http://" LISTEN "/connections?state=CLOSE_WAIT"), 200);
	o = json_tokener_parse(body);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "connections", &list));
	assert_int_equal(json_object_array_length(list), 1);
	conn = json_object_array_get_idx(list, 0);
	assert_int_equal(ev_int(conn, "sport"), port);
	assert_string_equal(ev_str(conn, "state"), "CLOSE_WAIT");
	assert_false(json_object_get_boolean(json_object_object_get(conn, "age_at_least")));
	assert_true(ev_int(conn, "age_ns") >= 1000000000LL);
	assert_int_equal(ev_int(conn, "pid"), getpid());
	assert_true(json_object_get_boolean(json_object_object_get(conn, "alert")));
	json_object_put(o);
	/* the sockets the engine tracks: our connection kept open (both
	 * ends, older than the tracking delay); not the request's own, which
	 * a request does not track */
	settle(&c);
	assert_int_equal(http_get("http://" LISTEN "/connections?state=ESTABLISHED"), 200);
	o = json_tokener_parse(body);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "connections", &list));
	assert_int_equal(json_object_array_length(list), 2);
	json_object_put(o);

	close(est_c);
	close(est_s);
	close(cw_s);
	close(lfd);
	msleep(300);
	assert_int_equal(tracer_stop(&t), 0);
	/* the alert (firing, then resolved as the leak closed): exact ages */
	{
		int firing = 0, resolved = 0;

		for (size_t i = 0; i < t.n_events; i++) {
			json_object *e = t.events[i];

			if (strcmp(ev_str(e, "type"), "alert") || strcmp(ev_str(e, "state"), "CLOSE_WAIT"))
				continue;
			assert_int_equal(ev_int(e, "sport"), port);
			assert_false(json_object_get_boolean(json_object_object_get(e, "age_at_least")));
			firing += !strcmp(ev_str(e, "status"), "firing");
			resolved += !strcmp(ev_str(e, "status"), "resolved");
		}
		assert_int_equal(firing, 1);
		assert_int_equal(resolved, 1);
	}
	/* the exit summary: the kernel counted every transition, userspace
	 * got only the tracked sockets' */
	lazy_summary(t.err_text, &events, &lost, &sent);
	print_message("lazy: the kernel counted %llu events, sent %llu\n", events, sent);
	assert_int_equal(lost, 0);
	assert_true(events >= SHORT_CONNS * 10);
	if (!(sent > 0 && sent < events / 10))
		fail_msg("lazy mode sent %llu of %llu events", sent, events);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	assert_int_equal(system(cmd), 0);
	tracer_free(&t);
}

static void rm_tmpdir(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	assert_int_equal(system(cmd), 0);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* A listener on loopback and n connections to it, kept open. */
static int open_pairs(int n, int *c, int *sv, uint16_t *port)
{
	int lfd = lo_listen(AF_INET, port);

	for (int i = 0; i < n; i++) {
		c[i] = lo_connect(AF_INET, *port);
		sv[i] = accept(lfd, NULL, NULL);
		assert_true(sv[i] >= 0);
	}
	return lfd;
}

#define PAIRS 5

/*
 * The endpoints only read. With --sweep 10s the engine's tracking sweeps
 * run at the start and 10 s later; sockets made in between and older than
 * the tracking delay (1 s) would be taken up by any sweep. Scrapes of
 * /metrics and /connections take up none: /connections does not list
 * them, tcpfsm_connections is still the start's count, and when they close
 * none of their transitions reach userspace.
 */
static void test_serve_endpoints_read_only(void **state)
{
	const char *args[] = { "--listen", LISTEN, "--sweep", "10s", NULL };
	int c[PAIRS], sv[PAIRS], lfd;
	unsigned long long events, lost, sent;
	char needle[32];
	struct tracer t;
	uint64_t t0;
	uint16_t port;
	uint32_t ns;

	strcpy(tmpdir, "/tmp/tcpfsm-serve-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&t, "serve", ns, args), 0);
	t0 = mono_ms();
	/* the start's sweep (at the first tick of the loop) before ours */
	msleep(300);
	lfd = open_pairs(PAIRS, c, sv, &port);
	msleep(1200);
	snprintf(needle, sizeof(needle), "\"sport\":%u,", port);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(http_get("http://" LISTEN "/metrics"), 200);
		/* the start's sweep saw no connection */
		if (gauge("ESTABLISHED") != 0)
			fail_msg("a scrape swept: ESTABLISHED %.0f", gauge("ESTABLISHED"));
		assert_int_equal(http_get("http://" LISTEN "/connections"), 200);
		if (strstr(body, needle) || strstr(body, "\"state\":\"ESTABLISHED\""))
			fail_msg("a request tracked sockets: %s", body);
		assert_int_equal(http_get("http://" LISTEN "/connections?state=ESTABLISHED"), 200);
		assert_non_null(strstr(body, "\"count\":0,"));
	}
	for (int i = 0; i < PAIRS; i++) {
		close(c[i]);
		close(sv[i]);
	}
	close(lfd);
	msleep(300);
	if (mono_ms() - t0 > 8000) {
		/* the engine's own sweep 10 s in would take them up */
		tracer_stop(&t);
		tracer_free(&t);
		print_message("too slow to tell (%llu ms): skipped\n",
			      (unsigned long long)(mono_ms() - t0));
		skip();
	}
	assert_int_equal(tracer_stop(&t), 0);
	lazy_summary(t.err_text, &events, &lost, &sent);
	/* every close counted by the kernel, none sent */
	assert_true(events >= PAIRS * 6);
	assert_int_equal(sent, 0);
	rm_tmpdir();
	tracer_free(&t);
}

/* A second serve on the same address fails (it used to start, and the
 * kernel split the scrapes between the two); the first keeps serving. */
static void test_serve_port_in_use(void **state)
{
	const char *args[] = { "--listen", LISTEN, NULL };
	char nsarg[16], out[4096];
	char *argv[] = { (char *)tcpfsm_path(), "serve", "--netns", nsarg, "--listen", LISTEN,
			 "-d", "2", NULL };
	struct tracer t;
	uint32_t ns;

	strcpy(tmpdir, "/tmp/tcpfsm-serve-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(netns_enter_new(&ns), 0);
	snprintf(nsarg, sizeof(nsarg), "%u", ns);
	assert_int_equal(tracer_start_cmd(&t, "serve", ns, args), 0);
	assert_int_equal(run_capture(argv, out, sizeof(out), 0), 1);
	if (!strstr(out, "tcpfsm: --listen: cannot listen on " LISTEN ": address in use"))
		fail_msg("second serve said: %s", out);
	for (int i = 0; i < 5; i++)
		assert_int_equal(http_get("http://" LISTEN "/healthz"), 200);
	assert_int_equal(tracer_stop(&t), 0);
	rm_tmpdir();
	tracer_free(&t);
}

/* --listen [::]:PORT takes both families. */
static void test_serve_dual_stack(void **state)
{
	const char *args[] = { "--listen", "[::]:19868", NULL };
	struct tracer t;
	uint32_t ns;

	strcpy(tmpdir, "/tmp/tcpfsm-serve-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&t, "serve", ns, args), 0);
	assert_int_equal(http_get("http://127.0.0.1:19868/healthz"), 200);
	assert_int_equal(http_get("http://[::1]:19868/healthz"), 200);
	assert_int_equal(http_get("http://127.0.0.1:19868/metrics"), 200);
	assert_int_equal(tracer_stop(&t), 0);
	rm_tmpdir();
	tracer_free(&t);
}

/* A --log that cannot be written: said once, the lost lines counted. */
static void test_serve_log_unwritable(void **state)
{
	const char *args[] = { "--listen", LISTEN, "--log", "/dev/full", NULL };
	unsigned long long lost = 0;
	const char *p;
	struct tracer t;
	uint32_t ns;
	int said = 0;

	strcpy(tmpdir, "/tmp/tcpfsm-serve-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&t, "serve", ns, args), 0);
	lo_connections(5, 0);
	msleep(300);
	lo_connections(5, 0);
	msleep(300);
	assert_int_equal(tracer_stop(&t), 0);
	for (p = t.err_text; (p = strstr(p, "--log /dev/full: cannot write: No space left on device"));
	     p++)
		said++;
	if (said != 1)
		fail_msg("said %d times: %s", said, t.err_text);
	p = strstr(t.err_text, "tcpfsm: warning: --log /dev/full: ");
	while (p && sscanf(p, "tcpfsm: warning: --log /dev/full: %llu lines lost", &lost) != 1)
		p = strstr(p + 1, "tcpfsm: warning: --log /dev/full: ");
	/* 10 connections of ours, 2 sockets each */
	if (lost < 20)
		fail_msg("%llu lines lost: %s", lost, t.err_text);
	rm_tmpdir();
	tracer_free(&t);
}

/* A start that fails after the engine's parts exist frees them all (the
 * sanitizer pass reports any leak), with exit status 1 and one message. */
static void test_serve_failed_start(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(19869),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char logarg[96], out[8192];
	char *bad_log[] = { (char *)tcpfsm_path(), "serve", "--listen", "127.0.0.1:19869",
			    "--log", "/nonexistent/dir/tcpfsm.json", NULL };
	char *busy[] = { (char *)tcpfsm_path(), "serve", "--listen", "127.0.0.1:19869",
			 "--alert-exec", "/bin/true", logarg, NULL };
	uint32_t ns;
	int fd;

	strcpy(tmpdir, "/tmp/tcpfsm-serve-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(logarg, sizeof(logarg), "--log=%s/log", tmpdir);
	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(run_capture(bad_log, out, sizeof(out), 0), 1);
	assert_non_null(strstr(out, "tcpfsm: cannot open --log /nonexistent/dir/tcpfsm.json: No "
				    "such file or directory"));
	assert_null(strstr(out, "LeakSanitizer"));
	/* the port taken by someone else: after the log and the hooks */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(run_capture(busy, out, sizeof(out), 0), 1);
	assert_non_null(strstr(out, "tcpfsm: --listen: cannot listen on 127.0.0.1:19869: address "
				    "in use (another tcpfsm serve?)\n"));
	assert_null(strstr(out, "LeakSanitizer"));
	close(fd);
	rm_tmpdir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_serve_lazy),
		cmocka_unit_test(test_serve_endpoints_read_only),
		cmocka_unit_test(test_serve_port_in_use),
		cmocka_unit_test(test_serve_dual_stack),
		cmocka_unit_test(test_serve_log_unwritable),
		cmocka_unit_test(test_serve_failed_start),
	};

	return cmocka_run_group_tests_name("itest_serve", tests, NULL, NULL);
}
