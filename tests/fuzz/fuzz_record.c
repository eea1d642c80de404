// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: the record-file reader, and what it feeds (conntab, hist,
 * the event and connection formatters). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pure/conntab.h"
#include "pure/format.h"
#include "pure/histogram.h"
#include "pure/connfmt.h"
#include "sys/record.h"

static const struct fmt_opts opts = { .boot_to_real_ns = 1700000000000000000LL };

/* snprintf semantics: the full length whatever fits, the cut text a prefix */
static void check(int (*fmt)(char *, size_t, const void *, const void *, const void *),
		  const void *a, const void *b)
{
	static char big[1 << 16], small[1 << 16];
	int full = fmt(big, sizeof(big), a, b, &opts);
	size_t cut = (size_t)full / 2;

	if (full <= 0 || (size_t)full >= sizeof(big) || strlen(big) != (size_t)full)
		abort();
	if (fmt(small, cut + 1, a, b, &opts) != full || strlen(small) != cut ||
	    memcmp(small, big, cut))
		abort();
}

static int ev_text(char *buf, size_t len, const void *e, const void *unused, const void *o)
{
	return format_event_text(buf, len, e, o);
}

static int ev_json(char *buf, size_t len, const void *e, const void *unused, const void *o)
{
	return format_event_json(buf, len, e, o);
}

static int conn_text(char *buf, size_t len, const void *c, const void *end, const void *o)
{
	return format_conn_text(buf, len, c, end, o);
}

static int conn_json(char *buf, size_t len, const void *c, const void *end, const void *o)
{
	return format_conn_json(buf, len, c, end, o);
}

static void drop(void *ctx, const struct conn *c, const struct conn_end *end)
{
	check(conn_text, c, end);
	check(conn_json, c, end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/tcpfsm-fuzz-XXXXXX", err[256];
	struct record_reader *r;
	struct tcpfsm_event e;
	struct conntab *t;
	struct hist_set hs;
	int fd = mkstemp(path), n;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	r = record_reader__open(path, err, sizeof(err));
	t = conntab__new(64);
	hist_set_init(&hs, TCPFSM_BY_COMM, 8);
	while (r && t && (n = record_reader__next(r, &e, err, sizeof(err))) > 0) {
		check(ev_text, &e, NULL);
		check(ev_json, &e, NULL);
		/* what the reader accepts, the table and histograms must take */
		if (conntab__apply(t, &e, drop, NULL))
			abort();
		hist_set_account(&hs, &e);
		conntab__expire(t, e.ts_ns);
	}
	hist_set_free(&hs);
	conntab__free(t);
	record_reader__close(r);
	unlink(path);
	return 0;
}
