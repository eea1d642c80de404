// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sys/procfd.h"

/* "socket:[12345]" -> 12345; 0 for any other link (inodes start at 1) */
static uint32_t socket_ino(const char *link)
{
	static const char pfx[] = "socket:[";
	unsigned long long v = 0;
	const char *p;

	if (strncmp(link, pfx, sizeof(pfx) - 1))
		return 0;
	for (p = link + sizeof(pfx) - 1; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	return p[0] == ']' && !p[1] ? v : 0;
}

/* "123" -> 123; -1 for anything else ("." and ".." among them) */
static long decimal(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT32_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

int procfd_sockets(uint32_t pid, int (*fn)(void *ctx, int fd, uint32_t ino), void *ctx)
{
	char path[32], link[64];
	struct dirent *d;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!ret && (d = readdir(dir))) {
		long fd = decimal(d->d_name);
		uint32_t ino;
		ssize_t n;

		if (fd < 0)
			continue;
		/* an fd closed since readdir: passed over */
		n = readlinkat(dirfd(dir), d->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		ino = socket_ino(link);
		if (ino)
			ret = fn(ctx, fd, ino);
	}
	closedir(dir);
	return ret;
}

struct fd_of {
	uint32_t ino;
	int fd;
};

static int match_fd(void *ctx, int fd, uint32_t ino)
{
	struct fd_of *f = ctx;

	if (ino == f->ino && (f->fd < 0 || fd < f->fd))
		f->fd = fd;
	return 0;
}

int procfd_fd_of(uint32_t pid, uint32_t ino)
{
	struct fd_of f = { ino, -ENOENT };
	int err = procfd_sockets(pid, match_fd, &f);

	return err < 0 ? err : f.fd;
}

static int cmp_ino(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct procfd_owner *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

struct scan {
	const uint32_t *want;
	size_t nwant;
	struct procfd_owner *v;
	size_t n, cap;
	uint32_t pid;
	char comm[TCPFSM_COMM_LEN];
	bool have_comm;		/* comm read for pid (at its first socket wanted) */
};

static void read_comm(uint32_t pid, char comm[TCPFSM_COMM_LEN])
{
	char path[32];
	FILE *f;

	comm[0] = 0;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, TCPFSM_COMM_LEN, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

static int add_owner(void *ctx, int fd, uint32_t ino)
{
	struct scan *s = ctx;
	struct procfd_owner *o;

	if (s->nwant && !bsearch(&ino, s->want, s->nwant, sizeof(*s->want), cmp_ino))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;

		o = realloc(s->v, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		s->v = o;
		s->cap = cap;
	}
	if (!s->have_comm) {
		read_comm(s->pid, s->comm);
		s->have_comm = true;
	}
	o = &s->v[s->n++];
	o->ino = ino;
	o->pid = s->pid;
	memcpy(o->comm, s->comm, sizeof(o->comm));
	return 0;
}

int procfd_owners(const uint32_t *want, size_t nwant, struct procfd_owner **out, size_t *n)
{
	struct scan s = { .want = want, .nwant = nwant };
	struct dirent *d;
	size_t k = 0;
	DIR *proc;
	int err = 0;

	*out = NULL;
	*n = 0;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while (!err && (d = readdir(proc))) {
		long pid = decimal(d->d_name);

		if (pid <= 0)
			continue;
		s.pid = pid;
		s.have_comm = false;
		/* gone, or not ours to read: passed over */
		err = procfd_sockets(pid, add_owner, &s);
		if (err != -ENOMEM)
			err = 0;
	}
	closedir(proc);
	if (err) {
		free(s.v);
		return err;
	}
	/* one owner per inode: the lowest pid */
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), cmp_owner);
	for (size_t i = 0; i < s.n; i++)
		if (!k || s.v[k - 1].ino != s.v[i].ino)
			s.v[k++] = s.v[i];
	*out = s.v;
	*n = k;
	return 0;
}

const struct procfd_owner *procfd_owner_of(const struct procfd_owner *v, size_t n, uint32_t ino)
{
	/* ino is the first member: the key compares as an owner does */
	return n ? bsearch(&ino, v, n, sizeof(*v), cmp_ino) : NULL;
}
