// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `tcpfsm trace`: one line (or JSON object) per transition on stdout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pure/dropfmt.h"
#include "pure/filter.h"
#include "pure/format.h"
#include "pure/ksyms.h"
#include "sys/log.h"
#include "sys/output.h"
#include "kernel/drops.h"
#include "kernel/source.h"
#include "cmd/trace.h"

struct trace_ctx {
	const struct tcpfsm_config *cfg;
	struct fmt_opts fmt;
	struct output out;
	struct dropnames *names;	/* --drops */
};

static int on_start(void *ctx, const struct source_info *info)
{
	struct trace_ctx *t = ctx;
	char hdr[256];

	t->fmt.boot_to_real_ns = info->boot_to_real_ns;
	/* kernel addresses and reason numbers are this boot's: a recording
	 * from another one gets numbers, not names that may be wrong */
	if (t->cfg->replay)
		dropnames__for_recording(t->names, info->boot_to_real_ns);
	if (!t->cfg->json) {
		format_text_header(hdr, sizeof(hdr));
		return output_write(&t->out, hdr, strlen(hdr));
	}
	return 0;
}

/* A drop has no owner and is no transition: --pid, --comm and --state
 * leave drops out. */
static int on_drop(struct trace_ctx *t, const struct tcpfsm_event *e)
{
	const struct user_filter *uf = &t->cfg->uf;
	char buf[FORMAT_EVENT_MAX], reason[32], where[KSYM_NAME_MAX];
	struct drop_names dn;
	int n;

	if (uf->n_pids || uf->n_comms || uf->state_mask)
		return 0;
	dn.reason = dropnames__reason(t->names, e->ino, reason, sizeof(reason));
	dn.where = dropnames__where(t->names, e->old_duration_ns, where, sizeof(where));
	if (t->cfg->json)
		n = format_drop_json(buf, sizeof(buf), e, &t->fmt, &dn);
	else
		n = format_drop_text(buf, sizeof(buf), e, &t->fmt, &dn);
	return output_write(&t->out, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
}

static int on_record(void *ctx, const struct tcpfsm_event *e)
{
	struct trace_ctx *t = ctx;
	char buf[FORMAT_EVENT_MAX];
	int n;

	if (e->kind == TCPFSM_KIND_DROP && t->cfg->drops)
		return on_drop(t, e);
	if (e->kind != TCPFSM_KIND_TRANSITION || !filter_user_side(&t->cfg->uf, e))
		return 0;
	if (t->cfg->json)
		n = format_event_json(buf, sizeof(buf), e, &t->fmt);
	else
		n = format_event_text(buf, sizeof(buf), e, &t->fmt);
	return output_write(&t->out, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
}

static int on_tick(void *ctx, uint64_t now)
{
	return output_flush(&((struct trace_ctx *)ctx)->out);
}

int cmd_trace(const struct tcpfsm_config *cfg)
{
	struct trace_ctx t = { .cfg = cfg };
	struct sink sink = { on_start, on_record, on_tick, NULL, &t, false };
	struct source_result res;
	int err;

	output_init(&t.out);
	/* before source_run gives up privileges: kallsyms shows addresses
	 * only to those who open it privileged */
	if (cfg->drops && !(t.names = dropnames__new())) {
		pr_err("out of memory");
		return 1;
	}
	err = source_run(cfg, &sink, &res);
	output_flush(&t.out);
	dropnames__free(t.names);
	if (err == -EPIPE)
		return 0; /* the reader went away: not an error */
	if (!err)
		source_report(cfg, &res);
	return err ? 1 : 0;
}
