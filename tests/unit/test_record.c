// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Record files: writer -> reader round trip, the on-disk layout, every reader
 * error with its exact message, and the committed tests/data/exchange.tfr.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "sys/record.h"
#include "support.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HDR ((long)sizeof(struct record_header))
#define REC ((long)sizeof(struct tcpfsm_event))
#define HEX(...) ((const uint8_t[]){ __VA_ARGS__ })

/* A temporary file, removed at teardown. */
struct tmp {
	char path[256];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!t)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/tcpfsm-record-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(t->path);
	if (fd < 0) {
		free(t);
		return -1;
	}
	close(fd);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	unlink(t->path);
	free(t);
	return 0;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static struct record_header good_header(void)
{
	struct record_header h = {
		.magic = RECORD_MAGIC,
		.version = RECORD_VERSION,
		.header_size = sizeof(struct record_header),
		.record_size = sizeof(struct tcpfsm_event),
		.flags = RECORD_F_FINISHED,
		.boot_to_real_ns = 1795791600LL * 1000000000LL,
		.start_boot_ns = 1000,
	};

	return h;
}

/* A file of a header and these records. */
static void write_file(const char *path, const struct record_header *h,
		       const struct tcpfsm_event *e, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(h, sizeof(*h), 1, f), 1);
	if (n)
		assert_int_equal(fwrite(e, sizeof(*e), n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Opening fails with exactly this message (%s: the path). */
static void expect_open_error(const char *path, const char *fmt)
{
	char err[512] = "", want[512];
	struct record_reader *r;

	snprintf(want, sizeof(want), fmt, path);
	errno = 0;
	r = record_reader__open(path, err, sizeof(err));
	assert_null(r);
	assert_string_equal(err, want);
	assert_int_not_equal(errno, 0);
}

/* The on-disk layout is a contract: offsets of every field. */
static void test_layout(void **unused)
{
	assert_int_equal(sizeof(struct record_header), 64);
	assert_int_equal(offsetof(struct record_header, magic), 0);
	assert_int_equal(offsetof(struct record_header, version), 8);
	assert_int_equal(offsetof(struct record_header, header_size), 12);
	assert_int_equal(offsetof(struct record_header, record_size), 16);
	assert_int_equal(offsetof(struct record_header, flags), 20);
	assert_int_equal(offsetof(struct record_header, boot_to_real_ns), 24);
	assert_int_equal(offsetof(struct record_header, start_boot_ns), 32);
	assert_int_equal(offsetof(struct record_header, records), 40);
	assert_int_equal(offsetof(struct record_header, lost), 48);
	assert_int_equal(offsetof(struct record_header, reserved), 56);

	assert_int_equal(sizeof(struct tcpfsm_event), 104);
	assert_int_equal(offsetof(struct tcpfsm_event, ts_ns), 0);
	assert_int_equal(offsetof(struct tcpfsm_event, cookie), 8);
	assert_int_equal(offsetof(struct tcpfsm_event, old_duration_ns), 16);
	assert_int_equal(offsetof(struct tcpfsm_event, cgroup_id), 24);
	assert_int_equal(offsetof(struct tcpfsm_event, pid), 32);
	assert_int_equal(offsetof(struct tcpfsm_event, netns), 36);
	assert_int_equal(offsetof(struct tcpfsm_event, sport), 40);
	assert_int_equal(offsetof(struct tcpfsm_event, dport), 42);
	assert_int_equal(offsetof(struct tcpfsm_event, family), 44);
	assert_int_equal(offsetof(struct tcpfsm_event, oldstate), 45);
	assert_int_equal(offsetof(struct tcpfsm_event, newstate), 46);
	assert_int_equal(offsetof(struct tcpfsm_event, flags), 47);
	assert_int_equal(offsetof(struct tcpfsm_event, saddr), 48);
	assert_int_equal(offsetof(struct tcpfsm_event, daddr), 64);
	assert_int_equal(offsetof(struct tcpfsm_event, comm), 80);
	assert_int_equal(offsetof(struct tcpfsm_event, syn_retrans), 96);
	assert_int_equal(offsetof(struct tcpfsm_event, evidence), 98);
	assert_int_equal(offsetof(struct tcpfsm_event, kind), 99);
	assert_int_equal(offsetof(struct tcpfsm_event, ino), 100);
	assert_memory_equal(RECORD_MAGIC, "TCPFSMR\n", 8);
}

static void test_round_trip(void **state)
{
	struct tmp *t = *state;
	struct tcpfsm_event in[3], out;
	struct record_writer *w;
	struct record_reader *r;
	const struct record_header *h;
	char err[256] = "";
	unsigned char raw[64];
	struct stat st;
	FILE *f;

	in[0] = client_event(1, 5000, TCPFSM_CLOSE, TCPFSM_SYN_SENT);
	in[1] = client_event(1, 6000, TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED);
	in[1].old_duration_ns = 1000;
	in[1].flags |= TCPFSM_F_SOFTIRQ;
	in[1].syn_retrans = 2;
	in[1].evidence = TCPFSM_EV_RST_SENT;
	in[2] = client_event(2, 7000, TCPFSM_LISTEN, TCPFSM_LISTEN);
	in[2].kind = TCPFSM_KIND_SNAPSHOT;
	in[2].ino = 123456;
	in[2].family = TCPFSM_AF_INET6;
	memset(in[2].saddr, 0xfe, 16);

	/* a negative clock difference must survive too */
	w = record_writer__open(t->path, -123456789012LL, 4000, err, sizeof(err));
	assert_non_null(w);
	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		assert_int_equal(record_writer__write(w, &in[i]), 0);
	assert_int_equal(record_writer__flush(w), 0);

	/* while still open: an unfinished header, the records readable */
	r = record_reader__open(t->path, err, sizeof(err));
	assert_non_null(r);
	h = record_reader__header(r);
	assert_int_equal(h->flags, 0);
	assert_int_equal(h->records, 0);
	assert_int_equal(h->lost, 0);
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 1);
		assert_memory_equal(&out, &in[i], sizeof(out));
	}
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 0);
	record_reader__close(r);

	assert_int_equal(record_writer__close(w, 7), 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_size, HDR + 3 * REC);

	/* the header as bytes: little-endian fields at their offsets */
	f = fopen(t->path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(raw, 1, sizeof(raw), f), sizeof(raw));
	fclose(f);
	assert_memory_equal(raw, "TCPFSMR\n", 8);
	/* version 1, header 64, record 104, finished */
	assert_memory_equal(raw + 8, HEX(1, 0, 0, 0, 64, 0, 0, 0, 104, 0, 0, 0, 1, 0, 0, 0), 16);
	/* 3 records, 7 lost */
	assert_memory_equal(raw + 40, HEX(3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0), 16);
	assert_memory_equal(raw + 56, ((uint8_t[8]){}), 8);

	r = record_reader__open(t->path, err, sizeof(err));
	assert_non_null(r);
	h = record_reader__header(r);
	assert_memory_equal(h->magic, RECORD_MAGIC, 8);
	assert_int_equal(h->version, RECORD_VERSION);
	assert_int_equal(h->header_size, 64);
	assert_int_equal(h->record_size, 104);
	assert_int_equal(h->flags, RECORD_F_FINISHED);
	assert_true(h->boot_to_real_ns == -123456789012LL);
	assert_int_equal(h->start_boot_ns, 4000);
	assert_int_equal(h->records, 3);
	assert_int_equal(h->lost, 7);
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 1);
		assert_memory_equal(&out, &in[i], sizeof(out));
	}
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 0);
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 0); /* stays at the end */
	record_reader__close(r);
	record_reader__close(NULL);
}

