/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_RINGBUF_H
#define TCPFSM_RINGBUF_H

#include <stddef.h>

/*
 * A reader of one BPF ring buffer (BPF_MAP_TYPE_RINGBUF), mapped by us as
 * libbpf's ring_buffer does it but for one thing: the consumer position is
 * published every RINGBUF_RELEASE_BYTES and at the end of a call, not once per
 * record. Each store to it is a cache line the producing CPU must fetch back
 * before its next record; per record, that miss was a large part of the BPF
 * program's cost under a connection storm. Every RINGBUF_RELEASE_BYTES is
 * often enough that draining a full ring (after a stall) frees room as it
 * goes.
 */
#define RINGBUF_RELEASE_BYTES (64 * 1024)

struct ringbuf;

/*
 * Called with each committed record (not discarded) in ring order; returns 0,
 * or -errno to stop the call (that record counts as consumed).
 */
typedef int (*ringbuf_sample_fn)(void *ctx, const void *data, size_t size);

/*
 * Map the ring buffer map fd, of size data bytes (its max_entries: a power of
 * two, a multiple of the page size). The fd is the reader's from now on,
 * closed by ringbuf__free (or here on failure). Returns NULL with errno set.
 */
struct ringbuf *ringbuf__new(int fd, size_t size);
/*
 * A reader of memory laid out as the kernel maps a ring buffer: the consumer
 * page (written by the reader), and at producer_page the producer page
 * followed by the size data bytes mapped twice in a row, so that a record
 * wrapping around the end reads as one piece. For synthetic rings (tests);
 * the memory stays the caller's. Returns NULL with errno set.
 */
struct ringbuf *ringbuf__new_mem(void *consumer_page, const void *producer_page, size_t size);
/* The map's fd (polls readable when records wait), or -1 for memory. */
int ringbuf__fd(const struct ringbuf *rb);
/*
 * Hand fn every committed record, up to the first one still being written
 * (BUSY: its producer has reserved but not yet committed it; the next call
 * starts there), skipping discarded ones. Returns the records handed over, or
 * the -errno with which fn stopped the call.
 */
int ringbuf__consume(struct ringbuf *rb, ringbuf_sample_fn fn, void *ctx);
void ringbuf__free(struct ringbuf *rb);

#endif
