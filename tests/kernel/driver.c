// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The test driver of `make kernel-test`: runs inside a qemu guest booted on
 * another kernel (Debian 12's 6.1) from a minimal initramfs, next to a static
 * tcpfsm. Self-contained (no cmocka, no test harness; json-c linked
 * statically): each check prints one "PASS name" or "FAIL name: why" line and
 * the last line is "N passed, N failed", which run.sh reads from the serial
 * console.
 *
 * The traffic checks follow tests/integration/itest_trace.c, itest_history.c
 * and itest_hist.c: a fresh network namespace per check, tcpfsm filtered to
 * it with --netns, a loopback connection made with plain sockets, the exact
 * transition sequence of every socket compared. Beyond those it looks at
 * what only differs between kernels: the tp_btf and classic tracepoint
 * paths, the iter/tcp startup snapshot, tracefs mounted by tcpfsm itself,
 * softirq tracking, and whether the per-CPU ring buffers (BPF ring buffers as
 * inner maps of an ARRAY_OF_MAPS) really carry the events.
 *
 * Usage: driver [TCPFSM]   (default /bin/tcpfsm)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EV 64
/* BPF verification under software emulation is slow: generous start-up */
#define START_TIMEOUT_MS 120000
/* after the last close(): let the final ACKs land */
#define SETTLE_MS 300

static const char *tcpfsm = "/bin/tcpfsm";
static char my_comm[16];
static int passed, failed;

/* ---- results ---------------------------------------------------------- */

static void report(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		printf("PASS %s\n", name);
	} else {
		failed++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

/* Print the last `max` bytes of text, indented, as evidence. */
static void show(const char *what, const char *text, size_t max)
{
	size_t len = text ? strlen(text) : 0;
	const char *p = text;

	if (!len)
		return;
	if (len > max)
		p = text + len - max;
	printf("----- %s%s -----\n%s%s----- end of %s -----\n", what, len > max ? " (tail)" : "", p,
	       p[strlen(p) - 1] == '\n' ? "" : "\n", what);
	fflush(stdout);
}

/*
 * The log of a `tcpfsm -v` run that failed: in full the first time (it holds
 * libbpf's and the verifier's log), afterwards only each rejected program's
 * last verifier lines and libbpf's verdict.
 */
static void show_verbose(const char *text)
{
	static bool shown_full;
	const char *p;

	if (!text || !*text)
		return;
	if (!shown_full) {
		shown_full = true;
		show("tcpfsm -v stderr", text, 1 << 20);
		return;
	}
	printf("----- tcpfsm -v stderr (verdicts; the full log is shown above) -----\n");
	for (p = text; (p = strstr(p, "-- END PROG LOAD LOG --")); p++) {
		/* the three lines before the end marker */
		const char *q = p;

		for (int lines = 0; q > text && lines < 4; q--)
			if (q[-1] == '\n')
				lines++;
		printf("%.*s", (int)(p - q), q);
	}
	for (p = text; (p = strstr(p, "libbpf: prog '")); p++) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		if (memmem(p, len, "failed to load", 14))
			printf("%.*s\n", len, p);
	}
	for (p = text; (p = strstr(p, "tcpfsm: ")); p++) {
		const char *nl = strchr(p, '\n');

		printf("%.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
	}
	printf("----- end -----\n");
	fflush(stdout);
}

/* A check that failed records why in `why` and returns false. */
static char why[1024];

#define CHECK(cond, ...)                                         \
	do {                                                     \
		if (!(cond)) {                                   \
			snprintf(why, sizeof(why), __VA_ARGS__); \
			return false;                            \
		}                                                \
	} while (0)

/* ---- small utilities ------------------------------------------------- */

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static char *slurp(const char *path)
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
			if (!buf)
				abort();
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static int netns_enter_new(uint32_t *inode)
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

/* ---- sockets --------------------------------------------------------- */

static socklen_t mkaddr(int family, uint16_t port, struct sockaddr_storage *ss)
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

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
					       ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int listen_on(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(family, 0, &ss);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(family, port, &ss);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct exchange {
	uint16_t server_port, client_port;
};

/* One connection, both ends in this process: listen, connect, accept,
 * exchange, the client closes first. */
static bool exchange_local(int family, struct exchange *x)
{
	int lfd = listen_on(family), cfd = -1, sfd = -1;
	char buf[8];
	bool ok = false;

	if (lfd < 0)
		return false;
	x->server_port = local_port(lfd);
	cfd = connect_to(family, x->server_port);
	if (cfd < 0)
		goto out;
	x->client_port = local_port(cfd);
	sfd = accept(lfd, NULL, NULL);
	if (sfd < 0 || send(cfd, "ping", 4, 0) != 4 || recv(sfd, buf, sizeof(buf), 0) != 4)
		goto out;
	close(cfd);
	cfd = -1;
	if (recv(sfd, buf, sizeof(buf), 0) != 0)
		goto out;
	ok = true;
out:
	if (cfd >= 0)
		close(cfd);
	if (sfd >= 0)
		close(sfd);
	close(lfd);
	msleep(SETTLE_MS);
	return ok;
}

/* ---- the tracer under test ------------------------------------------ */

struct tracer {
	pid_t pid;
	int status;
	char out_path[64], err_path[64];
	json_object *ev[512];
	size_t n;
	char *err_text;
};

static void tracer_free(struct tracer *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
	}
	for (size_t i = 0; i < t->n; i++)
		json_object_put(t->ev[i]);
	free(t->err_text);
	unlink(t->out_path);
	unlink(t->err_path);
	memset(t, 0, sizeof(*t));
}

/* `tcpfsm CMD --json --netns INODE [extra...]`, ready once it traces. */
static bool tracer_start(struct tracer *t, const char *cmd, uint32_t netns,
			 const char *const *extra)
{
	static unsigned int seq;
	const char *argv[32];
	char ns[32];
	int n = 0;

	memset(t, 0, sizeof(*t));
	seq++;
	snprintf(t->out_path, sizeof(t->out_path), "/tmp/kt-%u.out", seq);
	snprintf(t->err_path, sizeof(t->err_path), "/tmp/kt-%u.err", seq);
	snprintf(ns, sizeof(ns), "%u", netns);
	argv[n++] = tcpfsm;
	argv[n++] = cmd;
	argv[n++] = "--json";
	argv[n++] = "--netns";
	argv[n++] = ns;
	for (int i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	fflush(stdout);
	t->pid = fork();
	if (t->pid < 0) {
		snprintf(why, sizeof(why), "fork: %s", strerror(errno));
		return false;
	}
	if (t->pid == 0) {
		int o = open(t->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(t->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0)
			_exit(127);
		dup2(o, 1);
		dup2(e, 2);
		close_range(3, ~0U, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
		char *err = slurp(t->err_path);
		bool ready = err && strstr(err, "tracing TCP state transitions");
		int status;

		if (ready) {
			free(err);
			return true;
		}
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = 0;
			t->err_text = err;
			snprintf(why, sizeof(why), "tcpfsm %s exited before tracing (status %d)",
				 cmd,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			if (extra && extra[0] && !strcmp(extra[0], "-v"))
				show_verbose(err);
			else
				show("tcpfsm stderr", err, 4000);
			t->err_text = NULL;
			free(err);
			/* the same again with -v: libbpf's and the verifier's log */
			if (!extra || !extra[0] || strcmp(extra[0], "-v")) {
				const char *vx[30] = { "-v" };
				struct tracer v;

				for (int i = 0; extra && extra[i] && i < 28; i++)
					vx[i + 1] = extra[i];
				if (tracer_start(&v, cmd, netns, vx))
					kill(v.pid, SIGINT);
				tracer_free(&v);
			}
			return false;
		}
		free(err);
		msleep(20);
	}
	snprintf(why, sizeof(why), "tcpfsm %s did not start tracing in %d s", cmd,
		 START_TIMEOUT_MS / 1000);
	t->err_text = slurp(t->err_path);
	show("tcpfsm stderr", t->err_text, 4000);
	return false;
}

/* SIGINT, wait, parse every stdout line as JSON. */
static bool tracer_stop(struct tracer *t)
{
	char *out, *line, *save = NULL;
	int status = 0;

	if (t->pid > 0) {
		kill(t->pid, SIGINT);
		waitpid(t->pid, &status, 0);
		t->pid = 0;
	}
	t->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	out = slurp(t->out_path);
	t->err_text = slurp(t->err_path);
	if (!t->err_text)
		t->err_text = strdup("");
	CHECK(out, "no stdout");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);

		if (!o) {
			snprintf(why, sizeof(why), "not JSON: %.200s", line);
			free(out);
			return false;
		}
		if (t->n < sizeof(t->ev) / sizeof(t->ev[0]))
			t->ev[t->n++] = o;
		else
			json_object_put(o);
	}
	free(out);
	CHECK(t->status == 0, "tcpfsm exited with status %d", t->status);
	return true;
}

/* ---- JSON field access ---------------------------------------------- */

static const char *ev_str(json_object *ev, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static int64_t ev_int(json_object *ev, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) || !v)
		return -1;
	return json_object_get_int64(v);
}

static bool ev_bool(json_object *ev, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(ev, key, &v) && v && json_object_get_boolean(v);
}

static bool ev_is_null(json_object *ev, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(ev, key, &v) && !v;
}

static bool str_is(const char *s, const char *want)
{
	return s && !strcmp(s, want);
}

static uint64_t ev_cookie(json_object *ev)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, "cookie", &v) || !v)
		return 0;
	return json_object_get_uint64(v);
}

