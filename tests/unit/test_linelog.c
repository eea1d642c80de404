// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * serve --log's writer: whole lines in order across buffer flushes (and a
 * line bigger than the buffer); a file that cannot be written (/dev/full,
 * a file size limit) loses lines that are counted, said once on stderr
 * and again when writing works again, and a line cut short is ended so
 * the next one is whole; reopening after a rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>
#include "sys/linelog.h"

static char dir[] = "/tmp/tcpfsm-linelog-XXXXXX";
static int saved_stderr = -1;
static char errpath[64];

/* stderr into a file until stderr_text() */
static void stderr_capture(void)
{
	int fd;

	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dup2(fd, 2);
	close(fd);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	assert_int_equal(fread(buf, 1, n, f), n);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static char *stderr_text(void)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	return slurp(errpath);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static int line_of(char *buf, size_t len, int i)
{
	return snprintf(buf, len, "{\"line\":%d,\"pad\":\"%0*d\"}\n", i, 40 + i % 50, 0);
}

static void test_lines_in_order(void **unused)
{
	char path[96], buf[256], *text, *p, *big;
	struct linelog *l;
	int i;

	snprintf(path, sizeof(path), "%s/log", dir);
	l = linelog__open(path);
	assert_non_null(l);
	for (i = 0; i < 20000; i++) {
		int n = line_of(buf, sizeof(buf), i);

		linelog__write(l, buf, n);
		if (i == 10000) {
			/* a line larger than the buffer goes out whole, in order */
			big = malloc(200001);
			memset(big, 'x', 200000);
			big[199999] = '\n';
			big[200000] = 0;
			linelog__write(l, big, 200000);
			free(big);
		}
	}
	assert_int_equal(linelog__lost(l), 0);
	linelog__close(l);
	text = slurp(path);
	p = text;
	for (i = 0; i < 20000; i++) {
		int n = line_of(buf, sizeof(buf), i);

		assert_memory_equal(p, buf, n);
		p += n;
		if (i == 10000) {
			assert_int_equal(strspn(p, "x"), 199999);
			p += 200000;
		}
	}
	assert_int_equal(*p, 0);
	free(text);
	/* appended to, not truncated */
	l = linelog__open(path);
	linelog__write(l, "{}\n", 3);
	linelog__close(l);
	text = slurp(path);
	assert_string_equal(text + strlen(text) - 3, "{}\n");
	free(text);
	unlink(path);
}

static void test_dev_full(void **unused)
{
	struct linelog *l;
	char buf[256], *err;

	stderr_capture();
	l = linelog__open("/dev/full");
	assert_non_null(l);
	for (int i = 0; i < 5; i++)
		linelog__write(l, buf, line_of(buf, sizeof(buf), i));
	assert_int_equal(linelog__lost(l), 0); /* buffered */
	linelog__flush(l);
	assert_int_equal(linelog__lost(l), 5);
	for (int i = 0; i < 3; i++) {
		linelog__write(l, buf, line_of(buf, sizeof(buf), i));
		linelog__flush(l);
	}
	assert_int_equal(linelog__lost(l), 8);
	linelog__close(l);
	err = stderr_text();
	/* said once, and the total at the end */
	assert_int_equal(count(err, "cannot write"), 1);
	assert_non_null(strstr(err, "tcpfsm: warning: --log /dev/full: cannot write: No space left "
				    "on device (lines are lost until it can be; counted)\n"));
	assert_non_null(strstr(err, "tcpfsm: warning: --log /dev/full: 8 lines lost (could not be "
				    "written)\n"));
	free(err);
}

/* A file size limit: the write that reaches it is short, the next fails
 * (EFBIG); raised again, writing resumes with a whole line. */
static void test_failure_and_recovery(void **unused)
{
	struct rlimit old, lim;
	char path[96], buf[256], *err, *text, *line, *save = NULL;
	struct linelog *l;
	int good = 0, torn = 0, n;

	snprintf(path, sizeof(path), "%s/limited", dir);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	stderr_capture();
	l = linelog__open(path);
	assert_non_null(l);
	n = line_of(buf, sizeof(buf), 0);
	lim = old;
	lim.rlim_cur = n * 10 + n / 2; /* ten lines and half of one */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 20; i++)
		linelog__write(l, buf, line_of(buf, sizeof(buf), 0));
	linelog__flush(l);
	assert_int_equal(linelog__lost(l), 10);
	linelog__write(l, buf, n);
	linelog__flush(l);
	assert_int_equal(linelog__lost(l), 11);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	linelog__write(l, buf, n);
	linelog__write(l, buf, n);
	linelog__flush(l);
	assert_int_equal(linelog__lost(l), 11);
	linelog__close(l);
	signal(SIGXFSZ, SIG_DFL);
	err = stderr_text();
	assert_int_equal(count(err, "cannot write"), 1);
	assert_non_null(strstr(err, ": cannot write: File too large ("));
	assert_non_null(strstr(err, "tcpfsm: --log "));
	assert_non_null(strstr(err, ": writing again (11 lines lost)\n"));
	assert_non_null(strstr(err, ": 11 lines lost (could not be written)\n"));
	free(err);
	/* ten whole lines, the torn one, then two whole ones */
	text = slurp(path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) + 1 == (size_t)n && !memcmp(line, buf, n - 1))
			good++;
		else if (!strncmp(line, buf, strlen(line)))
			torn++;
		else
			fail_msg("garbage line '%s'", line);
	}
	assert_int_equal(good, 12);
	assert_int_equal(torn, 1);
	free(text);
	unlink(path);
}

static void test_reopen(void **unused)
{
	char path[96], moved[96], *text;
	struct linelog *l;

	snprintf(path, sizeof(path), "%s/rotated", dir);
	snprintf(moved, sizeof(moved), "%s/rotated.1", dir);
	l = linelog__open(path);
	assert_non_null(l);
	linelog__write(l, "a\n", 2);
	assert_int_equal(rename(path, moved), 0);
	/* what was queued goes to the old file, the rest to the new one */
	assert_int_equal(linelog__reopen(l), 0);
	linelog__write(l, "b\n", 2);
	linelog__close(l);
	text = slurp(moved);
	assert_string_equal(text, "a\n");
	free(text);
	text = slurp(path);
	assert_string_equal(text, "b\n");
	free(text);
	unlink(path);
	unlink(moved);
	/* a path that cannot be opened */
	assert_null(linelog__open("/nonexistent/dir/log"));
	assert_int_equal(errno, ENOENT);
}

static int setup(void **unused)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **unused)
{
	if (errpath[0])
		unlink(errpath);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_in_order),
		cmocka_unit_test(test_dev_full),
		cmocka_unit_test(test_failure_and_recovery),
		cmocka_unit_test(test_reopen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
