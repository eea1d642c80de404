// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "sys/clock.h"
#include "sys/log.h"
#include "sys/procfd.h"
#include "kernel/snapshot.h"
#include "kernel/testhook.h"

struct ns_ent {
	uint32_t ino;
	char path[64];
};

struct vec {
	struct tcpfsm_event *v;
	size_t n, cap;
};

static int add_ns(struct ns_ent **list, size_t *n, uint32_t ino, const char *path)
{
	struct ns_ent *l;

	for (size_t i = 0; i < *n; i++)
		if ((*list)[i].ino == ino)
			return 0;
	l = realloc(*list, (*n + 1) * sizeof(**list));
	if (!l)
		return -ENOMEM;
	*list = l;
	l[*n].ino = ino;
	snprintf(l[*n].path, sizeof(l[*n].path), "%s", path);
	(*n)++;
	return 0;
}

/* Every distinct network namespace: ours first, then named, then processes'. */
static int list_netns(struct ns_ent **list, size_t *n)
{
	char path[64];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int err;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	err = add_ns(list, n, st.st_ino, "/proc/self/ns/net");
	/* named ones first: a bind mount stays, a process may be gone
	 * by the next sweep */
	dir = opendir("/run/netns");
	while (!err && dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%.40s", d->d_name);
		if (!stat(path, &st))
			err = add_ns(list, n, st.st_ino, path);
	}
	if (dir)
		closedir(dir);
	dir = opendir("/proc");
	while (!err && dir && (d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/ns/net", d->d_name);
		if (!stat(path, &st))
			err = add_ns(list, n, st.st_ino, path);
	}
	if (dir)
		closedir(dir);
	return err;
}

static int read_iter(int link_fd, struct vec *out)
{
	int fd = bpf_iter_create(link_fd), err = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (out->cap - out->n < 256) {
			size_t cap = out->cap ? out->cap * 2 : 1024;
			struct tcpfsm_event *v = realloc(out->v, cap * sizeof(*v));

			if (!v) {
				err = -ENOMEM;
				break;
			}
			out->v = v;
			out->cap = cap;
		}
		/* the seq_file hands out whole records */
		r = read(fd, out->v + out->n, (out->cap - out->n) * sizeof(*out->v));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		out->n += r / sizeof(*out->v);
	}
	close(fd);
	return err;
}

/* The owners found for the sockets of a walk (sys/procfd.h). */
struct owner_table {
	struct procfd_owner *v;
	size_t n;
};

static int cmp_ino(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Give each record without an owner the one found for its inode. */
static uint64_t apply_owners(struct vec *recs, const struct owner_table *t)
{
	uint64_t found = 0;

	for (size_t i = 0; i < recs->n; i++) {
		struct tcpfsm_event *e = &recs->v[i];
		const struct procfd_owner *o;

		if (!e->ino || (e->flags & TCPFSM_F_OWNER) ||
		    !(o = procfd_owner_of(t->v, t->n, e->ino)))
			continue;
		e->pid = o->pid;
		memcpy(e->comm, o->comm, sizeof(e->comm));
		e->flags |= TCPFSM_F_OWNER;
		found++;
	}
	return found;
}

/* The inodes of records that still need an owner, sorted (a sweep's). */
static int wanted_inodes(const struct vec *recs, uint32_t **out, size_t *n)
{
	uint32_t *v = malloc(sizeof(*v) * (recs->n + 1));

	if (!v)
		return -ENOMEM;
	*n = 0;
	for (size_t i = 0; i < recs->n; i++)
		if (recs->v[i].ino && !(recs->v[i].flags & TCPFSM_F_OWNER))
			v[(*n)++] = recs->v[i].ino;
	qsort(v, *n, sizeof(*v), cmp_ino);
	*out = v;
	return 0;
}

/*
 * The BPF map the iterator reads owners from (loader.c hands it over), so
 * that sockets older than tcpfsm get theirs in their kernel-side storage
 * (the BPF side's `owners`); -1: none.
 */
static int owner_map_fd = -1;

void snapshot_owner_map(int map_fd)
{
	owner_map_fd = map_fd;
}

/* Fill (or, with clear, empty) the owner map from t. */
static void owner_map_sync(const struct owner_table *t, bool clear)
{
	struct {
		uint32_t pid;
		char comm[TCPFSM_COMM_LEN];
	} val;
	size_t put = 0;

	if (owner_map_fd < 0)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (clear) {
			bpf_map_delete_elem(owner_map_fd, &t->v[i].ino);
			continue;
		}
		val.pid = t->v[i].pid;
		memcpy(val.comm, t->v[i].comm, sizeof(val.comm));
		if (!bpf_map_update_elem(owner_map_fd, &t->v[i].ino, &val, BPF_ANY))
			put++;
	}
	if (!clear && put < t->n)
		pr_debug("snapshot: %zu of %zu socket owners did not fit the kernel's map", t->n - put,
			 t->n);
}

/*
 * Sweeps reuse the namespaces found last time for up to NS_CACHE_NS:
 * finding them stats /proc/PID/ns/net of every process, too much to do
 * every second on a busy host. A namespace that appeared since is swept
 * from the next refresh on.
 */
#define NS_CACHE_NS (5 * 1000000000ULL)
static struct {
	struct ns_ent *v;
	size_t n;
	uint64_t at;
} ns_cache;