static uint64_t find_cookie(const struct tracer *t, const char *old, const char *new)
{
	for (size_t i = 0; i < t->n; i++)
		if (str_is(ev_str(t->ev[i], "old"), old) && str_is(ev_str(t->ev[i], "new"), new))
			return ev_cookie(t->ev[i]);
	return 0;
}

static size_t events_of(const struct tracer *t, uint64_t cookie, json_object **out)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n && n < MAX_EV; i++)
		if (ev_cookie(t->ev[i]) == cookie)
			out[n++] = t->ev[i];
	return n;
}

static size_t distinct_cookies(const struct tracer *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (ev_cookie(t->ev[j]) == ev_cookie(t->ev[i]))
				break;
		n += j == i;
	}
	return n;
}

/* "CLOSE>SYN_SENT>...": the first old state, then every new one. */
static void path_of(json_object **evs, size_t n, char *buf, size_t len)
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

/* ---- BPF: feature probe and ring buffer inspection ------------------- */

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int map_create(__u32 type, __u32 key, __u32 val, __u32 max, int inner_fd)
{
	union bpf_attr a = {};

	a.map_type = type;
	a.key_size = key;
	a.value_size = val;
	a.max_entries = max;
	a.inner_map_fd = inner_fd;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/* What tcpfsm's per-CPU rings need: a ring buffer as the inner map of an
 * ARRAY_OF_MAPS, and filled in from userspace. */
static bool probe_ringbuf_in_map(void)
{
	int rb = map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 256 * 1024, 0), outer = -1, rb2 = -1;
	__u32 k = 0;
	bool ok = false;

	if (rb < 0) {
		snprintf(why, sizeof(why), "BPF_MAP_TYPE_RINGBUF: %s", strerror(errno));
		return false;
	}
	outer = map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, rb);
	if (outer < 0) {
		snprintf(why, sizeof(why), "ARRAY_OF_MAPS with a ringbuf inner map: %s",
			 strerror(errno));
		goto out;
	}
	rb2 = map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 256 * 1024, 0);
	{
		union bpf_attr a = {};

		a.map_fd = outer;
		a.key = (__u64)(unsigned long)&k;
		a.value = (__u64)(unsigned long)&rb2;
		if (rb2 < 0 || sys_bpf(BPF_MAP_UPDATE_ELEM, &a)) {
			snprintf(why, sizeof(why), "putting a ring in the array: %s",
				 strerror(errno));
			goto out;
		}
	}
	ok = true;
out:
	if (rb2 >= 0)
		close(rb2);
	if (outer >= 0)
		close(outer);
	close(rb);
	return ok;
}

struct rings {
	int percpu; /* ring buffers other than the shared "events" */
	int shared; /* the shared "events" ring */
	unsigned long percpu_bytes, shared_bytes; /* producer positions */
	int outer; /* ARRAY_OF_MAPS maps */
	bool scanned; /* false: tcpfsm never ran */
};

