// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The ring buffer reader against synthetic rings laid out as the kernel maps
 * a BPF ring buffer (tests/unit/synth_ring.h: no root).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include "kernel/ringbuf.h"
#include "synth_ring.h"

#define ROUND8 SYNTH_ROUND8

/* The payload byte i of the record numbered id: the id, then a pattern. */
static uint8_t pattern(unsigned int id, size_t i)
{
	if (i < 4)
		return (uint8_t)(id >> (8 * i));
	return (uint8_t)(id * 31 + i * 7 + 1);
}

/*
 * Reserve record id of len bytes, fill it and commit it unless flags says
 * BUSY (left reserved) or DISCARD. Returns its position.
 */
static unsigned long put(struct synth *s, unsigned int id, uint32_t len, uint32_t flags)
{
	uint8_t *p;
	unsigned long pos;

	assert_true(len >= 4);
	pos = synth_reserve(s, len, &p);
	for (size_t i = 0; i < len; i++)
		p[i] = pattern(id, i);
	if (!(flags & BPF_RINGBUF_BUSY_BIT))
		synth_commit(s, pos, flags & BPF_RINGBUF_DISCARD_BIT);
	return pos;
}

static void commit(struct synth *s, unsigned long pos, bool discard)
{
	synth_commit(s, pos, discard);
}

/* What the callback saw. */
struct seen {
	struct synth *s;
	unsigned int n;
	unsigned int ids[8192];
	size_t sizes[8192];
	size_t offsets[8192];		/* where in the data, header included */
	unsigned long cons_at[8192];	/* the consumer position while in the callback */
	unsigned int stop_at;		/* the callback at which to fail, 0: never */
	unsigned int calls;
};

/* Each record's id, size, place; its payload must be whole. */
static int on_record(void *ctx, const void *data, size_t size)
{
	struct seen *w = ctx;
	const uint8_t *p = data;
	unsigned int id;

	assert_true(w->n < 8192);
	assert_true(size >= 4);
	w->calls++;
	id = p[0] | p[1] << 8 | p[2] << 16 | (unsigned int)p[3] << 24;
	for (size_t i = 0; i < size; i++)
		assert_int_equal(p[i], pattern(id, i));
	w->ids[w->n] = id;
	w->sizes[w->n] = size;
	w->offsets[w->n] = p - BPF_RINGBUF_HDR_SZ - (w->s->view_ro + w->s->page);
	w->cons_at[w->n] = __atomic_load_n(w->s->cons, __ATOMIC_RELAXED);
	w->n++;
	if (w->stop_at && w->calls == w->stop_at)
		return -EIO;
	return 0;
}

/* The i-th record seen is record id of len bytes put at pos. */
static void assert_record(struct synth *s, const struct seen *w, unsigned int i, unsigned int id,
			  size_t len, unsigned long pos)
{
	assert_true(i < w->n);
	assert_int_equal(w->ids[i], id);
	assert_int_equal(w->sizes[i], len);
	assert_int_equal(w->offsets[i], pos & (s->size - 1));
}

