/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_LOOP_H
#define TCPFSM_LOOP_H

#include <stdint.h>
#include "kernel/loader.h"

/* Latency bound of a partial batch: the kernel wakes us only for full ones. */
#define LOOP_TICK_MS 50

struct loop_ops {
	/* every tick (LOOP_TICK_MS) after draining the ring: flush output */
	int (*on_tick)(void *ctx);
	/* another fd to poll (the HTTP server's), -1 for none */
	int extra_fd;
	int (*on_extra)(void *ctx);
	/* SIGHUP (reopen logs) */
	int (*on_hup)(void *ctx);
};

/*
 * The one event loop: epoll over the ring buffer, a timerfd and a signalfd.
 * Runs until SIGINT/SIGTERM, duration_ns (0: forever) or an error; then
 * detaches and drains what the kernel had queued. Returns 0 or -errno.
 */
int loop_run(struct loader *ld, uint64_t duration_ns, const struct loop_ops *ops, void *ctx);

/* Block SIGINT/SIGTERM/SIGHUP (signalfd takes them) and ignore SIGPIPE. */
int loop_block_signals(void);

#endif