/* No records, finished: a valid, empty recording. */
static void test_empty_recording(void **state)
{
	struct tmp *t = *state;
	struct record_writer *w;
	struct record_reader *r;
	struct tcpfsm_event out;
	char err[256];

	w = record_writer__open(t->path, 1, 2, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(record_writer__close(w, 0), 0);
	r = record_reader__open(t->path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(record_reader__header(r)->flags, RECORD_F_FINISHED);
	assert_int_equal(record_reader__header(r)->records, 0);
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 0);
	record_reader__close(r);
}

/* Through a pipe the header cannot be rewritten: it stays unfinished. */
static void test_writer_to_pipe(void **state)
{
	struct tmp *t = *state;
	struct tcpfsm_event e = client_event(9, 100, TCPFSM_CLOSE, TCPFSM_LISTEN), out;
	struct record_header h;
	struct record_writer *w;
	struct record_reader *r;
	unsigned char buf[1024];
	char err[256];
	ssize_t n;
	int fd;

	unlink(t->path);
	assert_int_equal(mkfifo(t->path, 0600), 0);
	fd = open(t->path, O_RDONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	w = record_writer__open(t->path, 11, 22, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(record_writer__write(w, &e), 0);
	assert_int_equal(record_writer__write(w, &e), 0);
	assert_int_equal(record_writer__close(w, 5), 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, HDR + 2 * REC);
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.flags, 0); /* counts unknown, not wrong */
	assert_int_equal(h.records, 0);
	assert_int_equal(h.lost, 0);
	assert_true(h.boot_to_real_ns == 11);
	assert_int_equal(h.start_boot_ns, 22);

	/* and a reader takes it as it is */
	unlink(t->path);
	write_bytes(t->path, buf, n);
	r = record_reader__open(t->path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 1);
	assert_memory_equal(&out, &e, sizeof(e));
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 1);
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 0);
	record_reader__close(r);
}