static void test_empty(void **state)
{
	struct seen w = {};
	struct ringbuf *rb;
	struct synth s;

	synth_init(&s, 4096, 0);
	rb = synth_reader(&s);
	w.s = &s;
	/* an empty ring does not even store the consumer position (the
	 * store alone costs the producer its cache line): read-only, a
	 * store would fault */
	assert_int_equal(mprotect(s.cons, s.page, PROT_READ), 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 0);
	assert_int_equal(mprotect(s.cons, s.page, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(*s.cons, 0);
	ringbuf__free(rb);
	synth_fini(&s);
}

static void test_one_record(void **state)
{
	struct seen w = {};
	struct ringbuf *rb;
	struct synth s;
	unsigned long pos;

	synth_init(&s, 4096, 0);
	rb = synth_reader(&s);
	w.s = &s;
	pos = put(&s, 1, 104, 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 1);
	assert_int_equal(w.n, 1);
	assert_record(&s, &w, 0, 1, 104, pos);
	assert_int_equal(*s.cons, 112);
	/* nothing new: nothing more, the position stays */
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(*s.cons, 112);
	ringbuf__free(rb);
	synth_fini(&s);
}

/* Records of sizes 1..300 bytes in many rounds: the positions go round the
 * 256 KiB ring many times; every record comes out whole and in order. */
static void test_many_records(void **state)
{
	static struct seen w;
	struct ringbuf *rb;
	struct synth s;
	unsigned int id = 0;
	unsigned long pos[4096];
	uint32_t len[4096];

	synth_init(&s, 256 * 1024, 0);
	rb = synth_reader(&s);
	for (int round = 0; round < 20; round++) {
		unsigned int n = 0, first = id;

		memset(&w, 0, sizeof(w));
		w.s = &s;
		/* up to three quarters full, to leave room for the biggest */
		while (*s.prod - *s.cons < 3 * s.size / 4 && n < 4096) {
			len[n] = 4 + (id * 7919) % 300;
			pos[n] = put(&s, id, len[n], 0);
			n++;
			id++;
		}
		assert_int_equal(ringbuf__consume(rb, on_record, &w), n);
		assert_int_equal(w.n, n);
		for (unsigned int i = 0; i < n; i++)
			assert_record(&s, &w, i, first + i, len[i], pos[i]);
		assert_int_equal(*s.cons, *s.prod);
	}
	assert_true(*s.cons > 10 * s.size);
	ringbuf__free(rb);
	synth_fini(&s);
}

/* A record that starts 16 bytes before the end of the data reads whole
 * through the second mapping. */
static void test_wrap_around(void **state)
{
	struct seen w = {};
	struct ringbuf *rb;
	struct synth s;
	unsigned long start = 3 * 4096 - 16, pos;

	synth_init(&s, 4096, start);
	rb = synth_reader(&s);
	w.s = &s;
	pos = put(&s, 7, 100, 0);
	assert_int_equal(pos & 4095, 4096 - 16);
	put(&s, 8, 20, 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 2);
	assert_record(&s, &w, 0, 7, 100, pos);
	assert_record(&s, &w, 1, 8, 20, pos + 112);
	/* the payload really is split in memory: its tail at the start */
	assert_int_equal(s.data[0], pattern(7, 8));
	assert_int_equal(*s.cons, start + 112 + 32);
	ringbuf__free(rb);
	synth_fini(&s);
}

static void test_discarded_skipped(void **state)
{
	struct seen w = {};
	struct ringbuf *rb;
	struct synth s;
	unsigned long p;

	synth_init(&s, 4096, 0);
	rb = synth_reader(&s);
	w.s = &s;
	put(&s, 1, 40, 0);
	put(&s, 2, 40, BPF_RINGBUF_DISCARD_BIT);
	put(&s, 3, 40, 0);
	p = put(&s, 4, 40, BPF_RINGBUF_BUSY_BIT);
	commit(&s, p, true); /* reserved, then given up */
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 2);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ids[0], 1);
	assert_int_equal(w.ids[1], 3);
	/* the discarded ones are consumed all the same */
	assert_int_equal(*s.cons, *s.prod);
	ringbuf__free(rb);
	synth_fini(&s);
}

/* A record still being written stops the reader there until committed; the
 * consumer position never passes it, whatever follows it. */
static void test_busy_stops(void **state)
{
	struct seen w = {};
	struct ringbuf *rb;
	struct synth s;
	unsigned long busy;

	synth_init(&s, 4096, 0);
	rb = synth_reader(&s);
	w.s = &s;
	put(&s, 1, 104, 0);
	busy = put(&s, 2, 104, BPF_RINGBUF_BUSY_BIT);
	put(&s, 3, 104, 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 1);
	assert_int_equal(w.ids[0], 1);
	assert_int_equal(*s.cons, busy);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(*s.cons, busy);
	commit(&s, busy, false);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 2);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.ids[1], 2);
	assert_int_equal(w.ids[2], 3);
	assert_int_equal(*s.cons, *s.prod);
	/* a busy record first: nothing, not even a store */
	busy = put(&s, 4, 8, BPF_RINGBUF_BUSY_BIT);
	assert_int_equal(mprotect(s.cons, s.page, PROT_READ), 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 0);
	assert_int_equal(mprotect(s.cons, s.page, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(*s.cons, busy);
	ringbuf__free(rb);
	synth_fini(&s);
}

/* Batches split across calls: by the producer (records arriving between
 * calls) and by the callback failing half-way. */
static void test_partial_batches(void **state)
{
	struct seen w = {};
	struct ringbuf *rb;
	struct synth s;
	unsigned long p3;

	synth_init(&s, 4096, 0);
	rb = synth_reader(&s);
	w.s = &s;
	for (unsigned int i = 0; i < 3; i++)
		put(&s, i, 24, 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 3);
	for (unsigned int i = 3; i < 8; i++)
		put(&s, i, 24, 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 5);
	assert_int_equal(w.n, 8);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(w.ids[i], i);
	assert_int_equal(*s.cons, 8 * 32);

	/* the callback stops at the second of five: that one is consumed,
	 * the next call starts after it */
	w.calls = 0;
	w.stop_at = 2;
	for (unsigned int i = 8; i < 13; i++)
		put(&s, i, 24, 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), -EIO);
	assert_int_equal(w.n, 10);
	assert_int_equal(*s.cons, 10 * 32);
	w.stop_at = 0;
	p3 = *s.cons;
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 3);
	assert_int_equal(w.n, 13);
	for (unsigned int i = 10; i < 13; i++)
		assert_int_equal(w.ids[i], i);
	assert_int_equal(*s.cons, p3 + 3 * 32);
	ringbuf__free(rb);
	synth_fini(&s);
}

