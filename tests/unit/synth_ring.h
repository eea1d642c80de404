/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Synthetic BPF ring buffers for unit tests (no root), laid out as the kernel
 * maps one: a memfd holding the consumer page, the producer page and the data
 * pages, the data mapped twice in a row. The reader gets a read-only view of
 * the producer side; the test writes records through a writable view of the
 * same memory, as a BPF program would: the producer position moves at
 * reservation, the header says BUSY until the record is committed or
 * discarded. Include after <cmocka.h>.
 */
#ifndef TCPFSM_TESTS_SYNTH_RING_H
#define TCPFSM_TESTS_SYNTH_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "kernel/ringbuf.h"

#define SYNTH_ROUND8(x) (((x) + 7UL) & ~7UL)

struct synth {
	size_t size, page;
	int fd;
	unsigned long *cons;	/* the consumer page, the reader's */
	uint8_t *view_ro;	/* producer page + data twice, for the reader */
	uint8_t *view_rw;	/* the same, for the producer (the test) */
	unsigned long *prod;
	uint8_t *data;
};

/* The producer page and the data twice at one address, as the kernel does. */
static inline uint8_t *synth_map_twice(int fd, size_t page, size_t size, int prot)
{
	uint8_t *p = mmap(NULL, page + 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_true(mmap(p, page + size, prot, MAP_SHARED | MAP_FIXED, fd, page) == p);
	assert_true(mmap(p + page + size, size, prot, MAP_SHARED | MAP_FIXED, fd, 2 * page) ==
		    p + page + size);
	return p;
}

/* A ring of size data bytes, both positions at start. */
static inline void synth_init(struct synth *s, size_t size, unsigned long start)
{
	memset(s, 0, sizeof(*s));
	s->size = size;
	s->page = sysconf(_SC_PAGESIZE);
	s->fd = memfd_create("tcpfsm-test-ring", MFD_CLOEXEC);
	assert_true(s->fd >= 0);
	assert_int_equal(ftruncate(s->fd, 2 * s->page + size), 0);
	s->cons = mmap(NULL, s->page, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	assert_true(s->cons != MAP_FAILED);
	s->view_ro = synth_map_twice(s->fd, s->page, size, PROT_READ);
	s->view_rw = synth_map_twice(s->fd, s->page, size, PROT_READ | PROT_WRITE);
	s->prod = (unsigned long *)s->view_rw;
	s->data = s->view_rw + s->page;
	*s->cons = start;
	*s->prod = start;
}

/* A reader of s (the memory stays s's). */
static inline struct ringbuf *synth_reader(struct synth *s)
{
	struct ringbuf *rb = ringbuf__new_mem(s->cons, s->view_ro, s->size);

	assert_non_null(rb);
	assert_int_equal(ringbuf__fd(rb), -1);
	return rb;
}

static inline void synth_fini(struct synth *s)
{
	munmap(s->view_ro, s->page + 2 * s->size);
	munmap(s->view_rw, s->page + 2 * s->size);
	munmap(s->cons, s->page);
	close(s->fd);
}

/* Reserve len bytes as bpf_ringbuf_reserve does: the record's position, its
 * payload (writable) in *payload. */
static inline unsigned long synth_reserve(struct synth *s, uint32_t len, uint8_t **payload)
{
	unsigned long pos = *s->prod;
	uint8_t *rec = s->data + (pos & (s->size - 1));

	/* the kernel refuses what does not fit: a test must not ask */
	assert_true(pos + SYNTH_ROUND8(len + BPF_RINGBUF_HDR_SZ) - *s->cons <= s->size);
	__atomic_store_n((uint32_t *)rec, len | BPF_RINGBUF_BUSY_BIT, __ATOMIC_RELAXED);
	((uint32_t *)rec)[1] = 0;
	__atomic_store_n(s->prod, pos + SYNTH_ROUND8(len + BPF_RINGBUF_HDR_SZ), __ATOMIC_RELEASE);
	*payload = rec + BPF_RINGBUF_HDR_SZ;
	return pos;
}

/* Commit (or discard) the record reserved at pos. */
static inline void synth_commit(struct synth *s, unsigned long pos, bool discard)
{
	uint32_t *hdr = (uint32_t *)(s->data + (pos & (s->size - 1)));
	uint32_t len = *hdr & ~BPF_RINGBUF_BUSY_BIT;

	__atomic_store_n(hdr, len | (discard ? BPF_RINGBUF_DISCARD_BIT : 0), __ATOMIC_RELEASE);
}

/* Reserve, fill with len bytes of data, commit: bpf_ringbuf_output. */
static inline unsigned long synth_output(struct synth *s, const void *data, uint32_t len)
{
	uint8_t *p;
	unsigned long pos = synth_reserve(s, len, &p);

	memcpy(p, data, len);
	synth_commit(s, pos, false);
	return pos;
}

#endif