/*
 * The next BPF object (map or program, by its GET_NEXT_ID and GET_FD_BY_ID
 * commands) after *id: its fd, its info into info; -ENOENT after the last,
 * -1 (errno set) if the kernel refuses, -2 if it vanished meanwhile.
 */
static int next_object(int next_cmd, int fd_cmd, __u32 *id, void *info, __u32 info_len)
{
	union bpf_attr a = {};
	int fd;

	a.start_id = *id;
	if (sys_bpf(next_cmd, &a))
		return errno == ENOENT ? -ENOENT : -1;
	*id = a.next_id;
	memset(&a, 0, sizeof(a));
	if (fd_cmd == BPF_MAP_GET_FD_BY_ID)
		a.map_id = *id;
	else
		a.prog_id = *id;
	fd = sys_bpf(fd_cmd, &a);
	if (fd < 0)
		return -2;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = info_len;
	a.info.info = (__u64)(unsigned long)info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a)) {
		close(fd);
		return -2;
	}
	return fd;
}

/* Every BPF ring buffer on the system (in the guest: only tcpfsm's), and how
 * much was written into each (its producer position, read through mmap). */
static bool scan_rings(struct rings *r)
{
	long page = sysconf(_SC_PAGESIZE);
	__u32 id = 0;

	memset(r, 0, sizeof(*r));
	r->scanned = true;
	for (;;) {
		struct bpf_map_info info = {};
		int fd = next_object(BPF_MAP_GET_NEXT_ID, BPF_MAP_GET_FD_BY_ID, &id, &info,
				     sizeof(info));

		if (fd == -ENOENT)
			return true;
		CHECK(fd != -1, "BPF_MAP_GET_NEXT_ID: %s", strerror(errno));
		if (fd < 0)
			continue; /* gone meanwhile */
		if (info.type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
			r->outer++;
		} else if (info.type == BPF_MAP_TYPE_RINGBUF) {
			/* page 0: consumer position; page 1: producer position */
			void *p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
			unsigned long pos = 0;

			if (p != MAP_FAILED) {
				pos = *(volatile unsigned long *)p;
				munmap(p, page);
			}
			if (!strcmp(info.name, "events")) {
				r->shared++;
				r->shared_bytes += pos;
			} else {
				r->percpu++;
				r->percpu_bytes += pos;
			}
		}
		close(fd);
	}
}

/* How many loaded BPF programs (in the guest: only tcpfsm's) have a name
 * starting with prefix; -1 if the kernel cannot tell. */
static int programs_named(const char *prefix)
{
	__u32 id = 0;
	int n = 0;

	for (;;) {
		struct bpf_prog_info info = {};
		int fd = next_object(BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID, &id, &info,
				     sizeof(info));

		if (fd == -ENOENT)
			return n;
		if (fd == -1)
			return -1;
		if (fd < 0)
			continue; /* gone meanwhile */
		if (!strncmp(info.name, prefix, strlen(prefix)))
			n++;
		close(fd);
	}
}

/* What tcpfsm printed, as evidence for a failed check. */
static void show_events(const struct tracer *t)
{
	printf("----- tcpfsm stdout (%zu lines) -----\n", t->n);
	for (size_t i = 0; i < t->n && i < 40; i++)
		printf("%s\n", json_object_to_json_string_ext(t->ev[i], JSON_C_TO_STRING_PLAIN));
	printf("----- end of tcpfsm stdout -----\n");
}

/* ---- checks ---------------------------------------------------------- */

static bool check_socket(json_object **evs, size_t n, const char *want_path, pid_t pid,
			 const char *comm, const char *family, const char *addr, int sport,
			 int dport, const char *who)
{
	char path[256];

	path_of(evs, n, path, sizeof(path));
	CHECK(!strcmp(path, want_path), "%s: path %s, want %s", who, path, want_path);
	for (size_t i = 0; i < n; i++) {
		CHECK(str_is(ev_str(evs[i], "type"), "transition"), "%s: type", who);
		CHECK(ev_int(evs[i], "pid") == pid, "%s: event %zu pid %lld, want %d", who, i,
		      (long long)ev_int(evs[i], "pid"), pid);
		CHECK(str_is(ev_str(evs[i], "comm"), comm), "%s: event %zu comm %s, want %s", who,
		      i, ev_str(evs[i], "comm"), comm);
		CHECK(str_is(ev_str(evs[i], "family"), family), "%s: family", who);
		CHECK(str_is(ev_str(evs[i], "saddr"), addr), "%s: saddr %s", who,
		      ev_str(evs[i], "saddr"));
		CHECK(ev_str(evs[i], "time") && ev_int(evs[i], "netns") > 0, "%s: time/netns", who);
		if (dport >= 0 && i == 0 && str_is(ev_str(evs[i], "old"), "LISTEN") &&
		    ev_int(evs[i], "dport") == 0) {
			/*
       * A new child is born from its listener (LISTEN>SYN_RECV).
       * Linux 6.1's inet_csk_clone_lock() fires that transition
       * before it copies the peer's port (and the request's
       * cookie) into the child: a kernel limit, noted, not
       * failed. Newer kernels (6.18) carry the peer there.
       */
			static bool noted;

			if (!noted)
				printf("INFO %s: LISTEN>SYN_RECV event has dport 0: the kernel "
				       "fires it before the child gets the peer's address\n",
				       who);
			noted = true;
		} else if (dport >= 0) {
			CHECK(ev_int(evs[i], "dport") == dport, "%s: event %zu dport %lld, want %d",
			      who, i, (long long)ev_int(evs[i], "dport"), dport);
		}
		/* the local port is not chosen yet at CLOSE->SYN_SENT */
		if ((i > 0 || !str_is(ev_str(evs[i], "new"), "SYN_SENT")) && sport >= 0)
			CHECK(ev_int(evs[i], "sport") == sport, "%s: event %zu sport %lld, want %d",
			      who, i, (long long)ev_int(evs[i], "sport"), sport);
		if (i == 0)
			CHECK(ev_is_null(evs[i], "old_duration_ns"),
			      "%s: first event's old_duration_ns not null", who);
		else
			CHECK(ev_int(evs[i], "old_duration_ns") > 0,
			      "%s: event %zu old_duration_ns %lld", who, i,
			      (long long)ev_int(evs[i], "old_duration_ns"));
	}
	return true;
}

