// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "sys/log.h"
#include "kernel/loop.h"
#include "sys/clock.h"

static sigset_t loop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	return set;
}

int loop_block_signals(void)
{
	sigset_t set = loop_signals();

	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	return 0;
}

enum { SRC_RING = 1, SRC_TIMER, SRC_SIGNAL, SRC_EXTRA };

int loop_run(struct loader *ld, uint64_t duration_ns, const struct loop_ops *ops, void *ctx)
{
	struct itimerspec its = { .it_interval = { 0, LOOP_TICK_MS * 1000000L },
				  .it_value = { 0, LOOP_TICK_MS * 1000000L } };
	int epfd = -1, tfd = -1, sfd = -1, err = 0;
	uint64_t deadline = duration_ns ? clock_ns(CLOCK_MONOTONIC) + duration_ns : 0;
	sigset_t set = loop_signals();
	struct epoll_event ev;
	bool stop = false;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || sfd < 0 || timerfd_settime(tfd, 0, &its, NULL)) {
		err = -errno;
		pr_err("event loop setup failed: %s", strerror(-err));
		goto cleanup;
	}
	ev.events = EPOLLIN;
	ev.data.u32 = SRC_RING;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, loader__fd(ld), &ev))
		goto fail;
	ev.data.u32 = SRC_TIMER;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev))
		goto fail;
	ev.data.u32 = SRC_SIGNAL;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev))
		goto fail;
	ev.data.u32 = SRC_EXTRA;
	if (ops->on_extra && ops->extra_fd >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, ops->extra_fd, &ev))
		goto fail;

	while (!stop) {
		struct epoll_event evs[4];
		int n = epoll_wait(epfd, evs, 4, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		for (int i = 0; i < n; i++) {
			uint64_t ticks;
			struct signalfd_siginfo si;

			switch (evs[i].data.u32) {
			case SRC_RING:
				err = loader__consume(ld);
				break;
			case SRC_TIMER:
				while (read(tfd, &ticks, sizeof(ticks)) > 0)
					;
				err = loader__consume(ld);
				if (err >= 0 && ops->on_tick)
					err = ops->on_tick(ctx);
				if (deadline && clock_ns(CLOCK_MONOTONIC) >= deadline)
					stop = true;
				break;
			case SRC_SIGNAL:
				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo != SIGHUP)
						stop = true;
					else if (ops->on_hup)
						err = ops->on_hup(ctx);
				}
				break;
			case SRC_EXTRA:
				err = ops->on_extra(ctx);
				break;
			}
			if (err < 0) {
				if (err != -EPIPE)
					pr_err("reading events failed: %s", strerror(-err));
				stop = true;
				break;
			}
			err = 0;
		}
	}
	/* no new events; deliver what the kernel queued before the detach */
	loader__detach(ld);
	if (err >= 0) {
		int n = loader__consume(ld);

		if (n < 0 && n != -EPIPE)
			err = n;
		if (ops->on_tick && err >= 0)
			err = ops->on_tick(ctx);
	}
	goto cleanup;
fail:
	err = -errno;
	pr_err("event loop failed: %s", strerror(-err));
cleanup:
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (epfd >= 0)
		close(epfd);
	return err < 0 ? err : 0;
}
