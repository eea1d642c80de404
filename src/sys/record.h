/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_RECORD_H
#define TCPFSM_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

/*
 * Record file: a 64-byte header, then fixed-size records (struct
 * tcpfsm_event as the kernel wrote it). Little-endian. The header carries the
 * clock base, so replayed times are wall-clock, and, once the writer closed
 * cleanly, the counts of records and of events the kernel lost, and when the
 * recording ended (so a replay knows how long a last state lasted).
 */
#define RECORD_MAGIC "TCPFSMR\n"
#define RECORD_VERSION 1
#define RECORD_F_FINISHED 1u	/* events/lost are valid: closed cleanly */

struct record_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;	/* 64 */
	uint32_t record_size;	/* sizeof(struct tcpfsm_event) */
	uint32_t flags;
	int64_t boot_to_real_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME when recorded */
	uint64_t start_boot_ns;	/* CLOCK_BOOTTIME at start */
	uint64_t records;	/* records written (when finished) */
	uint64_t lost;		/* events the kernel lost (when finished) */
	/* CLOCK_BOOTTIME at the end (when finished); 0 in files written before
	 * it was recorded, in what were 8 reserved bytes (same version) */
	uint64_t end_boot_ns;
};

struct record_reader;
struct record_writer;

/* path "-" reads stdin. NULL with a message in err (errno set) on failure. */
struct record_reader *record_reader__open(const char *path, char *err, size_t errlen);
/*
 * Next record into e: 1, 0 at the end, or with a message naming the byte
 * offset or the counts: -ENODATA when the file is cut short (a partial last
 * record, or fewer records than a finished header counts), -EINVAL for a
 * corrupt record, -EIO for a read error. The records before are good.
 */
int record_reader__next(struct record_reader *r, struct tcpfsm_event *e, char *err, size_t errlen);
const struct record_header *record_reader__header(const struct record_reader *r);
/* Records read so far. */
uint64_t record_reader__count(const struct record_reader *r);
void record_reader__close(struct record_reader *r);

/* Is this record well-formed? NULL if so, else what is wrong. */
const char *record_check(const struct tcpfsm_event *e);

/* path "-" writes stdout. NULL with a message in err on failure. */
struct record_writer *record_writer__open(const char *path, int64_t boot_to_real_ns,
					  uint64_t start_boot_ns, char *err, size_t errlen);
int record_writer__write(struct record_writer *w, const struct tcpfsm_event *e);
int record_writer__flush(struct record_writer *w);
/* Flush, and mark the header finished with the counts and the end time
 * (CLOCK_BOOTTIME) if the file is seekable. Returns 0 or -errno. Frees w. */
int record_writer__close(struct record_writer *w, uint64_t lost, uint64_t end_boot_ns);

#endif