static bool check_exchange(const struct tracer *t, int family, const struct exchange *x,
			   pid_t client_pid, const char *client_comm, pid_t server_pid,
			   const char *server_comm)
{
	const char *fam = family == AF_INET ? "ipv4" : "ipv6";
	const char *lo = family == AF_INET ? "127.0.0.1" : "::1";
	uint64_t lis = find_cookie(t, "CLOSE", "LISTEN");
	uint64_t cli = find_cookie(t, "CLOSE", "SYN_SENT");
	uint64_t child = find_cookie(t, "LISTEN", "SYN_RECV");
	json_object *evs[MAX_EV];
	size_t n;

	CHECK(lis && cli && child, "missing a socket: listener %d client %d child %d (%zu events)",
	      !!lis, !!cli, !!child, t->n);
	CHECK(lis != cli && cli != child && lis != child, "cookies not distinct");
	CHECK(distinct_cookies(t) == 3, "%zu sockets seen, want 3", distinct_cookies(t));
	n = events_of(t, cli, evs);
	if (!check_socket(evs, n, "CLOSE>SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE",
			  client_pid, client_comm, fam, lo, x->client_port, x->server_port,
			  "client"))
		return false;
	n = events_of(t, child, evs);
	if (!check_socket(evs, n, "LISTEN>SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE",
			  server_pid, server_comm, fam, lo, x->server_port, x->client_port,
			  "server child"))
		return false;
	n = events_of(t, lis, evs);
	return check_socket(evs, n, "CLOSE>LISTEN>CLOSE", server_pid, server_comm, fam, lo,
			    x->server_port, -1, "listener");
}

static bool tracefs_mounted_here(void)
{
	char *m = slurp("/proc/self/mounts");
	bool yes = m && strstr(m, " tracefs ");

	free(m);
	return yes;
}

static const char *mode_args(bool tp)
{
	return tp ? "--attach=tracepoint" : "--attach=tp_btf";
}

/*
 * `trace --json`: one loopback connection, the client closes first; the exact
 * sequence of client, server child and listener. While tcpfsm still runs,
 * look at its ring buffers.
 */
static bool trace_exchange(bool tp, int family, struct rings *r)
{
	const char *extra[] = { mode_args(tp), NULL };
	const char *want_mode = tp ? "(tracepoint" : "(tp_btf";
	struct tracer t;
	struct exchange x;
	uint32_t ns;
	bool ok;

	if (r)
		memset(r, 0, sizeof(*r));
	CHECK(!netns_enter_new(&ns), "new netns: %s", strerror(errno));
	if (!tracer_start(&t, "trace", ns, extra)) {
		tracer_free(&t);
		return false;
	}
	ok = exchange_local(family, &x);
	if (r && !scan_rings(r))
		ok = false;
	if (!tracer_stop(&t) || !ok) {
		if (!ok)
			snprintf(why, sizeof(why), "the loopback exchange failed: %s",
				 strerror(errno));
		show("tcpfsm stderr", t.err_text, 2000);
		tracer_free(&t);
		return false;
	}
	ok = check_exchange(&t, family, &x, getpid(), my_comm, getpid(), my_comm);
	if (ok && !strstr(t.err_text, want_mode)) {
		snprintf(why, sizeof(why), "not traced through %s)", want_mode + 1);
		ok = false;
	}
	if (ok && !strstr(t.err_text, " 0 lost")) {
		snprintf(why, sizeof(why), "events lost");
		ok = false;
	}
	if (!ok) {
		show("tcpfsm stderr", t.err_text, 2000);
		show_events(&t);
	}
	tracer_free(&t);
	return ok;
}

/*
 * Client and server in different processes: on loopback the server's
 * SYN_RECV->ESTABLISHED runs in softirq on the client's stack. The owner must
 * still be the server, and some events flagged softirq. How softirq is told
 * from task context: on tp_btf this kernel (CONFIG_KALLSYMS_ALL) lets the
 * programs read the preempt count, so no softirq program may be loaded; the
 * classic tracepoint keeps the softirq_entry/exit programs.
 */
static bool cross_process(bool tp)
{
	const char *extra[] = { "-v", mode_args(tp), NULL };
	int sirq_progs, pc_progs;
	struct tracer t;
	struct exchange x;
	int p[2], cfd, status;
	uint32_t ns;
	pid_t srv;
	char buf[8];
	json_object *evs[MAX_EV];
	size_t n, softirq = 0;
	bool ok;

	CHECK(!netns_enter_new(&ns), "new netns: %s", strerror(errno));
	if (!tracer_start(&t, "trace", ns, extra)) {
		tracer_free(&t);
		return false;
	}
	CHECK(!pipe(p), "pipe");
	fflush(stdout);
	srv = fork();
	CHECK(srv >= 0, "fork");
	if (srv == 0) {
		int lfd, sfd;
		uint16_t port;

		prctl(PR_SET_NAME, "kt-server");
		lfd = listen_on(AF_INET);
		port = local_port(lfd);
		if (lfd < 0 || write(p[1], &port, sizeof(port)) != sizeof(port))
			_exit(1);
		sfd = accept(lfd, NULL, NULL);
		while (sfd >= 0 && recv(sfd, buf, sizeof(buf), 0) > 0)
			;
		close(sfd);
		close(lfd);
		_exit(0);
	}
	close(p[1]);
	/* while it runs: which programs tell the context */
	sirq_progs = programs_named("softirq_");
	pc_progs = programs_named("state_pc");
	ok = read(p[0], &x.server_port, sizeof(x.server_port)) == sizeof(x.server_port);
	close(p[0]);
	cfd = ok ? connect_to(AF_INET, x.server_port) : -1;
	if (cfd >= 0) {
		x.client_port = local_port(cfd);
		ok = send(cfd, "ping", 4, 0) == 4;
		close(cfd);
	} else {
		ok = false;
	}
	ok = waitpid(srv, &status, 0) == srv && status == 0 && ok;
	msleep(SETTLE_MS);
	if (!tracer_stop(&t) || !ok) {
		if (!ok)
			snprintf(why, sizeof(why), "the cross-process exchange failed");
		tracer_free(&t);
		return false;
	}
	ok = check_exchange(&t, AF_INET, &x, getpid(), my_comm, srv, "kt-server");
	if (ok) {
		n = events_of(&t, find_cookie(&t, "LISTEN", "SYN_RECV"), evs);
		for (size_t i = 0; i < n; i++)
			softirq += ev_bool(evs[i], "softirq");
		if (!softirq) {
			snprintf(why, sizeof(why), "no server event flagged softirq");
			ok = false;
		}
	}
	if (ok && strstr(t.err_text, "owners at syscalls only")) {
		snprintf(why, sizeof(why), "softirq tracking did not attach");
		ok = false;
	}
	if (ok && !tp &&
	    (!strstr(t.err_text, "told from task context by the preempt count") ||
	     sirq_progs != 0 || pc_progs != 2)) {
		snprintf(why, sizeof(why),
			 "tp_btf: want the preempt-count method (said so, 0 softirq programs, "
			 "2 state_pc), have %d softirq and %d state_pc programs",
			 sirq_progs, pc_progs);
		ok = false;
	}
	if (ok && tp &&
	    (!strstr(t.err_text, "told from task context by the softirq_entry/exit programs") ||
	     sirq_progs != 2)) {
		snprintf(why, sizeof(why),
			 "tracepoint: want the softirq programs (said so, 2 loaded), have %d",
			 sirq_progs);
		ok = false;
	}
	if (!ok) {
		show("tcpfsm stderr", t.err_text, 2000);
		show_events(&t);
	}
	tracer_free(&t);
	return ok;
}

