// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The drop tracker's BPF object, and the kernel's names for what it reports. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "pure/droptab.h"
#include "pure/ksyms.h"
#include "pure/listendrops.h"
#include "pure/reasons.h"
#include "kernel/drops.h"
#include "kernel/loader.h"
#include "kernel/snapshot.h"
#include "kernel/source.h"
#include "sys/log.h"
#include "drops.skel.h"

struct drops {
	struct drops_bpf *skel;
	struct bpf_link *link;
	struct bpf_program *prog;
	struct bpf_link *iter;	/* the listener sweep's, once asked for */
	bool tracepoint;
	bool listeners;		/* its iterator loaded */
};

static bool tracefs_has_kfree_skb(void)
{
	return !access("/sys/kernel/tracing/events/skb/kfree_skb/id", R_OK) ||
	       !access("/sys/kernel/debug/tracing/events/skb/kfree_skb/id", R_OK);
}

/* Share the loader's rings: the records join its stream. */
static int reuse_rings(struct drops_bpf *skel, const struct loader *ld)
{
	int fd = loader__map_fd(ld, "events"), err;

	if (fd < 0)
		return fd;
	err = bpf_map__reuse_fd(skel->maps.events, fd);
	if (err)
		return err;
	fd = loader__map_fd(ld, "cpu_events");
	if (fd < 0)
		return fd;
	return bpf_map__reuse_fd(skel->maps.cpu_events, fd);
}

/* Open, load and attach one attach path's program (and, with listeners,
 * the listener iterator). 0 or -errno. */
static int load_path(struct drops *d, const struct tcpfsm_config *cfg, const struct loader *ld,
		     bool tracepoint, bool listeners)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = cfg->btf_path);
	struct drops_bpf *skel;
	int err;

	skel = drops_bpf__open_opts(&opts);
	if (!skel)
		return -errno;
	d->skel = skel;
	skel->rodata->filter = cfg->kf;
	d->prog = tracepoint ? skel->progs.drop_tp : skel->progs.drop_btf;
	bpf_program__set_autoload(skel->progs.drop_btf, !tracepoint);
	bpf_program__set_autoload(skel->progs.drop_tp, tracepoint);
	bpf_program__set_autoload(skel->progs.listeners, listeners);
	err = reuse_rings(skel, ld);
	if (!err)
		err = drops_bpf__load(skel);
	if (!err) {
		d->link = bpf_program__attach(d->prog);
		if (!d->link)
			err = -errno;
	}
	if (err) {
		drops_bpf__destroy(skel);
		d->skel = NULL;
		return err;
	}
	d->tracepoint = tracepoint;
	d->listeners = listeners;
	return 0;
}

struct drops *drops__new(const struct tcpfsm_config *cfg, struct loader *ld)
{
	struct drops *d = calloc(1, sizeof(*d));
	bool btf = !strcmp(loader__mode(ld), "tp_btf") && !cfg->btf_path &&
		   libbpf_find_vmlinux_btf_id("kfree_skb", BPF_TRACE_RAW_TP) >= 0;
	int err = -ENOENT;

	if (!d)
		return NULL;
	if (btf) {
		/* the listener iterator needs what iter/tcp needs (the loader's
		 * tp_btf path has it), and sockets older than us as well */
		err = load_path(d, cfg, ld, false, true);
		if (err) {
			pr_debug("drops: the listener iterator does not load here (%s)",
				 strerror(-err));
			err = load_path(d, cfg, ld, false, false);
		}
		if (err)
			pr_debug("drops: tp_btf/kfree_skb does not load here (%s)%s", strerror(-err),
				 tracefs_has_kfree_skb() ? ": the classic tracepoint then" : "");
	}
	/* the loader mounted tracefs (privately) if it attached that way */
	if (err && tracefs_has_kfree_skb())
		err = load_path(d, cfg, ld, true, false);
	if (err) {
		pr_warn("packet drops are not tracked (skb:kfree_skb: %s)%s", strerror(-err),
			log_verbose ? "" : " (-v shows libbpf's log)");
		free(d);
		errno = -err;
		return NULL;
	}
	pr_debug("drops: tracked on %s", drops__mode(d));
	return d;
}

