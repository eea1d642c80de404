// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One BPF ring buffer read in place. The kernel's layout: a consumer page
 * (the reader writes its position there), a producer page (the producers'
 * position), then the data pages, mapped twice in a row so that a record
 * wrapping around the end is contiguous. Each record starts with an 8-byte
 * header whose first word is its length with two flags: BUSY while the
 * producer that reserved it has not committed it, DISCARD if it gave it up.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "kernel/ringbuf.h"

struct ringbuf {
	int fd;				/* -1: memory of the caller's */
	unsigned long *consumer_pos;	/* the page we write */
	const unsigned long *producer_pos;
	const uint8_t *data;		/* mapped twice: records never wrap */
	size_t size, page;
};

static struct ringbuf *ringbuf_alloc(size_t size)
{
	struct ringbuf *rb;

	/* positions are masked with size - 1 */
	if (!size || (size & (size - 1))) {
		errno = EINVAL;
		return NULL;
	}
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return NULL;
	rb->fd = -1;
	rb->size = size;
	rb->page = sysconf(_SC_PAGESIZE);
	return rb;
}

struct ringbuf *ringbuf__new(int fd, size_t size)
{
	struct ringbuf *rb = fd < 0 ? NULL : ringbuf_alloc(size);
	void *p;
	int err;

	if (!rb) {
		err = fd < 0 ? -EBADF : -errno;
		goto cleanup;
	}
	rb->fd = fd;
	p = mmap(NULL, rb->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto cleanup;
	}
	rb->consumer_pos = p;
	/* the kernel maps the data pages twice past the producer page */
	p = mmap(NULL, rb->page + 2 * size, PROT_READ, MAP_SHARED, fd, rb->page);
	if (p == MAP_FAILED) {
		err = -errno;
		goto cleanup;
	}
	rb->producer_pos = p;
	rb->data = (const uint8_t *)p + rb->page;
	return rb;

cleanup:
	if (rb)
		ringbuf__free(rb);
	else if (fd >= 0)
		close(fd);
	errno = -err;
	return NULL;
}

struct ringbuf *ringbuf__new_mem(void *consumer_page, const void *producer_page, size_t size)
{
	struct ringbuf *rb = ringbuf_alloc(size);

	if (!rb)
		return NULL;
	rb->consumer_pos = consumer_page;
	rb->producer_pos = producer_page;
	rb->data = (const uint8_t *)producer_page + rb->page;
	return rb;
}

int ringbuf__fd(const struct ringbuf *rb)
{
	return rb->fd;
}

int ringbuf__consume(struct ringbuf *rb, ringbuf_sample_fn fn, void *ctx)
{
	/* only we write it */
	unsigned long cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_RELAXED);
	unsigned long published = cons, prod;
	int n = 0, err = 0;

	/* the producers' position, then their headers: acquire, so that what
	 * a committed header announces is read after the header */
	while ((prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE)) > cons) {
		while (cons < prod) {
			const uint32_t *hdr = (const uint32_t *)(rb->data + (cons & (rb->size - 1)));
			uint32_t word = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			uint32_t len = word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

			/* reserved, not committed yet: the records behind it
			 * wait too (the position must not pass it) */
			if (word & BPF_RINGBUF_BUSY_BIT)
				goto out;
			if (!(word & BPF_RINGBUF_DISCARD_BIT)) {
				/* before the position moves past it: the
				 * producer may then write over it */
				err = fn(ctx, (const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ, len);
				if (err >= 0)
					n++;
			}
			cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
			if (err < 0)
				goto out;
			if (cons - published >= RINGBUF_RELEASE_BYTES) {
				__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
				published = cons;
			}
		}
	}
out:
	/* not stored when unchanged: the store alone costs the producer */
	if (cons != published)
		__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
	return err < 0 ? err : n;
}

void ringbuf__free(struct ringbuf *rb)
{
	if (!rb)
		return;
	if (rb->fd >= 0) {
		if (rb->consumer_pos)
			munmap(rb->consumer_pos, rb->page);
		if (rb->producer_pos)
			munmap((void *)rb->producer_pos, rb->page + 2 * rb->size);
		close(rb->fd);
	}
	free(rb);
}