/*
 * The consumer position moves once RINGBUF_RELEASE_BYTES were consumed since
 * it last moved (so a full ring drains as it is read), always after the
 * record that crossed the mark was handed over (it must not be overwritten
 * while read), and at the end of the call; never per record.
 */
static void test_published_in_steps(void **state)
{
	static struct seen w;
	struct ringbuf *rb;
	struct synth s;
	unsigned long start = 1024 * 1024 - 3000, pos = start, published = start;
	unsigned int moves = 0;

	synth_init(&s, 1024 * 1024, start);
	rb = synth_reader(&s);
	memset(&w, 0, sizeof(w));
	w.s = &s;
	for (unsigned int i = 0; i < 8000; i++)
		put(&s, i, 104 + (i % 3) * 8, 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 8000);
	for (unsigned int i = 0; i < 8000; i++) {
		/* what the callback saw: the position as published so far */
		assert_int_equal(w.cons_at[i], published);
		pos += ROUND8(104 + (i % 3) * 8 + BPF_RINGBUF_HDR_SZ);
		if (pos - published >= RINGBUF_RELEASE_BYTES) {
			published = pos;
			moves++;
		}
	}
	assert_int_equal(*s.cons, pos);
	assert_int_equal(*s.prod, pos);
	/* about 1 MiB read, in 64 KiB steps */
	assert_true(moves >= 13 && moves <= 16);
	ringbuf__free(rb);
	synth_fini(&s);
}

/* A ring filled to its last byte, wrapping: every record comes out. */
static void test_full_ring(void **state)
{
	struct seen w = {};
	struct ringbuf *rb;
	struct synth s;
	unsigned long start = 5 * 4096 + 1024, pos[8];

	synth_init(&s, 4096, start);
	rb = synth_reader(&s);
	w.s = &s;
	for (unsigned int i = 0; i < 8; i++)
		pos[i] = put(&s, 10 + i, 512 - BPF_RINGBUF_HDR_SZ, 0);
	assert_int_equal(*s.prod - *s.cons, s.size);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 8);
	for (unsigned int i = 0; i < 8; i++) {
		assert_int_equal(w.ids[i], 10 + i);
		assert_record(&s, &w, i, 10 + i, 512 - BPF_RINGBUF_HDR_SZ, pos[i]);
	}
	assert_int_equal(*s.cons, start + s.size);
	/* and room again for as much */
	for (unsigned int i = 0; i < 8; i++)
		put(&s, 20 + i, 512 - BPF_RINGBUF_HDR_SZ, 0);
	assert_int_equal(ringbuf__consume(rb, on_record, &w), 8);
	assert_int_equal(w.ids[15], 27);
	ringbuf__free(rb);
	synth_fini(&s);
}

static void test_bad_arguments(void **state)
{
	unsigned long page[512] = {};

	errno = 0;
	assert_null(ringbuf__new(-1, 4096));
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_null(ringbuf__new_mem(page, page, 3000));
	assert_int_equal(errno, EINVAL);
	ringbuf__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one_record),
		cmocka_unit_test(test_many_records),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_discarded_skipped),
		cmocka_unit_test(test_busy_stops),
		cmocka_unit_test(test_partial_batches),
		cmocka_unit_test(test_published_in_steps),
		cmocka_unit_test(test_full_ring),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
