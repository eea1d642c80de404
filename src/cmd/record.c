// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `tcpfsm record -w FILE`: the raw records, snapshot seeds first, to a file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cmd/record.h"
#include "sys/log.h"
#include "sys/record.h"
#include "kernel/source.h"

struct rec_ctx {
	struct record_writer *w;
	uint64_t written;
};

static int rec_record(void *ctx, const struct tcpfsm_event *e)
{
	struct rec_ctx *r = ctx;
	int err = record_writer__write(r->w, e);

	if (err)
		pr_err("writing the record file: %s", strerror(-err));
	r->written++;
	return err;
}

static int rec_tick(void *ctx, uint64_t now)
{
	return record_writer__flush(((struct rec_ctx *)ctx)->w);
}

int cmd_record(const struct tcpfsm_config *cfg)
{
	struct rec_ctx r = {};
	struct sink sink = { NULL, rec_record, rec_tick, NULL, &r, true };
	struct source_result res;
	char msg[256];
	int err, cerr;

	/* open the file first: a bad path fails before anything is loaded */
	r.w = record_writer__open(cfg->write_path, source_boot_to_real(), clock_ns(CLOCK_BOOTTIME),
				  msg, sizeof(msg));
	if (!r.w) {
		pr_err("%s", msg);
		return 1;
	}
	err = source_run(cfg, &sink, &res);
	cerr = record_writer__close(r.w, res.lost);
	if (cerr)
		pr_err("finishing %s: %s", cfg->write_path, strerror(-cerr));
	if (!err)
		source_report(cfg, &res);
	pr_info("%llu records written to %s", (unsigned long long)r.written, cfg->write_path);
	return err || cerr ? 1 : 0;
}
