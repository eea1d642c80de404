// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `tcpfsm record -w FILE`: the raw records, snapshot seeds first, to a file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cmd/record.h"
#include "sys/log.h"
#include "sys/record.h"
#include "kernel/source.h"
#include "sys/clock.h"

struct rec_ctx {
	struct record_writer *w;
	uint64_t written;
	uint64_t end_ns;	/* when the recording ended */
};

static int rec_record(void *ctx, const struct tcpfsm_event *e)
{
	struct rec_ctx *r = ctx;
	int err = record_writer__write(r->w, e);

	if (err)
		pr_err("writing the record file: %s", strerror(-err));
	else
		r->written++;
	return err;
}

static int rec_tick(void *ctx, uint64_t now)
{
	return record_writer__flush(((struct rec_ctx *)ctx)->w);
}

static int rec_end(void *ctx, uint64_t now)
{
	((struct rec_ctx *)ctx)->end_ns = now;
	return 0;
}

int cmd_record(const struct tcpfsm_config *cfg)
{
	struct rec_ctx r = {};
	struct sink sink = { NULL, rec_record, rec_tick, rec_end, &r, true };
	struct source_result res;
	char msg[256];
	int err, cerr;

	/* open the file first: a bad path fails before anything is loaded */
	r.w = record_writer__open(cfg->write_path, source_boot_to_real(), clock_boot_ns(),
				  msg, sizeof(msg));
	if (!r.w) {
		pr_err("%s", msg);
		return 1;
	}
	err = source_run(cfg, &sink, &res);
	/* the end time lets a replay age the last states as long as they
	 * lasted here (a CLOSE_WAIT that never moved still alerts) */
	cerr = record_writer__close(r.w, res.lost, r.end_ns ? r.end_ns : clock_boot_ns());
	if (cerr)
		pr_err("finishing %s: %s", cfg->write_path, strerror(-cerr));
	if (!err)
		source_report(cfg, &res);
	pr_info("%llu record%s written to %s", (unsigned long long)r.written,
		r.written == 1 ? "" : "s", cfg->write_path);
	return err || cerr ? 1 : 0;
}
