// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm watch`: alerts while connections are stuck, as lines on stdout
 * (and syslog, hooks). The engine (engine/engine.h) does the work: records
 * into the connection table and the alert engine, sweeps on time; a replay
 * (-r) runs the same sweeps on the records' clock.
 */
#include <errno.h>
#include "cmd/watch.h"
#include "engine/engine.h"
#include "engine/notify.h"
#include "sys/log.h"
#include "sys/output.h"

struct watch {
	struct output out;
	struct notify *notify;
};

static int w_alert(void *ctx, const struct alert *a)
{
	struct watch *w = ctx;

	return notify__alert(w->notify, a);
}

static int w_start(void *ctx, const struct source_info *info)
{
	struct watch *w = ctx;

	notify__set_clock(w->notify, info->boot_to_real_ns);
	return 0;
}

static int w_tick(void *ctx, uint64_t now)
{
	struct watch *w = ctx;

	notify__tick(w->notify, now);
	return output_flush(&w->out);
}

int cmd_watch(const struct tcpfsm_config *cfg)
{
	struct watch w = {};
	const struct engine_ops ops = {
		.ctx = &w,
		.alert = w_alert,
		.start = w_start,
		.tick = w_tick,
		.extra_fd = -1,
	};
	struct source_result res;
	struct engine *e = NULL;
	int err, rc = 1;

	output_init(&w.out);
	w.notify = notify__new(cfg, &w.out);
	if (!w.notify) {
		rc = errno == EINVAL ? 2 : 1;
		goto cleanup;
	}
	e = engine__new(cfg, &ops);
	if (!e) {
		pr_err("out of memory");
		goto cleanup;
	}
	err = engine__run(e, &res);
	output_flush(&w.out);
	notify__free(w.notify);
	w.notify = NULL;
	/* -EPIPE: stdout is gone, a quiet end */
	if (!err)
		engine__report(e, &res);
	rc = err && err != -EPIPE ? 1 : 0;
cleanup:
	notify__free(w.notify);
	engine__free(e);
	return rc;
}
