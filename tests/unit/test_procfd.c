// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Who holds which socket (/proc/PID/fd), on this process's own sockets: no
 * root needed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "sys/procfd.h"
#include "support.h"

static uint32_t ino_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* a connected TCP pair on loopback: listener, client, accepted */
static void tcp_pair(int fds[3])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fds[0] >= 0);
	assert_int_equal(bind(fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fds[0], 1), 0);
	assert_int_equal(getsockname(fds[0], (struct sockaddr *)&a, &len), 0);
	fds[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fds[1] >= 0);
	assert_int_equal(connect(fds[1], (struct sockaddr *)&a, sizeof(a)), 0);
	fds[2] = accept4(fds[0], NULL, NULL, SOCK_CLOEXEC);
	assert_true(fds[2] >= 0);
}

static void close_all(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* the fd of each of our sockets, found by its inode */
static void test_fd_of(void **unused)
{
	int sp[2], tcp[3], file, dup_fd;
	uint32_t ino;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	tcp_pair(tcp);
	for (int i = 0; i < 2; i++)
		assert_int_equal(procfd_fd_of(getpid(), ino_of(sp[i])), sp[i]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(procfd_fd_of(getpid(), ino_of(tcp[i])), tcp[i]);
	/* held twice: the lower fd */
	dup_fd = fcntl(tcp[1], F_DUPFD_CLOEXEC, tcp[2] + 10);
	assert_true(dup_fd > tcp[1]);
	assert_int_equal(procfd_fd_of(getpid(), ino_of(dup_fd)), tcp[1]);
	close(tcp[1]);
	assert_int_equal(procfd_fd_of(getpid(), ino_of(dup_fd)), dup_fd);
	/* a file's inode is no socket's, even when the numbers meet */
	file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	assert_true(file >= 0);
	assert_int_equal(procfd_fd_of(getpid(), ino_of(file)), -ENOENT);
	close(file);
	/* closed: held no more */
	ino = ino_of(sp[0]);
	close(sp[0]);
	assert_int_equal(procfd_fd_of(getpid(), ino), -ENOENT);
	close_all(sp + 1, 1);
	close_all(tcp, 1);
	close_all(tcp + 2, 1);
	close(dup_fd);
}

/* no such process; a process that is not ours (init: CAP_SYS_PTRACE) is
 * passed over the same way by the callers */
static void test_fd_of_no_process(void **unused)
{
	pid_t child = fork();
	int status;

	assert_true(child >= 0);
	if (!child)
		_exit(0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(procfd_fd_of(child, 1), -ENOENT);
	assert_int_equal(procfd_sockets(child, NULL, NULL), -ENOENT);
}

struct seen {
	int fds[16];
	uint32_t inos[16];
	int n;
	int stop_after;
};

static int collect(void *ctx, int fd, uint32_t ino)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		s->fds[s->n] = fd;
		s->inos[s->n] = ino;
	}
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

/* every socket and only sockets, with its inode; fn's non-zero stops */
static void test_sockets(void **unused)
{
	int sp[2], pipefd[2], file, found = 0;
	struct seen s = {};

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	assert_true(file >= 0);
	assert_int_equal(procfd_sockets(getpid(), collect, &s), 0);
	assert_true(s.n >= 2 && s.n <= 16);
	for (int i = 0; i < s.n; i++) {
		assert_int_not_equal(s.fds[i], pipefd[0]);
		assert_int_not_equal(s.fds[i], pipefd[1]);
		assert_int_not_equal(s.fds[i], file);
		assert_int_equal(s.inos[i], ino_of(s.fds[i]));
		found += s.fds[i] == sp[0] || s.fds[i] == sp[1];
	}
	assert_int_equal(found, 2);
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(procfd_sockets(getpid(), collect, &s), 7);
	assert_int_equal(s.n, 1);
	close_all(sp, 2);
	close_all(pipefd, 2);
	close(file);
}

/* the owners of the host's sockets: ours among them, with our name; the
 * lowest pid of those holding one; only the wanted inodes when asked */
static void test_owners(void **unused)
{
	int sp[2], tcp[3], ready[2], status;
	uint32_t want[3], child_only;
	struct procfd_owner *v;
	const struct procfd_owner *o;
	char comm[TCPFSM_COMM_LEN] = "", c;
	size_t n;
	pid_t child;

	/* names are any bytes: making them printable is the formatters' job */
	assert_int_equal(prctl(PR_SET_NAME, "procfd-test\x01x"), 0);
	assert_int_equal(prctl(PR_GET_NAME, comm), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	tcp_pair(tcp);
	/* a child holds the listener too, and only the child holds sp[1] */
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		/* gone with us, even when an assertion ends the test early */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, "procfd-child");
		close(ready[0]);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	want[0] = ino_of(sp[0]);
	want[1] = child_only = ino_of(sp[1]);
	want[2] = ino_of(tcp[0]);
	close(sp[1]);

	/* everything: ours are there */
	assert_int_equal(procfd_owners(NULL, 0, &v, &n), 0);
	assert_true(n >= 5);
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1].ino < v[i].ino);
	o = procfd_owner_of(v, n, ino_of(tcp[2]));
	assert_non_null(o);
	assert_int_equal(o->pid, getpid());
	assert_string_equal(o->comm, comm);
	o = procfd_owner_of(v, n, child_only);
	assert_non_null(o);
	assert_int_equal(o->pid, child);
	assert_string_equal(o->comm, "procfd-child");
	o = procfd_owner_of(v, n, want[2]);
	assert_non_null(o);
	assert_int_equal(o->pid, child < getpid() ? child : getpid());
	free(v);

	/* only the wanted ones (sorted) */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (want[j] < want[i]) {
				uint32_t t = want[i];

				want[i] = want[j];
				want[j] = t;
			}
	assert_int_equal(procfd_owners(want, 3, &v, &n), 0);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(v[i].ino, want[i]);
	assert_null(procfd_owner_of(v, n, ino_of(tcp[1])));
	free(v);

	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	/* held by nobody now: none found */
	assert_int_equal(procfd_owners(&child_only, 1, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	close_all(sp, 1);
	close_all(tcp, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_of),
		cmocka_unit_test(test_fd_of_no_process),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_owners),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