/* The connection record of history with these ports. */
static json_object *conn_by_ports(const struct tracer *t, int sport, int dport)
{
	for (size_t i = 0; i < t->n; i++)
		if (str_is(ev_str(t->ev[i], "type"), "connection") &&
		    ev_int(t->ev[i], "sport") == sport && ev_int(t->ev[i], "dport") == dport)
			return t->ev[i];
	return NULL;
}

static bool expect_conn(json_object *c, const char *want, const char *reason, bool complete,
			const char *who)
{
	json_object *path;
	char p[256];
	size_t pos = 0;

	CHECK(c, "%s: no connection record", who);
	path = json_object_object_get(c, "path");
	p[0] = 0;
	for (size_t i = 0; path && i < json_object_array_length(path) && pos < sizeof(p); i++)
		pos += snprintf(p + pos, sizeof(p) - pos, "%s%s", i ? ">" : "",
				ev_str(json_object_array_get_idx(path, i), "state"));
	CHECK(!strcmp(p, want), "%s: path %s, want %s", who, p, want);
	CHECK(str_is(ev_str(c, "end_reason"), reason), "%s: end_reason %s, want %s", who,
	      ev_str(c, "end_reason"), reason);
	CHECK(ev_bool(c, "complete") == complete, "%s: complete is %d", who, !complete);
	CHECK(ev_int(c, "pid") == getpid() && str_is(ev_str(c, "comm"), my_comm),
	      "%s: owner %lld %s", who, (long long)ev_int(c, "pid"), ev_str(c, "comm"));
	CHECK(ev_int(c, "duration_ns") > 0, "%s: duration_ns", who);
	return true;
}

/* `history`: one new connection gives one record per socket. */
static bool history_records(void)
{
	struct tracer t;
	struct exchange x;
	uint32_t ns;
	bool ok;

	CHECK(!netns_enter_new(&ns), "new netns");
	if (!tracer_start(&t, "history", ns, NULL)) {
		tracer_free(&t);
		return false;
	}
	ok = exchange_local(AF_INET, &x);
	ok = tracer_stop(&t) && ok;
	ok = ok &&
	     expect_conn(conn_by_ports(&t, x.client_port, x.server_port),
			 "SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>TIME_WAIT", "normal", true,
			 "client") &&
	     expect_conn(conn_by_ports(&t, x.server_port, x.client_port),
			 "SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE", "normal", true,
			 "server child") &&
	     expect_conn(conn_by_ports(&t, x.server_port, 0), "LISTEN>CLOSE", "normal", true,
			 "listener");
	if (ok && t.n != 3) {
		snprintf(why, sizeof(why), "%zu records, want 3", t.n);
		ok = false;
	}
	if (!ok) {
		show("tcpfsm stderr", t.err_text, 2000);
		show_events(&t);
	}
	tracer_free(&t);
	return ok;
}

/*
 * The startup snapshot (iter/tcp): a connection opened before tcpfsm starts
 * and closed after is seeded, its records marked incomplete and the first
 * state's time "at least".
 */
static bool snapshot_preexisting(void)
{
	struct tracer t;
	uint32_t ns;
	uint16_t port, cport;
	int lfd, cfd, sfd;
	char buf[4];
	json_object *cli, *first;
	bool ok;

	CHECK(!netns_enter_new(&ns), "new netns");
	lfd = listen_on(AF_INET);
	CHECK(lfd >= 0, "listen");
	port = local_port(lfd);
	cfd = connect_to(AF_INET, port);
	CHECK(cfd >= 0, "connect");
	cport = local_port(cfd);
	sfd = accept(lfd, NULL, NULL);
	CHECK(sfd >= 0, "accept");
	msleep(50);
	if (!tracer_start(&t, "history", ns, NULL)) {
		tracer_free(&t);
		return false;
	}
	close(cfd);
	ok = recv(sfd, buf, sizeof(buf), 0) == 0;
	close(sfd);
	close(lfd);
	msleep(SETTLE_MS);
	ok = tracer_stop(&t) && ok;
	cli = conn_by_ports(&t, cport, port);
	ok = ok &&
	     expect_conn(cli, "ESTABLISHED>FIN_WAIT1>FIN_WAIT2>TIME_WAIT", "normal", false,
			 "client") &&
	     expect_conn(conn_by_ports(&t, port, cport), "ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE",
			 "normal", false, "server child") &&
	     expect_conn(conn_by_ports(&t, port, 0), "LISTEN>CLOSE", "normal", false, "listener");
	if (ok) {
		first = json_object_array_get_idx(json_object_object_get(cli, "path"), 0);
		if (!ev_bool(first, "at_least")) {
			snprintf(why, sizeof(why), "seeded state not marked at_least");
			ok = false;
		}
	}
	if (ok && !strstr(t.err_text, "3 existing sockets")) {
		snprintf(why, sizeof(why), "stderr does not say \"3 existing sockets\"");
		ok = false;
	}
	if (!ok) {
		show("tcpfsm stderr", t.err_text, 2000);
		show_events(&t);
	}
	tracer_free(&t);
	return ok;
}