/* "-" reads standard input. */
static void test_reader_stdin(void **state)
{
	struct tmp *t = *state;
	struct record_header h = good_header();
	struct tcpfsm_event e = client_event(3, 100, TCPFSM_CLOSE, TCPFSM_SYN_SENT), out;
	struct record_reader *r;
	char err[256];
	int saved = dup(0), fd;

	write_file(t->path, &h, &e, 1);
	fd = open(t->path, O_RDONLY);
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	clearerr(stdin);
	r = record_reader__open("-", err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 1);
	assert_memory_equal(&out, &e, sizeof(e));
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 0);
	record_reader__close(r); /* does not close stdin */
	assert_int_equal(fcntl(0, F_GETFD), 0);
	dup2(saved, 0);
	close(saved);
	clearerr(stdin);
}

static void test_writer_errors(void **unused)
{
	char err[256] = "";
	struct record_writer *w;

	errno = 0;
	w = record_writer__open("/nonexistent-tcpfsm-dir/x.tfr", 0, 0, err, sizeof(err));
	assert_null(w);
	assert_string_equal(err, "cannot write /nonexistent-tcpfsm-dir/x.tfr: No such file or "
				 "directory");
	assert_int_equal(errno, ENOENT);

	/* the header cannot be written out */
	if (access("/dev/full", W_OK) == 0) {
		errno = 0;
		w = record_writer__open("/dev/full", 0, 0, err, sizeof(err));
		assert_null(w);
		assert_string_equal(err, "cannot write /dev/full: No space left on device");
		assert_int_equal(errno, ENOSPC);
	}
}

static void test_reader_missing_file(void **unused)
{
	expect_open_error("/nonexistent-tcpfsm-dir/x.tfr",
			  "cannot open %s: No such file or directory");
	assert_int_equal(errno, ENOENT);
}

static void test_reader_directory(void **unused)
{
	expect_open_error("/", "cannot read %s: Is a directory");
	assert_int_equal(errno, EISDIR);
}

static void test_reader_empty_file(void **state)
{
	struct tmp *t = *state;

	write_bytes(t->path, "", 0);
	expect_open_error(t->path, "%s: truncated header (0 of 64 bytes)");
	assert_int_equal(errno, EINVAL);
}

static void test_reader_bad_magic(void **state)
{
	struct tmp *t = *state;
	struct record_header h = good_header();
	const char text[] = "14:00 started the service\nall good\n";

	/* a text file, shorter than a header */
	write_bytes(t->path, text, strlen(text));
	expect_open_error(t->path, "%s: not a tcpfsm record file (bad magic)");
	assert_int_equal(errno, EINVAL);
	/* three bytes that do not start the magic */
	write_bytes(t->path, "TCX", 3);
	expect_open_error(t->path, "%s: not a tcpfsm record file (bad magic)");
	/* a full header with the wrong magic */
	memcpy(h.magic, "TCPFSMR\r", 8);
	write_file(t->path, &h, NULL, 0);
	expect_open_error(t->path, "%s: not a tcpfsm record file (bad magic)");
}