const char *drops__mode(const struct drops *d)
{
	return d->tracepoint ? "tracepoint" : "tp_btf";
}

void drops__stats(const struct drops *d, struct drops_stats *st)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	memset(st, 0, sizeof(*st));
	if (!d)
		return;
	st->seen = __atomic_load_n(&d->skel->bss->drops_seen, __ATOMIC_RELAXED);
	st->lost = __atomic_load_n(&d->skel->bss->drops_lost, __ATOMIC_RELAXED);
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(d->prog), &info, &len))
		st->missed = info.recursion_misses;
}

struct listeners_walk {
	int (*fn)(void *ctx, const struct listener_info *li);
	void *ctx;
};

/* A listener record (bpf/drops.bpf.c: listeners) as what it says. */
static int listener_record(void *ctx, const struct tcpfsm_event *e)
{
	struct listeners_walk *w = ctx;
	struct listener_info li = {
		.cookie = e->cookie,
		.sk_drops = e->old_duration_ns,
		.netns = e->netns,
		.ino = e->ino,
		.pid = e->pid,
		.backlog = e->syn_retrans,
		.max_backlog = (uint32_t)e->cgroup_id,
		.port = e->sport,
		.family = e->family,
		.owner = e->flags & TCPFSM_F_OWNER,
	};

	memcpy(li.addr, e->saddr, sizeof(li.addr));
	memcpy(li.comm, e->comm, sizeof(li.comm));
	return w->fn(w->ctx, &li);
}

int drops__listeners(struct drops *d, const struct tcpfsm_config *cfg,
		     int (*fn)(void *ctx, const struct listener_info *li), void *ctx)
{
	struct listeners_walk w = { fn, ctx };
	struct snapshot_stats st;

	if (!d || !d->listeners)
		return -EOPNOTSUPP;
	if (!d->iter) {
		d->iter = bpf_program__attach_iter(d->skel->progs.listeners, NULL);
		if (!d->iter) {
			int err = -errno;

			pr_warn("no listener sweeps (their iterator does not attach: %s): SYNs a "
				"listener refuses for a full queue go unseen",
				strerror(-err));
			d->listeners = false;
			return err;
		}
	}
	return snapshot_sweep(bpf_link__fd(d->iter), cfg->kf.netns, cfg->kf.n_netns,
			      listener_record, &w, &st);
}

void drops__free(struct drops *d)
{
	if (!d)
		return;
	bpf_link__destroy(d->iter);
	bpf_link__destroy(d->link);
	drops_bpf__destroy(d->skel);
	free(d);
}

struct dropnames {
	struct reasons *reasons;	/* read at the first need */
	bool reasons_read;
	struct ksym_cache *cache;
	int kallsyms_fd;
	bool numbers;
};

/* enum skb_drop_reason from the running kernel's BTF. */
static int load_reasons(struct reasons *r)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t;
	int id, err = 0;

	if (!btf)
		return -errno;
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0) {
		err = id;
		goto cleanup;
	}
	t = btf__type_by_id(btf, id);
	for (int i = 0; i < btf_vlen(t) && !err; i++) {
		const struct btf_enum *m = btf_enum(t) + i;

		err = reasons__add(r, (uint32_t)m->val, btf__name_by_offset(btf, m->name_off));
		if (err == -EINVAL)
			err = 0; /* a bare prefix: no name to give */
	}
cleanup:
	btf__free(btf);
	return err;
}

struct dropnames *dropnames__new(void)
{
	struct dropnames *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kallsyms_fd = -1;
	n->reasons = reasons__new();
	n->cache = ksym_cache__new();
	if (!n->reasons || !n->cache) {
		dropnames__free(n);
		errno = ENOMEM;
		return NULL;
	}
	/* addresses show only to those who opened it privileged */
	n->kallsyms_fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);
	if (n->kallsyms_fd < 0)
		pr_debug("drop locations are not named (/proc/kallsyms: %s)", strerror(errno));
	return n;
}