/*
 * watch tracks lazily (the iter/tcp sweep reads sk_storage): a server that
 * never closes after its peer did alerts with an exact age and its owner,
 * resolves when it closes, and a burst of short connections before it
 * reaches userspace only as counts.
 */
static bool watch_lazy_close_wait(void)
{
	const char *const extra[] = { "--alert", "CLOSE_WAIT=1s", "--sweep", "200ms", NULL };
	struct tracer t;
	json_object *f = NULL, *r = NULL;
	uint32_t ns;
	uint16_t port;
	int lfd, cfd, sfd;
	bool ok;

	CHECK(!netns_enter_new(&ns), "new netns");
	if (!tracer_start(&t, "watch", ns, extra)) {
		tracer_free(&t);
		return false;
	}
	lfd = listen_on(AF_INET);
	CHECK(lfd >= 0, "listen");
	port = local_port(lfd);
	for (int i = 0; i < 50; i++) {
		cfd = connect_to(AF_INET, port);
		sfd = accept(lfd, NULL, NULL);
		close(cfd);
		close(sfd);
	}
	cfd = connect_to(AF_INET, port);
	sfd = accept(lfd, NULL, NULL);
	CHECK(cfd >= 0 && sfd >= 0, "connect/accept");
	close(cfd);
	msleep(2500);
	close(sfd);
	close(lfd);
	msleep(SETTLE_MS);
	ok = tracer_stop(&t);
	for (size_t i = 0; ok && i < t.n; i++) {
		if (!str_is(ev_str(t.ev[i], "type"), "alert") ||
		    !str_is(ev_str(t.ev[i], "state"), "CLOSE_WAIT"))
			continue;
		if (str_is(ev_str(t.ev[i], "status"), "firing"))
			f = t.ev[i];
		else if (str_is(ev_str(t.ev[i], "status"), "resolved"))
			r = t.ev[i];
	}
	if (ok && (!f || !r)) {
		snprintf(why, sizeof(why), "no CLOSE_WAIT alert %s", f ? "resolved" : "fired");
		ok = false;
	} else if (ok && (ev_bool(f, "age_at_least") || ev_int(f, "age_ns") < 1000000000LL ||
			  ev_int(f, "pid") != getpid() || !str_is(ev_str(f, "comm"), my_comm))) {
		snprintf(why, sizeof(why), "alert: age %lld (at least: %d), pid %lld, comm %s",
			 (long long)ev_int(f, "age_ns"), ev_bool(f, "age_at_least"),
			 (long long)ev_int(f, "pid"), ev_str(f, "comm"));
		ok = false;
	} else if (ok && !strstr(t.err_text, "sent to userspace")) {
		snprintf(why, sizeof(why), "not in lazy mode (no \"sent to userspace\")");
		ok = false;
	}
	if (!ok) {
		show("tcpfsm stderr", t.err_text, 2000);
		show_events(&t);
	}
	tracer_free(&t);
	return ok;
}

/*
 * Sum of run_cnt (BPF run-time statistics must be on) over every loaded
 * program but the iterator, whose sweeps run on a timer whatever the
 * traffic: in the guest, tcpfsm's programs. names gets those that ran.
 */
static long long runs_but_sweeps(char *names, size_t len)
{
	long long sum = 0;
	size_t pos = 0;
	__u32 id = 0;

	names[0] = 0;
	for (;;) {
		struct bpf_prog_info info = {};
		int fd = next_object(BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID, &id, &info,
				     sizeof(info));

		if (fd == -ENOENT)
			return sum;
		if (fd == -1)
			return -1;
		if (fd < 0)
			continue;
		if (strncmp(info.name, "snapshot", 8)) {
			sum += info.run_cnt;
			if (info.run_cnt && pos < len)
				pos += snprintf(names + pos, len - pos, " %s:%llu", info.name,
						(unsigned long long)info.run_cnt);
		}
		close(fd);
	}
}

/*
 * Issue 15: no cost while nothing transitions. One connection ping-pongs a
 * byte 20,000 times under `watch` (traffic, not one transition). On the
 * preempt-count path none of tcpfsm's programs may run at all (the
 * iterator's periodic sweep aside); the classic tracepoint keeps the
 * softirq programs, and the same traffic runs them: *runs says how often.
 */
static bool idle_costs_nothing(bool tp, long long *runs)
{
	const char *const extra[] = { mode_args(tp), NULL };
	union bpf_attr a = {};
	char names[512], c = 'x';
	long long before, after;
	struct tracer t;
	int lfd, cfd, sfd, stats;
	uint32_t ns;
	bool ok = true;

	*runs = -1;
	CHECK(!netns_enter_new(&ns), "new netns");
	lfd = listen_on(AF_INET);
	CHECK(lfd >= 0, "listen");
	cfd = connect_to(AF_INET, local_port(lfd));
	sfd = accept(lfd, NULL, NULL);
	CHECK(cfd >= 0 && sfd >= 0, "connect/accept");
	if (!tracer_start(&t, "watch", ns, extra)) {
		tracer_free(&t);
		return false;
	}
	a.enable_stats.type = BPF_STATS_RUN_TIME;
	stats = sys_bpf(BPF_ENABLE_STATS, &a);
	CHECK(stats >= 0, "BPF_ENABLE_STATS: %s", strerror(errno));
	msleep(SETTLE_MS);
	before = runs_but_sweeps(names, sizeof(names));
	for (int i = 0; i < 20000 && ok; i++)
		ok = write(cfd, &c, 1) == 1 && read(sfd, &c, 1) == 1 && write(sfd, &c, 1) == 1 &&
		     read(cfd, &c, 1) == 1;
	after = runs_but_sweeps(names, sizeof(names));
	close(stats);
	close(cfd);
	close(sfd);
	close(lfd);
	if (!tracer_stop(&t))
		ok = false;
	if (ok && (before < 0 || after < 0)) {
		snprintf(why, sizeof(why), "cannot read the programs' run counts");
		ok = false;
	}
	if (ok) {
		*runs = after - before;
		if (!tp && *runs) {
			snprintf(why, sizeof(why), "%lld runs during the ping-pong (%s)", *runs,
				 names);
			ok = false;
		}
	}
	if (!ok)
		show("tcpfsm stderr", t.err_text, 2000);
	tracer_free(&t);
	return ok;
}