static void test_reader_short_header(void **state)
{
	struct tmp *t = *state;
	struct record_header h = good_header();

	write_bytes(t->path, &h, 30);
	expect_open_error(t->path, "%s: truncated header (30 of 64 bytes)");
	assert_int_equal(errno, EINVAL);
	/* even a prefix of the magic is taken for a cut header */
	write_bytes(t->path, &h, 5);
	expect_open_error(t->path, "%s: truncated header (5 of 64 bytes)");
	write_bytes(t->path, &h, 63);
	expect_open_error(t->path, "%s: truncated header (63 of 64 bytes)");
}

static void test_reader_wrong_version(void **state)
{
	struct tmp *t = *state;
	struct record_header h = good_header();

	h.version = 2;
	write_file(t->path, &h, NULL, 0);
	expect_open_error(t->path, "%s: unsupported record file version 2 (this tcpfsm reads 1)");
	assert_int_equal(errno, EINVAL);
	h.version = 0;
	write_file(t->path, &h, NULL, 0);
	expect_open_error(t->path, "%s: unsupported record file version 0 (this tcpfsm reads 1)");
}

static void test_reader_wrong_sizes(void **state)
{
	struct tmp *t = *state;
	struct record_header h = good_header();
	struct tcpfsm_event e = client_event(1, 10, TCPFSM_CLOSE, TCPFSM_SYN_SENT);

	h.record_size = 96;
	write_file(t->path, &h, &e, 1);
	expect_open_error(t->path,
			  "%s: corrupt header: header 64 / record 96 bytes, expected 64 / 104");
	assert_int_equal(errno, EINVAL);
	h = good_header();
	h.header_size = 128;
	write_file(t->path, &h, &e, 1);
	expect_open_error(t->path,
			  "%s: corrupt header: header 128 / record 104 bytes, expected 64 / 104");
}

static void test_reader_truncated_record(void **state)
{
	struct tmp *t = *state;
	struct record_header h = good_header();
	struct tcpfsm_event e[2] = {
		client_event(1, 10, TCPFSM_CLOSE, TCPFSM_SYN_SENT),
		client_event(1, 20, TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED),
	}, out;
	struct record_reader *r;
	char err[256], want[512];
	FILE *f;

	write_file(t->path, &h, e, 2);
	/* half a third record */
	f = fopen(t->path, "ab");
	assert_non_null(f);
	assert_int_equal(fwrite(&e[0], 1, 50, f), 50);
	fclose(f);

	r = record_reader__open(t->path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 1);
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 1);
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: truncated record at offset 272 (50 of 104 bytes)",
		 t->path);
	assert_string_equal(err, want);
	record_reader__close(r);

	/* a single byte past the header */
	write_file(t->path, &h, NULL, 0);
	f = fopen(t->path, "ab");
	fputc(0, f);
	fclose(f);
	r = record_reader__open(t->path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: truncated record at offset 64 (1 of 104 bytes)", t->path);
	assert_string_equal(err, want);
	record_reader__close(r);
}

/* Each malformed field, caught by record_check and by the reader at its offset. */
static void test_corrupt_records(void **state)
{
	static const char *const why[] = {
		"unknown record kind",
		"state out of range",
		"state out of range",
		"state out of range",
		"state out of range",
		"snapshot or evidence record with two states",
		"unknown address family",
		"unknown address family",
		"unknown evidence bits", /* (every flag bit has a meaning now) */
		"unknown evidence bits",
		"comm not terminated",
		"zero cookie",
		"duration longer than the time since boot",
	};
	struct tmp *t = *state;
	struct record_header h = good_header();
	struct tcpfsm_event e[3], out;
	struct record_reader *r;
	char err[256], want[512];

	for (size_t i = 0; i < ARRAY_SIZE(why); i++) {
		struct tcpfsm_event *bad = &e[2];

		e[0] = client_event(1, 10, TCPFSM_CLOSE, TCPFSM_SYN_SENT);
		e[1] = client_event(1, 20, TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED);
		e[2] = client_event(1, 30, TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1);
		switch (i) {
		case 0: bad->kind = TCPFSM_KIND_MAX; break;
		case 1: bad->oldstate = 0; break;
		case 2: bad->newstate = 0; break;
		case 3: bad->oldstate = TCPFSM_STATE_MAX; break;
		case 4: bad->newstate = 0xff; break;
		case 5: bad->kind = TCPFSM_KIND_SNAPSHOT; break;
		case 6: bad->family = 0; break;
		case 7: bad->family = 1; break; /* AF_UNIX */
		case 8: bad->evidence = 0x80; break;
		case 9: bad->evidence = TCPFSM_EV_ALL + 1; break;
		case 10: memset(bad->comm, 'x', sizeof(bad->comm)); break;
		case 11: bad->cookie = 0; break;
		case 12: bad->old_duration_ns = 31; break;
		}
		assert_null(record_check(&e[0]));
		assert_null(record_check(&e[1]));
		if (!record_check(bad))
			fail_msg("case %zu (%s): accepted", i, why[i]);
		assert_string_equal(record_check(bad), why[i]);

		write_file(t->path, &h, e, 3);
		r = record_reader__open(t->path, err, sizeof(err));
		assert_non_null(r);
		assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 1);
		assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), 1);
		assert_int_equal(record_reader__next(r, &out, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "%s: corrupt record at offset 272: %s", t->path,
			 why[i]);
		assert_string_equal(err, want);
		record_reader__close(r);
	}
}

