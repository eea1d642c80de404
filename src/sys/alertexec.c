// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sys/alertexec.h"
#include "pure/format.h"
#include "sys/log.h"
#include "pure/state.h"
#include "sys/clock.h"

#define MAX_RUNNING 8
#define MAX_QUEUED 256
#define MAX_ARGS 32

struct job {
	struct alert a;
	char *json;
	size_t n;
};

struct alert_exec {
	char *cmd;
	char *argv[MAX_ARGS + 1];
	uint64_t timeout_ns;
	struct {
		pid_t pid;
		uint64_t deadline;
	} running[MAX_RUNNING];
	struct job queue[MAX_QUEUED];
	unsigned int qhead, qlen;
	struct alert_exec_stats st;
	struct runas user;
};

static void put(char *buf, size_t len, size_t *pos, char **envp, size_t max, int *n, bool *full,
		const char *name, const char *val)
{
	int w;

	if (*full)
		return;
	w = snprintf(buf + *pos, len - *pos, "%s=%s", name, val);
	if (w < 0 || (size_t)w >= len - *pos || (size_t)*n + 1 >= max) {
		*full = true;
		return;
	}
	/* no control characters in the environment */
	for (char *p = buf + *pos; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	envp[(*n)++] = buf + *pos;
	*pos += w + 1;
}

int alert_env_build(const struct alert *a, char *buf, size_t len, char **envp, size_t max)
{
	char v[64], comm[TCPFSM_COMM_LEN + 1];
	const char *st = state_name(a->state);
	size_t pos = 0;
	bool full = false;
	int n = 0;

#define PUT(name, val) put(buf, len, &pos, envp, max, &n, &full, name, val)
#define PUTU(name, fmt, x)                          \
	do {                                        \
		snprintf(v, sizeof(v), fmt, x);     \
		PUT(name, v);                       \
	} while (0)
	if (!len || !max)
		return -ENOSPC;
	PUT("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	PUT("TCPFSM_STATUS", a->status == ALERT_FIRING ? "firing" : "resolved");
	PUT("TCPFSM_STATE", st ? st : "UNKNOWN");
	PUT("TCPFSM_HALF_OPEN", a->half_open ? "1" : "0");
	PUTU("TCPFSM_AGE_NS", "%llu", (unsigned long long)a->age_ns);
	PUTU("TCPFSM_THRESHOLD_NS", "%llu", (unsigned long long)a->threshold_ns);
	PUTU("TCPFSM_COOKIE", "%llu", (unsigned long long)a->cookie);
	if (a->owner) {
		PUTU("TCPFSM_PID", "%u", a->pid);
		memcpy(comm, a->comm, TCPFSM_COMM_LEN);
		comm[TCPFSM_COMM_LEN] = 0;
		PUT("TCPFSM_COMM", comm);
	}
	PUT("TCPFSM_FAMILY", a->family == TCPFSM_AF_INET ? "ipv4" : "ipv6");
	format_addr(v, sizeof(v), a->family, a->saddr);
	PUT("TCPFSM_SADDR", v);
	PUTU("TCPFSM_SPORT", "%u", a->sport);
	format_addr(v, sizeof(v), a->family, a->daddr);
	PUT("TCPFSM_DADDR", v);
	PUTU("TCPFSM_DPORT", "%u", a->dport);
	PUTU("TCPFSM_NETNS", "%u", a->netns);
	PUTU("TCPFSM_SYN_RETRANSMITS", "%u", a->syn_retrans);
	if (a->aggregate)
		PUTU("TCPFSM_COUNT", "%u", a->count);
	PUT("TCPFSM_DIAGNOSIS", a->diagnosis);
#undef PUT
#undef PUTU
	if (full)
		return -ENOSPC;
	envp[n] = NULL;
	return n;
}

struct alert_exec *alert_exec__new(const char *cmd, uint64_t timeout_ns)
{
	struct alert_exec *x;
	char *save = NULL, *w;
	int n = 0;

	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->cmd = strdup(cmd);
	if (!x->cmd) {
		free(x);
		return NULL;
	}
	for (w = strtok_r(x->cmd, " \t", &save); w && n < MAX_ARGS; w = strtok_r(NULL, " \t", &save))
		x->argv[n++] = w;
	if (!n || w) {
		free(x->cmd);
		free(x);
		errno = EINVAL;
		return NULL;
	}
	x->timeout_ns = timeout_ns;
	return x;
}

void alert_exec__run_as(struct alert_exec *x, const struct runas *u)
{
	x->user = *u;
}

/*
 * In the forked child. No new privileges, ever: a setuid program or one
 * with file capabilities gets no more than the hook has. With a user, the
 * hook has no capabilities at all. Never returns on failure.
 */
static void hook_privs(const struct alert_exec *x)
{
	const char *what = "PR_SET_NO_NEW_PRIVS";
	int err = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err = -errno;
	else if (x->user.set)
		err = runas_switch(&x->user, &what);
	if (!err)
		return;
	fprintf(stderr, "tcpfsm: --alert-exec %s%s%s: %s: %s\n", x->argv[0],
		x->user.set ? " as " : "", x->user.set ? x->user.spec : "", what, strerror(-err));
	_exit(126);
}

static void start(struct alert_exec *x, struct job *j, int slot, uint64_t now)
{
	static char envbuf[8192];
	char *envp[32];
	int p[2] = { -1, -1 };
	pid_t pid;

	if (alert_env_build(&j->a, envbuf, sizeof(envbuf), envp, 32) < 0 ||
	    pipe2(p, O_CLOEXEC)) {
		x->st.failed++;
		return;
	}
	pid = fork();
	if (pid < 0) {
		x->st.failed++;
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		sigset_t none;

		/* the event loop blocks signals for its signalfd: undo that */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* its own process group: a timeout kills what it started too */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		dup2(p[0], 0);
		dup2(2, 1);
		close_range(3, ~0U, 0);
		hook_privs(x);
		execvpe(x->argv[0], x->argv, envp);
		fprintf(stderr, "tcpfsm: --alert-exec %s: %s\n", x->argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	close(p[0]);
	/* one short JSON line: fits the pipe; never wait for a slow reader */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	if (write(p[1], j->json, j->n) < 0)
		pr_debug("--alert-exec: writing stdin: %s", strerror(errno));
	close(p[1]);
	x->running[slot].pid = pid;
	x->running[slot].deadline = now + x->timeout_ns;
	x->st.started++;
}

/* A hook past its timeout, and whatever it started in its process group
 * (a child that left the group with setsid is on its own). */
static void kill_hook(pid_t pid)
{
	if (kill(-pid, SIGKILL))
		kill(pid, SIGKILL);
}

static int free_slot(struct alert_exec *x)
{
	for (int i = 0; i < MAX_RUNNING; i++)
		if (!x->running[i].pid)
			return i;
	return -1;
}

void alert_exec__submit(struct alert_exec *x, const struct alert *a, const char *json, size_t n,
			uint64_t now_ns)
{
	struct job *j;

	if (x->qlen == MAX_QUEUED) {
		x->st.dropped++;
		return;
	}
	j = &x->queue[(x->qhead + x->qlen) % MAX_QUEUED];
	j->json = malloc(n);
	if (!j->json) {
		x->st.dropped++;
		return;
	}
	memcpy(j->json, json, n);
	j->n = n;
	j->a = *a;
	x->qlen++;
	alert_exec__tick(x, now_ns);
}

void alert_exec__tick(struct alert_exec *x, uint64_t now_ns)
{
	int status, slot;

	for (int i = 0; i < MAX_RUNNING; i++) {
		pid_t pid = x->running[i].pid;

		if (!pid)
			continue;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				x->st.failed++;
			x->running[i].pid = 0;
		} else if (now_ns >= x->running[i].deadline) {
			kill_hook(pid);
			waitpid(pid, &status, 0);
			x->running[i].pid = 0;
			x->st.timed_out++;
		}
	}
	while (x->qlen && (slot = free_slot(x)) >= 0) {
		struct job *j = &x->queue[x->qhead];

		start(x, j, slot, now_ns);
		free(j->json);
		x->qhead = (x->qhead + 1) % MAX_QUEUED;
		x->qlen--;
	}
}

void alert_exec__free(struct alert_exec *x)
{
	if (!x)
		return;
	/* let running hooks finish within their timeout, then kill them */
	for (int i = 0; i < MAX_RUNNING; i++) {
		int status;

		if (!x->running[i].pid)
			continue;
		while (waitpid(x->running[i].pid, &status, WNOHANG) == 0) {
			if (clock_boot_ns() >= x->running[i].deadline) {
				kill_hook(x->running[i].pid);
				waitpid(x->running[i].pid, &status, 0);
				x->st.timed_out++;
				break;
			}
			usleep(10000);
		}
	}
	while (x->qlen) {
		free(x->queue[x->qhead].json);
		x->qhead = (x->qhead + 1) % MAX_QUEUED;
		x->qlen--;
		x->st.dropped++;
	}
	free(x->cmd);
	free(x);
}

const struct alert_exec_stats *alert_exec__stats(const struct alert_exec *x)
{
	return &x->st;
}