/* The fallback path has no snapshot: tcpfsm must say so and still work. */
static bool snapshot_fallback_warns(void)
{
	const char *extra[] = { "--attach=tracepoint", NULL };
	struct tracer t;
	struct exchange x;
	uint32_t ns;
	bool ok;

	CHECK(!netns_enter_new(&ns), "new netns");
	if (!tracer_start(&t, "history", ns, extra)) {
		tracer_free(&t);
		return false;
	}
	ok = exchange_local(AF_INET, &x);
	ok = tracer_stop(&t) && ok;
	ok = ok && expect_conn(conn_by_ports(&t, x.server_port, x.client_port),
			       "SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE", "normal", true,
			       "server child");
	if (ok && !strstr(t.err_text, "no snapshot of existing sockets")) {
		snprintf(why, sizeof(why), "no warning about the missing snapshot");
		ok = false;
	}
	if (!ok) {
		show("tcpfsm stderr", t.err_text, 2000);
		show_events(&t);
	}
	tracer_free(&t);
	return ok;
}

/*
 * `trace --drops`: a connect to a port nothing listens on; the kernel drops
 * the SYN (NO_SOCKET: no nft here) and answers with an RST. Exactly one
 * drop record, with the reason named from this kernel's BTF (Linux 6.1: no
 * rx_sk among kfree_skb's arguments), the server's view of the 4-tuple.
 */
static bool drops_reported(bool tp)
{
	const char *extra[] = { "--drops", mode_args(tp), NULL };
	struct sockaddr_storage ss;
	json_object *d = NULL;
	struct tracer t;
	uint16_t port, cport;
	size_t n = 0;
	uint32_t ns;
	int fd, lfd;

	CHECK(!netns_enter_new(&ns), "new netns");
	/* a port that was free a moment ago */
	lfd = listen_on(AF_INET);
	CHECK(lfd >= 0, "listen: %s", strerror(errno));
	port = local_port(lfd);
	close(lfd);
	if (!tracer_start(&t, "trace", ns, extra)) {
		tracer_free(&t);
		return false;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	mkaddr(AF_INET, port, &ss);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)) &&
		      errno == ECONNREFUSED,
	      "connect to a closed port: %s", strerror(errno));
	cport = local_port(fd);
	close(fd);
	msleep(200);
	if (!tracer_stop(&t)) {
		tracer_free(&t);
		return false;
	}
	for (size_t i = 0; i < t.n; i++)
		if (str_is(ev_str(t.ev[i], "type"), "drop")) {
			d = t.ev[i];
			n++;
		}
	if (n != 1 || !str_is(ev_str(d, "reason"), "NO_SOCKET") ||
	    !str_is(ev_str(d, "segment"), "syn") || !str_is(ev_str(d, "direction"), "in") ||
	    ev_int(d, "sport") != port || ev_int(d, "dport") != cport ||
	    !str_is(ev_str(d, "saddr"), "127.0.0.1") || ev_int(d, "netns") != ns ||
	    !ev_str(d, "where") || !strncmp(ev_str(d, "where"), "0x", 2) ||
	    !strstr(t.err_text, "1 TCP drop, 0 lost")) {
		snprintf(why, sizeof(why), "%zu drop records, expected 1 NO_SOCKET syn in to :%u from "
			 ":%u, named", n, port, cport);
		show("tcpfsm stderr", t.err_text, 2000);
		show_events(&t);
		tracer_free(&t);
		return false;
	}
	printf("  drop: %s at %s (%s)\n", ev_str(d, "reason"), ev_str(d, "where"),
	       tp ? "tracepoint" : "tp_btf");
	tracer_free(&t);
	return true;
}

/* The cumulative row of `hist` for a state (no --by key). */
static json_object *hist_row(const struct tracer *t, const char *state)
{
	for (size_t i = 0; i < t->n; i++) {
		json_object *o = t->ev[i];

		if (str_is(ev_str(o, "type"), "histogram") && str_is(ev_str(o, "state"), state) &&
		    !ev_str(o, "key") && ev_bool(o, "cumulative"))
			return o;
	}
	/* without -i there may be only one (total) row */
	for (size_t i = 0; i < t->n; i++) {
		json_object *o = t->ev[i];

		if (str_is(ev_str(o, "type"), "histogram") && str_is(ev_str(o, "state"), state) &&
		    !ev_str(o, "key"))
			return o;
	}
	return NULL;
}

