// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Replays at their edges: a recording carries its end time, so a socket that
 * sat in CLOSE_WAIT to the end alerts in `watch -r` as it did live; a
 * recording cut short (at a record boundary or inside a record) replays its
 * readable part in every command, then says it is truncated and exits 1,
 * unless --partial.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

#define DATA "tests/data/exchange.tfr"
#define HDR 64
#define REC 104

static char out[1 << 17], err[1 << 14];

static void slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* Run tcpfsm ARGS (NULL-terminated): stdout into out, stderr into err,
 * returns its exit status. */
static int tcpfsm(const char *first, ...)
{
	char opath[] = "/tmp/tcpfsm-itest-out-XXXXXX", epath[] = "/tmp/tcpfsm-itest-err-XXXXXX";
	const char *argv[32];
	int o = mkstemp(opath), e = mkstemp(epath), n = 0, status;
	va_list ap;
	pid_t pid;

	assert_true(o >= 0 && e >= 0);
	argv[n++] = tcpfsm_path();
	va_start(ap, first);
	for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(o, 1);
		dup2(e, 2);
		close_range(3, ~0U, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(o);
	close(e);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	slurp(opath, out, sizeof(out));
	slurp(epath, err, sizeof(err));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void expect_in(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fprintf(stderr, "no '%s' in:\n%s\n", needle, text);
	assert_non_null(strstr(text, needle));
}

/* The first n bytes of the committed recording into path. */
static void cut_copy(const char *path, size_t n)
{
	static char buf[1 << 16];
	int in = open(DATA, O_RDONLY), o;
	ssize_t got;

	assert_true(in >= 0);
	got = read(in, buf, sizeof(buf));
	close(in);
	assert_true(got > 0 && (size_t)got >= n);
	o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(o >= 0);
	assert_int_equal(write(o, buf, n), (ssize_t)n);
	close(o);
}

/*
 * A server that never closes after its client did: CLOSE_WAIT for 3 s, then
 * the recorder stops. Nothing happens after the client's close, so only the
 * recording's end time tells a replay that the socket sat there 3 s.
 */
static void test_watch_replay_fires_at_recording_end(void **state)
{
	const char path[] = "/tmp/tcpfsm-itest-closewait.tfr";
	const char *rec_args[] = { "-w", path, NULL };
	struct tracer rec;
	bool fired = false;
	int lfd, sfd;
	uint32_t ns;

	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&rec, "record", ns, rec_args), 0);
	sfd = lo_close_wait(&lfd, NULL);
	msleep(3000);
	assert_int_equal(tracer_stop(&rec), 0);
	tracer_free(&rec);
	close(sfd);
	close(lfd);

	assert_int_equal(tcpfsm("watch", "-r", path, "--json", "--alert", "CLOSE_WAIT=2s", NULL), 0);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		json_object *o = json_tokener_parse(line);

		if (!o)
			continue;
		if (!strcmp(ev_str(o, "type"), "alert") && !strcmp(ev_str(o, "status"), "firing") &&
		    !strcmp(ev_str(o, "state"), "CLOSE_WAIT")) {
			fired = true;
			assert_true(ev_int(o, "age_ns") >= 2000000000LL);
			assert_int_equal(ev_int(o, "pid"), getpid());
		}
		json_object_put(o);
	}
	if (!fired)
		fprintf(stderr, "no CLOSE_WAIT alert; stderr:\n%s\n", err);
	assert_true(fired);
	unlink(path);
}

/* Every replaying command on a cut recording: its readable part, then the
 * error (exit 1); with --partial a warning and exit 0. */
static void check_cut(const char *path, size_t n, const char *why)
{
	static const char *const cmds[] = { "trace", "history", "hist", "watch" };
	static char full[1 << 17];

	cut_copy(path, n);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(tcpfsm(cmds[i], "-r", DATA, NULL), 0);
		memcpy(full, out, sizeof(full));

		if (tcpfsm(cmds[i], "-r", path, NULL) != 1)
			fprintf(stderr, "%s: %s\n", cmds[i], err);
		assert_int_equal(tcpfsm(cmds[i], "-r", path, NULL), 1);
		expect_in(err, why);
		expect_in(err, "--partial replays what is there");
		/* a cut recording's losses are not "0 lost while recording" */
		assert_null(strstr(err, "lost while recording"));
		if (strcmp(cmds[i], "hist")) {
			/* what was readable, as the whole file prints it */
			assert_int_equal(strncmp(out, full, strlen(out)), 0);
		}
		if (!strcmp(cmds[i], "trace") || !strcmp(cmds[i], "history"))
			assert_true(strlen(out) > 0 && strlen(out) < strlen(full));
		if (!strcmp(cmds[i], "hist")) {
			expect_in(out, "totals");
			expect_in(out, "SYN_SENT: ");
		}

		assert_int_equal(tcpfsm(cmds[i], "-r", path, "--partial", NULL), 0);
		expect_in(err, "warning: ");
		expect_in(err, why);
		expect_in(err, "replayed from a truncated recording");
	}
	unlink(path);
}

static void test_truncated_recording(void **state)
{
	/* 30 of its 52 records: at a boundary, and half into the 31st */
	check_cut("/tmp/tcpfsm-itest-cut.tfr", HDR + 30 * REC,
		  "is truncated: its header counts 52 records, 30 were read");
	check_cut("/tmp/tcpfsm-itest-cut.tfr", HDR + 30 * REC + 50,
		  "truncated record at offset 3184 (50 of 104 bytes); its header counts 52 "
		  "records, 30 were read");
}

/* A whole old recording (no end time in its header) still replays cleanly. */
static void test_whole_recording(void **state)
{
	assert_int_equal(tcpfsm("history", "-r", DATA, NULL), 0);
	expect_in(err, "49 events replayed (0 lost while recording)");
	expect_in(err, "14 connections closed");
	assert_int_equal(tcpfsm("hist", "-r", DATA, NULL), 0);
	expect_in(err, "49 events replayed (0 lost while recording)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_replay_fires_at_recording_end),
		cmocka_unit_test(test_truncated_recording),
		cmocka_unit_test(test_whole_recording),
	};

	return cmocka_run_group_tests_name("itest_replay", tests, NULL, NULL);
}
