// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

/* Children still running when the test binary exits (a failed assertion
 * skips the test's own cleanup) are killed: nothing is left behind. */
static pid_t kids[64];

static void kill_kids(void)
{
	for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
}

void harness_track(pid_t pid, bool on)
{
	static bool registered;

	if (!registered) {
		atexit(kill_kids);
		registered = true;
	}
	for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
		if (on && kids[i] <= 0) {
			kids[i] = pid;
			return;
		}
		if (!on && kids[i] == pid) {
			kids[i] = 0;
			return;
		}
	}
}

void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

socklen_t lo_addr(int family, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(port);
	a6->sin6_addr = in6addr_loopback;
	return sizeof(*a6);
}

uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
					       ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int lo_listen(int family, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = lo_addr(family, 0, &ss);
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 64), 0);
	if (port)
		*port = local_port(fd);
	return fd;
}

int lo_connect(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = lo_addr(family, port, &ss);
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

int lo_close_wait(int *lfd, uint16_t *port)
{
	uint16_t p;
	int cfd, sfd;

	*lfd = lo_listen(AF_INET, &p);
	cfd = lo_connect(AF_INET, p);
	sfd = accept(*lfd, NULL, NULL);
	assert_true(sfd >= 0);
	close(cfd);
	if (port)
		*port = p;
	return sfd;
}

uint16_t lo_connections(int n, unsigned int sleep_ms)
{
	uint16_t port;
	int lfd = lo_listen(AF_INET, &port);
	char buf[4];

	for (int i = 0; i < n; i++) {
		int cfd = lo_connect(AF_INET, port);
		int sfd = accept(lfd, NULL, NULL); /* both ends ESTABLISHED by now */

		assert_true(sfd >= 0);
		if (sleep_ms)
			msleep(sleep_ms);
		close(cfd);
		assert_int_equal(recv(sfd, buf, sizeof(buf), 0), 0);
		close(sfd);
	}
	close(lfd);
	msleep(100); /* the last ACKs */
	return port;
}

int netns_enter_new(uint32_t *inode)
{
	struct ifreq ifr = {};
	struct stat st;
	int fd, err = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	if (stat("/proc/self/ns/net", &st))
		return -errno;
	*inode = st.st_ino;
	return 0;
}

const char *tcpfsm_path(void)
{
	const char *p = getenv("TCPFSM");

	return p && *p ? p : "build/tcpfsm";
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

int tracer_start(struct tracer *t, uint32_t netns, const char *const *extra)
{
	return tracer_start_cmd(t, "trace", netns, extra);
}

static int start(struct tracer *t, const char *cmd, uint32_t netns, const char *const *extra,
		 bool quiet)
{
	static unsigned int seq;
	bool raw = !strcmp(cmd, "top");
	char ns[32];
	const char *argv[32];
	int n = 0, i;

	memset(t, 0, sizeof(*t));
	t->raw = raw;
	t->quiet = quiet;
	seq++;
	snprintf(t->out_path, sizeof(t->out_path), "/tmp/tcpfsm-itest-%d-%u.out", getpid(), seq);
	snprintf(t->err_path, sizeof(t->err_path), "/tmp/tcpfsm-itest-%d-%u.err", getpid(), seq);
	snprintf(ns, sizeof(ns), "%u", netns);
	argv[n++] = tcpfsm_path();
	argv[n++] = cmd;
	/* record writes a binary file, top a screen: no --json there */
	if (strcmp(cmd, "record") && strcmp(cmd, "top"))
		argv[n++] = "--json";
	argv[n++] = "--netns";
	argv[n++] = ns;
	for (i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (t->pid == 0) {
		int o = open(quiet ? "/dev/null" : t->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(t->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0)
			_exit(127);
		dup2(o, 1);
		dup2(e, 2);
		/* the test's sockets must not live on in tcpfsm */
		close_range(3, ~0U, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	harness_track(t->pid, true);
	/* ready once it says so on stderr (after attach) */
	for (i = 0; i < 3000; i++) {
		char *err = slurp(t->err_path, NULL);
		int status;
		bool ready = err && strstr(err, "tracing TCP state transitions");

		free(err);
		if (ready)
			return 0;
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = 0;
			err = slurp(t->err_path, NULL);
			fprintf(stderr, "tcpfsm exited early: %s\n", err ? err : "?");
			free(err);
			return -ECHILD;
		}
		msleep(10);
	}
	return -ETIMEDOUT;
}

int tracer_start_cmd(struct tracer *t, const char *cmd, uint32_t netns, const char *const *extra)
{
	return start(t, cmd, netns, extra, false);
}

int tracer_start_quiet(struct tracer *t, const char *cmd, uint32_t netns, const char *const *extra)
{
	return start(t, cmd, netns, extra, true);
}

int tracer_wait_output(struct tracer *t, const char *needle, unsigned int timeout_ms)
{
	for (unsigned int waited = 0; waited <= timeout_ms; waited += 20) {
		char *out = slurp(t->out_path, NULL);
		bool found = out && strstr(out, needle);

		free(out);
		if (found)
			return 0;
		msleep(20);
	}
	/* what it did say, for whoever reads the failure */
	{
		char *out = slurp(t->out_path, NULL), *err = slurp(t->err_path, NULL);
		size_t n = out ? strlen(out) : 0;

		fprintf(stderr, "no \"%s\" after %u ms; tcpfsm's stdout (last 2000 bytes):\n%s\n"
				"its stderr:\n%s\n",
			needle, timeout_ms, out ? out + (n > 2000 ? n - 2000 : 0) : "(none)",
			err ? err : "(none)");
		free(out);
		free(err);
	}
	return -ETIMEDOUT;
}

int tracer_stop(struct tracer *t)
{
	int status = 0;
	char *out, *line, *save = NULL;

	if (t->pid > 0) {
		kill(t->pid, SIGINT);
		if (waitpid(t->pid, &status, 0) < 0)
			return -errno;
		harness_track(t->pid, false);
		t->pid = 0;
	}
	t->err_text = slurp(t->err_path, NULL);
	unlink(t->err_path);
	if (t->quiet)
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	out = slurp(t->out_path, NULL);
	unlink(t->out_path);
	if (!out)
		return -EIO;
	if (t->raw) {
		t->out_text = out;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);

		if (!o) {
			fprintf(stderr, "not JSON: %s\n", line);
			free(out);
			return -EBADMSG;
		}
		t->events = realloc(t->events, (t->n_events + 1) * sizeof(*t->events));
		t->events[t->n_events++] = o;
	}
	free(out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void tracer_free(struct tracer *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		harness_track(t->pid, false);
		if (!t->quiet)
			unlink(t->out_path);
		unlink(t->err_path);
	}
	for (size_t i = 0; i < t->n_events; i++)
		json_object_put(t->events[i]);
	free(t->events);
	free(t->err_text);
	free(t->out_text);
	memset(t, 0, sizeof(*t));
}

int run_capture(char *const argv[], char *out, size_t len, uid_t as_uid)
{
	int p[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(p))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close_range(3, ~0U, 0);
		if (as_uid && (setgid(as_uid) || setuid(as_uid)))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while (len && (r = read(p[0], out + n, len - 1 - n)) > 0)
		n += r;
	if (len)
		out[n] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *ev_str(json_object *ev, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

int64_t ev_int(json_object *ev, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) || !v)
		return -1;
	return json_object_get_int64(v);
}

bool ev_is_null(json_object *ev, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(ev, key, &v) && !v;
}

static uint64_t ev_cookie(json_object *ev)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, "cookie", &v) || !v)
		return 0;
	return json_object_get_uint64(v);
}

size_t events_of(const struct tracer *t, uint64_t cookie, json_object **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_events && n < max; i++)
		if (ev_cookie(t->events[i]) == cookie)
			out[n++] = t->events[i];
	return n;
}

uint64_t find_cookie(const struct tracer *t, const char *old, const char *new)
{
	for (size_t i = 0; i < t->n_events; i++) {
		const char *o = ev_str(t->events[i], "old"), *n = ev_str(t->events[i], "new");

		if ((!old || (o && !strcmp(o, old))) && n && !strcmp(n, new))
			return ev_cookie(t->events[i]);
	}
	return 0;
}

void path_of(json_object **evs, size_t n, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && pos < len; i++) {
		if (i == 0)
			pos += snprintf(buf + pos, len - pos, "%s", ev_str(evs[i], "old"));
		if (pos < len)
			pos += snprintf(buf + pos, len - pos, ">%s", ev_str(evs[i], "new"));
	}
}

size_t distinct_cookies(const struct tracer *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_events; i++) {
		uint64_t c = ev_cookie(t->events[i]);
		size_t j;

		for (j = 0; j < i; j++)
			if (ev_cookie(t->events[j]) == c)
				break;
		if (j == i)
			n++;
	}
	return n;
}