/* `hist`: counts kept in the kernel equal the transitions made. */
static bool hist_counts(void)
{
	static const struct {
		const char *state;
		int per_conn; /* times left per connection */
	} want[] = {
		{ "SYN_SENT", 1 },  { "SYN_RECV", 1 },	 { "ESTABLISHED", 2 }, { "FIN_WAIT1", 1 },
		{ "FIN_WAIT2", 1 }, { "CLOSE_WAIT", 1 }, { "LAST_ACK", 1 },
	};
	const int conns = 5;
	struct tracer t;
	struct exchange x;
	uint32_t ns;
	bool ok = true;

	CHECK(!netns_enter_new(&ns), "new netns");
	if (!tracer_start(&t, "hist", ns, NULL)) {
		tracer_free(&t);
		return false;
	}
	for (int i = 0; i < conns && ok; i++)
		ok = exchange_local(AF_INET, &x);
	ok = tracer_stop(&t) && ok;
	for (size_t i = 0; ok && i < sizeof(want) / sizeof(want[0]); i++) {
		json_object *r = hist_row(&t, want[i].state);

		if (!r || ev_int(r, "count") != conns * want[i].per_conn) {
			snprintf(why, sizeof(why), "%s count %lld, want %d", want[i].state,
				 r ? (long long)ev_int(r, "count") : -1LL,
				 conns * want[i].per_conn);
			ok = false;
		} else if (ev_int(r, "sum_ns") <= 0 || ev_int(r, "p50_ns") <= 0) {
			snprintf(why, sizeof(why), "%s has no durations", want[i].state);
			ok = false;
		}
	}
	if (ok && (!hist_row(&t, "LISTEN") || ev_int(hist_row(&t, "LISTEN"), "count") != conns)) {
		snprintf(why, sizeof(why), "LISTEN count %lld, want %d",
			 hist_row(&t, "LISTEN") ?
				 (long long)ev_int(hist_row(&t, "LISTEN"), "count") :
				 -1LL,
			 conns);
		ok = false;
	}
	if (ok && !strstr(t.err_text, " lost (counted in the kernel")) {
		snprintf(why, sizeof(why), "no kernel-side count on stderr");
		ok = false;
	}
	if (!ok) {
		show("tcpfsm stderr", t.err_text, 2000);
		show_events(&t);
	}
	tracer_free(&t);
	return ok;
}

/*
 * tcpfsm writes each event to its CPU's ring (a RINGBUF inside the
 * ARRAY_OF_MAPS cpu_events); the shared ring "events" only takes what cannot
 * go there. Seen from outside, through the rings' producer positions.
 */
static void report_rings(const struct rings *r, const char *name)
{
	if (!r->scanned) {
		report(false, name, "not checked: tcpfsm did not run");
		return;
	}
	printf("  rings: %d per-CPU (%lu bytes written), shared \"events\" %d (%lu "
	       "bytes), "
	       "%d ARRAY_OF_MAPS\n",
	       r->percpu, r->percpu_bytes, r->shared, r->shared_bytes, r->outer);
	report(r->percpu >= 1 && r->outer >= 1 && r->percpu_bytes > 0 && r->shared_bytes == 0, name,
	       "%d per-CPU rings (%lu bytes written), %d shared (%lu bytes written)", r->percpu,
	       r->percpu_bytes, r->shared, r->shared_bytes);
}

int main(int argc, char **argv)
{
	struct utsname u;
	struct rings r;
	bool ok;
	FILE *f;

	if (argc > 1)
		tcpfsm = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	f = fopen("/proc/self/comm", "r");
	if (!f || !fgets(my_comm, sizeof(my_comm), f))
		return 1;
	fclose(f);
	my_comm[strcspn(my_comm, "\n")] = 0;
	uname(&u);
	printf("kernel-test driver: %s %s on %s, %ld CPUs, tcpfsm %s\n", u.sysname, u.release,
	       u.machine, sysconf(_SC_NPROCESSORS_ONLN), tcpfsm);

	report(!access("/sys/kernel/btf/vmlinux", R_OK), "kernel BTF (/sys/kernel/btf/vmlinux)",
	       "missing");
	ok = probe_ringbuf_in_map();
	report(ok, "probe: ring buffer as inner map of ARRAY_OF_MAPS", "%s", why);

	/* tp_btf: the default path */
	ok = trace_exchange(false, AF_INET, &r);
	report(ok, "trace tp_btf ipv4: client, server child, listener sequences", "%s", why);
	report_rings(&r, "per-CPU ring buffers carry the events (tp_btf)");
	ok = trace_exchange(false, AF_INET6, NULL);
	report(ok, "trace tp_btf ipv6: client, server child, listener sequences", "%s", why);
	ok = cross_process(false);
	report(ok, "trace tp_btf: owner across processes, softirq told by the preempt count "
		   "(no softirq programs)", "%s", why);

	/* the classic tracepoint fallback, with tracefs left unmounted */
	report(!tracefs_mounted_here(), "tracefs not mounted before the fallback runs",
	       "already mounted: the private-mount fallback is not exercised");
	ok = trace_exchange(true, AF_INET, &r);
	report(ok,
	       "trace --attach=tracepoint ipv4: sequences (tcpfsm mounts tracefs "
	       "privately)",
	       "%s", why);
	report_rings(&r, "per-CPU ring buffers carry the events (tracepoint)");
	report(!tracefs_mounted_here(), "tracefs mount left no trace in our mount namespace",
	       "tracefs is mounted here now");
	ok = trace_exchange(true, AF_INET6, NULL);
	report(ok, "trace --attach=tracepoint ipv6: sequences", "%s", why);
	ok = cross_process(true);
	report(ok, "trace --attach=tracepoint: owner across processes (softirq tracking)", "%s",
	       why);

	ok = drops_reported(false);
	report(ok, "trace --drops tp_btf: a SYN to a closed port, NO_SOCKET, named", "%s", why);
	ok = drops_reported(true);
	report(ok, "trace --drops --attach=tracepoint: the same through skb:kfree_skb", "%s", why);

	ok = history_records();
	report(ok, "history: one record per socket of a connection", "%s", why);
	ok = snapshot_preexisting();
	report(ok, "history: startup snapshot (iter/tcp) of a pre-existing connection", "%s", why);
	ok = snapshot_fallback_warns();
	report(ok, "history --attach=tracepoint: no snapshot, says so, still records", "%s", why);
	ok = hist_counts();
	report(ok, "hist: kernel-side counts equal the transitions made", "%s", why);
	ok = watch_lazy_close_wait();
	report(ok, "watch (lazy tracking): CLOSE_WAIT alert with exact age and owner, resolved",
	       "%s", why);
	{
		long long runs;

		ok = idle_costs_nothing(false, &runs);
		report(ok, "tp_btf (preempt count): 20,000 round trips, no transition: 0 runs of "
			   "tcpfsm's programs", "%s", why);
		ok = idle_costs_nothing(true, &runs);
		report(ok && runs > 0,
		       "tracepoint (softirq programs): the same traffic runs them (the check can tell)",
		       "%s", ok ? "no run counted" : why);
		if (ok)
			printf("INFO softirq programs ran %lld times during the 20,000 round trips\n",
			       runs);
	}

	printf("%d passed, %d failed\n", passed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
