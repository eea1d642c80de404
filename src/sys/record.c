// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sys/record.h"

_Static_assert(sizeof(struct record_header) == 64, "record header is 64 bytes");
#if __BYTE_ORDER != __LITTLE_ENDIAN
#error "the record format is little-endian; add byte swapping for this host"
#endif

struct record_reader {
	FILE *f;
	struct record_header h;
	uint64_t offset;
	uint64_t count;		/* records read */
	const char *path;
};

struct record_writer {
	FILE *f;
	struct record_header h;
	bool is_stdout;
};

/* A drop record's own fields (tcpfsm.h: TCPFSM_KIND_DROP). */
static const char *drop_check(const struct tcpfsm_event *e)
{
	if (e->oldstate != TCPFSM_DROP_IN && e->oldstate != TCPFSM_DROP_OUT)
		return "drop record with an unknown direction";
	if (!e->evidence || e->evidence >= TCPFSM_SEG_MAX)
		return "drop record with an unknown segment kind";
	if (e->family != TCPFSM_AF_INET && e->family != TCPFSM_AF_INET6)
		return "unknown address family";
	if (e->flags & ~TCPFSM_F_TRACEPOINT)
		return "drop record with socket flags";
	if (e->cookie || e->pid || e->cgroup_id || e->comm[0])
		return "drop record with an owner";
	return NULL;
}

const char *record_check(const struct tcpfsm_event *e)
{
	if (e->kind >= TCPFSM_KIND_MAX)
		return "unknown record kind";
	if (e->kind == TCPFSM_KIND_DROP)
		return drop_check(e);
	if (e->oldstate == 0 || e->oldstate >= TCPFSM_STATE_MAX || e->newstate == 0 ||
	    e->newstate >= TCPFSM_STATE_MAX)
		return "state out of range";
	if (e->kind != TCPFSM_KIND_TRANSITION && e->oldstate != e->newstate)
		return "snapshot or evidence record with two states";
	if (e->family != TCPFSM_AF_INET && e->family != TCPFSM_AF_INET6)
		return "unknown address family";
	/* every bit of flags has a meaning now; this one needs old == new */
	if ((e->flags & TCPFSM_F_SAME_STATE) &&
	    (e->kind != TCPFSM_KIND_TRANSITION || e->oldstate != e->newstate))
		return "same-state flag on a change of state";
	if (e->evidence & ~TCPFSM_EV_ALL)
		return "unknown evidence bits";
	if (!memchr(e->comm, 0, sizeof(e->comm)))
		return "comm not terminated";
	if (!e->cookie)
		return "zero cookie";
	if (e->old_duration_ns != TCPFSM_DURATION_UNKNOWN && e->old_duration_ns > e->ts_ns)
		return "duration longer than the time since boot";
	return NULL;
}

struct record_reader *record_reader__open(const char *path, char *err, size_t errlen)
{
	struct record_reader *r = calloc(1, sizeof(*r));
	size_t n;

	if (!r)
		return NULL;
	r->path = path;
	r->f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!r->f) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		free(r);
		errno = e;
		return NULL;
	}
	n = fread(&r->h, 1, sizeof(r->h), r->f);
	if (n < sizeof(r->h) && ferror(r->f)) {
		/* a directory, an I/O error: not the file's fault */
		int e = errno;

		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
		if (r->f != stdin)
			fclose(r->f);
		free(r);
		errno = e;
		return NULL;
	}
	if (n < sizeof(r->h) && memcmp(r->h.magic, RECORD_MAGIC, n < 8 ? n : 8)) {
		snprintf(err, errlen, "%s: not a tcpfsm record file (bad magic)", path);
		goto fail;
	}
	if (n < sizeof(r->h)) {
		snprintf(err, errlen, "%s: truncated header (%zu of %zu bytes)", path, n,
			 sizeof(r->h));
		goto fail;
	}
	if (memcmp(r->h.magic, RECORD_MAGIC, 8)) {
		snprintf(err, errlen, "%s: not a tcpfsm record file (bad magic)", path);
		goto fail;
	}
	if (r->h.version != RECORD_VERSION) {
		snprintf(err, errlen, "%s: unsupported record file version %u (this tcpfsm reads %u)",
			 path, r->h.version, RECORD_VERSION);
		goto fail;
	}
	if (r->h.header_size != sizeof(r->h) || r->h.record_size != sizeof(struct tcpfsm_event)) {
		snprintf(err, errlen, "%s: corrupt header: header %u / record %u bytes, expected %zu / %zu",
			 path, r->h.header_size, r->h.record_size, sizeof(r->h),
			 sizeof(struct tcpfsm_event));
		goto fail;
	}
	r->offset = sizeof(r->h);
	return r;