/* An open namespace file that is (still) the namespace ino. */
static int open_ns(const struct ns_ent *ns)
{
	int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) || st.st_ino != ns->ino)) {
		close(fd);
		errno = ESTALE; /* the process left, or its pid was reused */
		return -1;
	}
	return fd;
}

/* Set once we could not return to our own network namespace: we run on in
 * a foreign one, so every later walk fails at once (see snapshot.h). */
static bool stranded;

/* Back into our own namespace (self: its fd) after walking ns. */
static int return_home(int self, const struct ns_ent *ns, bool sweep)
{
	int err = 0;

	/* (the test hook: as if setns() were refused) */
	if (sweep && test_hook("sweep_setns_back"))
		err = -EPERM;
	else if (setns(self, CLONE_NEWNET))
		err = -errno;
	if (!err)
		return 0;
	stranded = true;
	pr_err("cannot return to tcpfsm's own network namespace after walking netns %u (%s): %s; "
	       "stopping rather than running on in another namespace",
	       ns->ino, ns->path, strerror(-err));
	return -ENOTRECOVERABLE;
}

/*
 * The iterator in each namespace (only those in `only`, if any): records to
 * fn with their owners, for a snapshot or a sweep; or, with adopt, the owner
 * pass (owners found here first, handed to the iterator, no record).
 */
static int walk(int iter_link_fd, const uint32_t *only, unsigned int n_only, snapshot_fn fn,
		void *ctx, struct snapshot_stats *st, bool sweep, bool adopt)
{
	struct owner_table owners = {};
	struct ns_ent *ns = NULL;
	struct vec recs = {};
	size_t nns = 0;
	int self = -1, err = 0;

	memset(st, 0, sizeof(*st));
	if (stranded)
		return -ENOTRECOVERABLE;
	if (sweep && ns_cache.v && clock_ns(CLOCK_MONOTONIC) - ns_cache.at < NS_CACHE_NS) {
		ns = ns_cache.v;
		nns = ns_cache.n;
	} else {
		err = list_netns(&ns, &nns);
		if (err)
			goto cleanup;
	}
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		err = -errno;
		goto cleanup;
	}
	if (adopt) {
		err = procfd_owners(NULL, 0, &owners.v, &owners.n);
		if (err)
			goto cleanup;
		owner_map_sync(&owners, false);
	}

	for (size_t i = 0; i < nns; i++) {
		unsigned int k;
		int fd;

		for (k = 0; k < n_only; k++)
			if (only[k] == ns[i].ino)
				break;
		if (n_only && k == n_only)
			continue;
		if (i > 0) {
			fd = open_ns(&ns[i]);
			if (fd < 0 || setns(fd, CLONE_NEWNET)) {
				pr_debug("snapshot: skipping netns %u (%s): %s", ns[i].ino,
					 ns[i].path, strerror(errno));
				if (fd >= 0)
					close(fd);
				st->netns_failed++;
				if (sweep)
					ns_cache.at = 0; /* look again next time */
				continue;
			}
			close(fd);
		}
		err = read_iter(iter_link_fd, &recs);
		if (i > 0) {
			int back = return_home(self, &ns[i], sweep);

			if (back) {
				err = back;
				goto cleanup;
			}
		}
		if (err) {
			pr_err("snapshot of netns %u failed: %s", ns[i].ino, strerror(-err));
			goto cleanup;
		}
		st->netns++;
	}
	if (!adopt) {
		uint32_t *want = NULL;
		size_t nwant = 0;

		err = wanted_inodes(&recs, &want, &nwant);
		if (!err && nwant)
			err = procfd_owners(want, nwant, &owners.v, &owners.n);
		free(want);
		if (err)
			goto cleanup;
	}
	st->owners = apply_owners(&recs, &owners);
	for (size_t i = 0; fn && i < recs.n && !err; i++) {
		err = fn(ctx, &recs.v[i]);
		st->sockets++;
	}
cleanup:
	if (adopt)
		owner_map_sync(&owners, true);
	free(owners.v);
	if (self >= 0)
		close(self);
	if (sweep && ns && ns != ns_cache.v) {
		free(ns_cache.v);
		ns_cache.v = ns;
		ns_cache.n = nns;
		ns_cache.at = clock_ns(CLOCK_MONOTONIC);
	} else if (ns != ns_cache.v) {
		free(ns);
	}
	free(recs.v);
	return err;
}

int snapshot_run(int iter_link_fd, const uint32_t *only, unsigned int n_only, snapshot_fn fn,
		 void *ctx, struct snapshot_stats *st)
{
	return walk(iter_link_fd, only, n_only, fn, ctx, st, false, false);
}

int snapshot_sweep(int iter_link_fd, const uint32_t *only, unsigned int n_only, snapshot_fn fn,
		   void *ctx, struct snapshot_stats *st)
{
	return walk(iter_link_fd, only, n_only, fn, ctx, st, true, false);
}

int snapshot_adopt_owners(int iter_link_fd, const uint32_t *only, unsigned int n_only,
			  struct snapshot_stats *st)
{
	return walk(iter_link_fd, only, n_only, NULL, NULL, st, false, true);
}

bool snapshot_ns_known(uint32_t ino)
{
	for (size_t i = 0; i < ns_cache.n; i++)
		if (ns_cache.v[i].ino == ino)
			return true;
	return false;
}

void snapshot_forget(void)
{
	free(ns_cache.v);
	memset(&ns_cache, 0, sizeof(ns_cache));
}