/* The edges of what record_check accepts. */
static void test_record_check_accepts(void **unused)
{
	struct tcpfsm_event e = client_event(1, 10, TCPFSM_CLOSE, TCPFSM_SYN_SENT);

	assert_null(record_check(&e));
	/* a duration as long as the time since boot */
	e.old_duration_ns = 10;
	assert_null(record_check(&e));
	/* unknown duration at any time */
	e.ts_ns = 0;
	e.old_duration_ns = TCPFSM_DURATION_UNKNOWN;
	assert_null(record_check(&e));
	/* every flag, every evidence bit, every state, both families */
	e.flags = TCPFSM_F_ALL;
	e.evidence = TCPFSM_EV_RST_RECV | TCPFSM_EV_RST_SENT;
	e.oldstate = TCPFSM_NEW_SYN_RECV;
	e.newstate = TCPFSM_ESTABLISHED;
	e.family = TCPFSM_AF_INET6;
	assert_null(record_check(&e));
	/* a 15-character comm */
	memset(e.comm, 'x', sizeof(e.comm) - 1);
	e.comm[sizeof(e.comm) - 1] = 0;
	assert_null(record_check(&e));
	/* snapshot: one state */
	e.kind = TCPFSM_KIND_SNAPSHOT;
	e.oldstate = e.newstate = TCPFSM_TIME_WAIT;
	assert_null(record_check(&e));
	/* cookies made up by the tracepoint fallback */
	e.cookie = TCPFSM_COOKIE_SYNTHETIC | 5;
	assert_null(record_check(&e));
}

/* The committed recording reads cleanly from start to end. */
static void test_exchange_recording(void **unused)
{
	struct record_header hdr;
	const struct record_header *h = &hdr;
	struct tcpfsm_event *ev;
	size_t n;
	int records = 0, seeds = 0;

	ev = data_records("exchange.tfr", &hdr, &n);
	assert_int_equal(h->version, RECORD_VERSION);
	assert_int_equal(h->flags, RECORD_F_FINISHED);
	assert_int_equal(h->records, 52);
	assert_int_equal(h->lost, 0);
	assert_true(h->boot_to_real_ns == 1795791590394603501LL);
	assert_int_equal(h->start_boot_ns, 1904873278163ULL);
	for (size_t i = 0; i < n; i++) {
		records++;
		seeds += ev[i].kind == TCPFSM_KIND_SNAPSHOT;
		assert_true(ev[i].ts_ns >= h->start_boot_ns);
	}
	assert_int_equal(records, 52);
	assert_int_equal(seeds, 3);
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test_setup_teardown(test_round_trip, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_empty_recording, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_writer_to_pipe, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_reader_stdin, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test(test_reader_missing_file),
		cmocka_unit_test(test_reader_directory),
		cmocka_unit_test_setup_teardown(test_reader_empty_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_reader_bad_magic, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_reader_short_header, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_reader_wrong_version, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_reader_wrong_sizes, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_reader_truncated_record, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_records, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_record_check_accepts),
		cmocka_unit_test(test_exchange_recording),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
