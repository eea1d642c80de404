// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `tcpfsm trace`: one line (or JSON object) per transition on stdout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "filter.h"
#include "format.h"
#include "log.h"
#include "loop.h"
#include "trace.h"

struct trace_ctx {
	const struct tcpfsm_config *cfg;
	struct fmt_opts fmt;
	uint64_t received, shown;
	bool dirty;
};

static int64_t ts_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CLOCK_REALTIME - CLOCK_BOOTTIME, read as closely together as we can */
static int64_t boot_to_real(void)
{
	int64_t b1 = ts_ns(CLOCK_BOOTTIME), r = ts_ns(CLOCK_REALTIME), b2 = ts_ns(CLOCK_BOOTTIME);

	return r - (b1 + (b2 - b1) / 2);
}

static int on_event(void *ctx, const struct tcpfsm_event *e)
{
	struct trace_ctx *t = ctx;
	char buf[FORMAT_EVENT_MAX];
	int n;

	t->received++;
	if (!filter_user_side(t->cfg, e))
		return 0;
	t->shown++;
	if (t->cfg->json)
		n = format_event_json(buf, sizeof(buf), e, &t->fmt);
	else
		n = format_event_text(buf, sizeof(buf), e, &t->fmt);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (fwrite(buf, 1, n, stdout) != (size_t)n)
		return -EPIPE;
	t->dirty = true;
	return 0;
}

static int on_tick(void *ctx)
{
	struct trace_ctx *t = ctx;

	if (!t->dirty)
		return 0;
	t->dirty = false;
	if (fflush(stdout) || ferror(stdout))
		return -EPIPE;
	return 0;
}

int cmd_trace(const struct tcpfsm_config *cfg)
{
	struct trace_ctx t = { .cfg = cfg };
	const struct loop_ops ops = { .on_tick = on_tick };
	static char outbuf[1 << 16];
	uint64_t stats[TCPFSM_STAT_MAX] = {};
	struct loader *ld;
	int err;

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	err = loop_block_signals();
	if (err) {
		pr_err("cannot block signals: %s", strerror(-err));
		return 1;
	}
	t.fmt.boot_to_real_ns = boot_to_real();
	ld = loader__new(cfg, on_event, &t);
	if (!ld)
		return 1;
	pr_info("tracing TCP state transitions (%s%s), Ctrl-C to end", loader__mode(ld),
		loader__ctx_tracking(ld) ? "" : ", owners at syscalls only");
	if (!cfg->json) {
		char hdr[256];

		format_text_header(hdr, sizeof(hdr));
		fputs(hdr, stdout);
		t.dirty = true;
	}
	err = loop_run(ld, cfg->duration_ns, &ops, &t);
	fflush(stdout);
	loader__stats(ld, stats);
	loader__free(ld);
	if (err == -EPIPE)
		return 0; /* the reader went away: not an error */
	pr_info("%llu events, %llu lost", (unsigned long long)t.received,
		(unsigned long long)stats[TCPFSM_STAT_LOST]);
	if (stats[TCPFSM_STAT_LOST])
		pr_warn("%llu events were lost (ring buffer full): try a larger --ringbuf-size",
			(unsigned long long)stats[TCPFSM_STAT_LOST]);
	if (t.received != stats[TCPFSM_STAT_EVENTS])
		pr_warn("received %llu events but the kernel sent %llu",
			(unsigned long long)t.received,
			(unsigned long long)stats[TCPFSM_STAT_EVENTS]);
	return err ? 1 : 0;
}