void dropnames__numbers_only(struct dropnames *n)
{
	n->numbers = true;
}

/* The kernel's BTF, read once, at the first drop: a run without drops
 * does not pay for it. */
static struct reasons *reasons_of(struct dropnames *n)
{
	int err;

	if (!n)
		return NULL;
	if (!n->reasons_read) {
		n->reasons_read = true;
		err = load_reasons(n->reasons);
		if (err)
			pr_warn("drop reasons are shown as numbers (no enum skb_drop_reason in the "
				"kernel's BTF: %s)",
				strerror(-err));
	}
	return n->reasons;
}

const char *dropnames__reason(struct dropnames *n, uint32_t reason, char *buf, size_t len)
{
	return reasons__format(n && !n->numbers ? reasons_of(n) : NULL, reason, buf, len);
}

int64_t dropnames__reason_value(struct dropnames *n, const char *name)
{
	return reasons__value(reasons_of(n), name);
}

/* One pass over /proc/kallsyms for the symbol at or below b->want. */
static int scan_kallsyms(int fd, struct ksym_best *b)
{
	char buf[65536];
	size_t have = 0;
	ssize_t got;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		char *line, *nl;

		got = read(fd, buf + have, sizeof(buf) - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		have += got;
		line = buf;
		while ((nl = memchr(line, '\n', have - (line - buf)))) {
			ksym_best_line(b, line, nl - line);
			line = nl + 1;
		}
		/* a line longer than the buffer is no symbol of ours: skip it */
		if (line == buf && have == sizeof(buf))
			have = 0;
		memmove(buf, line, have - (line - buf));
		have -= line - buf;
		if (!got) {
			if (have)
				ksym_best_line(b, buf, have);
			return 0;
		}
	}
}

const char *dropnames__where(struct dropnames *n, uint64_t addr, char *buf, size_t len)
{
	struct ksym_best b;
	const char *name;

	if (!n || n->numbers || n->kallsyms_fd < 0 || !addr)
		return ksym_format(NULL, addr, buf, len);
	name = ksym_cache__get(n->cache, addr);
	if (name)
		return ksym_format(name, addr, buf, len);
	ksym_best_init(&b, addr);
	if (scan_kallsyms(n->kallsyms_fd, &b))
		return ksym_format(NULL, addr, buf, len);
	/* a full cache: no more scans (each reads all of kallsyms) */
	if (ksym_cache__put(n->cache, &b))
		return ksym_format(NULL, addr, buf, len);
	return ksym_format(ksym_cache__get(n->cache, addr), addr, buf, len);
}

void dropnames__name_item(void *ctx, struct drop_item *it)
{
	struct dropnames *n = ctx;
	char buf[KSYM_NAME_MAX];
	const char *s;

	s = dropnames__reason(n, it->reason, buf, sizeof(buf));
	snprintf(it->reason_name, sizeof(it->reason_name), "%s", s);
	s = dropnames__where(n, it->location, buf, sizeof(buf));
	snprintf(it->where, sizeof(it->where), "%s", s);
}

/* Within one boot CLOCK_REALTIME - CLOCK_BOOTTIME moves only by clock
 * adjustments; a reboot moves it by at least the time the machine was down. */
#define SAME_BOOT_SLACK_NS (2 * 1000000000LL)

void dropnames__for_recording(struct dropnames *n, int64_t boot_to_real_ns)
{
	int64_t d = boot_to_real_ns - source_boot_to_real();

	if (n && (d > SAME_BOOT_SLACK_NS || d < -SAME_BOOT_SLACK_NS))
		dropnames__numbers_only(n);
}

void dropnames__free(struct dropnames *n)
{
	if (!n)
		return;
	reasons__free(n->reasons);
	ksym_cache__free(n->cache);
	if (n->kallsyms_fd >= 0)
		close(n->kallsyms_fd);
	free(n);
}