fail:
	if (r->f != stdin)
		fclose(r->f);
	free(r);
	errno = EINVAL;
	return NULL;
}

int record_reader__next(struct record_reader *r, struct tcpfsm_event *e, char *err, size_t errlen)
{
	size_t n = fread(e, 1, sizeof(*e), r->f);
	bool counted = r->h.flags & RECORD_F_FINISHED;
	const char *why;

	if (n < sizeof(*e) && ferror(r->f)) {
		snprintf(err, errlen, "%s: read error at offset %llu: %s", r->path,
			 (unsigned long long)r->offset, strerror(errno));
		return -EIO;
	}
	if (n == 0) {
		/* cut at a record boundary: only a finished header tells */
		if (counted && r->count < r->h.records) {
			snprintf(err, errlen,
				 "%s is truncated: its header counts %llu records, %llu were read",
				 r->path, (unsigned long long)r->h.records,
				 (unsigned long long)r->count);
			return -ENODATA;
		}
		return 0;
	}
	if (n < sizeof(*e)) {
		int len = snprintf(err, errlen, "%s: truncated record at offset %llu (%zu of %zu bytes)",
				   r->path, (unsigned long long)r->offset, n, sizeof(*e));

		if (counted && r->h.records > r->count && len >= 0 && (size_t)len < errlen)
			snprintf(err + len, errlen - len, "; its header counts %llu records, %llu were read",
				 (unsigned long long)r->h.records, (unsigned long long)r->count);
		return -ENODATA;
	}
	why = record_check(e);
	if (why) {
		snprintf(err, errlen, "%s: corrupt record at offset %llu: %s", r->path,
			 (unsigned long long)r->offset, why);
		return -EINVAL;
	}
	r->offset += n;
	r->count++;
	return 1;
}

const struct record_header *record_reader__header(const struct record_reader *r)
{
	return &r->h;
}

uint64_t record_reader__count(const struct record_reader *r)
{
	return r->count;
}

void record_reader__close(struct record_reader *r)
{
	if (!r)
		return;
	if (r->f && r->f != stdin)
		fclose(r->f);
	free(r);
}

struct record_writer *record_writer__open(const char *path, int64_t boot_to_real_ns,
					  uint64_t start_boot_ns, char *err, size_t errlen)
{
	struct record_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->is_stdout = !strcmp(path, "-");
	w->f = w->is_stdout ? stdout : fopen(path, "wb");
	if (!w->f) {
		int e = errno;

		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		free(w);
		errno = e;
		return NULL;
	}
	memcpy(w->h.magic, RECORD_MAGIC, 8);
	w->h.version = RECORD_VERSION;
	w->h.header_size = sizeof(w->h);
	w->h.record_size = sizeof(struct tcpfsm_event);
	w->h.boot_to_real_ns = boot_to_real_ns;
	w->h.start_boot_ns = start_boot_ns;
	if (fwrite(&w->h, sizeof(w->h), 1, w->f) != 1 || fflush(w->f)) {
		int e = errno;

		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		if (!w->is_stdout)
			fclose(w->f);
		free(w);
		errno = e;
		return NULL;
	}
	return w;
}

int record_writer__write(struct record_writer *w, const struct tcpfsm_event *e)
{
	if (fwrite(e, sizeof(*e), 1, w->f) != 1)
		return -errno ? -errno : -EIO;
	w->h.records++;
	return 0;
}

int record_writer__flush(struct record_writer *w)
{
	return fflush(w->f) ? -errno : 0;
}

int record_writer__close(struct record_writer *w, uint64_t lost, uint64_t end_boot_ns)
{
	int err = 0;

	if (fflush(w->f))
		err = -errno;
	w->h.lost = lost;
	w->h.end_boot_ns = end_boot_ns;
	w->h.flags |= RECORD_F_FINISHED;
	/* a pipe keeps the unfinished header: counts unknown, not wrong */
	if (!err && !fseek(w->f, 0, SEEK_SET)) {
		if (fwrite(&w->h, sizeof(w->h), 1, w->f) != 1 || fflush(w->f))
			err = -errno;
	}
	if (!w->is_stdout && fclose(w->f) && !err)
		err = -errno;
	free(w);
	return err;
}
