// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include "log.h"
#include "output.h"

static char outbuf[1 << 16];

void output_init(struct output *o)
{
	o->dirty = false;
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
}

int output_write(struct output *o, const char *buf, size_t n)
{
	if (fwrite(buf, 1, n, stdout) != n)
		return -EPIPE;
	o->dirty = true;
	return 0;
}

int output_flush(struct output *o)
{
	if (!o->dirty)
		return 0;
	o->dirty = false;
	if (fflush(stdout) || ferror(stdout))
		return -EPIPE;
	return 0;
}

void source_report(const struct tcpfsm_config *cfg, const struct source_result *res)
{
	unsigned long long events = res->records - res->seeds - res->evidence;

	if (cfg->replay) {
		if (res->lost_known)
			pr_info("%llu events replayed (%llu lost while recording)", events,
				(unsigned long long)res->lost);
		else
			pr_info("%llu events replayed (the recording did not end cleanly: losses unknown)",
				events);
	} else if (res->lazy) {
		pr_info("%llu events, %llu lost (%llu of them sent to userspace: the tracked "
			"sockets')",
			(unsigned long long)res->kernel_events, (unsigned long long)res->lost, events);
	} else {
		pr_info("%llu events, %llu lost", events, (unsigned long long)res->lost);
	}
	if (res->lost - res->missed && !cfg->replay)
		pr_warn("%llu events were lost (ring buffer full): try a larger --ringbuf-size",
			(unsigned long long)(res->lost - res->missed));
	if (res->missed && !cfg->replay)
		pr_warn("%llu transitions were missed: they happened in a softirq that interrupted "
			"tcpfsm's BPF program on the same CPU, and BPF programs do not nest",
			(unsigned long long)res->missed);
}
