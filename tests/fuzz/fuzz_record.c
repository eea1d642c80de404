// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: the record-file reader, and what it feeds (conntab, hist). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "conntab.h"
#include "hist.h"
#include "record.h"

static void drop(void *ctx, const struct conn *c, const struct conn_end *end)
{
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
