// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sys/linelog.h"
#include "sys/log.h"

#define LINELOG_BUF (64 * 1024)

struct linelog {
	char *path;
	int fd;
	bool failing;	/* the last write failed: said once, until one works */
	bool torn;	/* the file ends in part of a line: a newline first */
	int err;	/* of the failure said */
	uint64_t lost;
	size_t len;
	char buf[LINELOG_BUF];
};

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

struct linelog *linelog__open(const char *path)
{
	struct linelog *l = malloc(sizeof(*l));

	if (!l)
		return NULL;
	l->path = strdup(path);
	l->fd = l->path ? open_log(path) : -1;
	if (l->fd < 0) {
		int e = l->path ? errno : ENOMEM;

		free(l->path);
		free(l);
		errno = e;
		return NULL;
	}
	l->failing = l->torn = false;
	l->err = 0;
	l->lost = 0;
	l->len = 0;
	return l;
}

static size_t count_lines(const char *p, size_t n)
{
	size_t lines = 0;

	for (const char *q = p; (q = memchr(q, '\n', n - (q - p))); q++)
		lines++;
	return lines;
}

/* Write n bytes of whole lines; what cannot be written is counted lost. */
static void write_lines(struct linelog *l, const char *p, size_t n)
{
	size_t off = 0;

	/* a line cut short by a failed write: end it, the next one is whole */
	if (l->torn && n) {
		if (write(l->fd, "\n", 1) != 1) {
			off = 0;
			goto failed;
		}
		l->torn = false;
	}
	while (off < n) {
		ssize_t w = write(l->fd, p + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = EIO; /* no progress: as good as an error */
		if (w <= 0)
			goto failed;
		off += w;
	}
	if (l->failing && n) {
		pr_info("--log %s: writing again (%llu line%s lost)", l->path,
			(unsigned long long)l->lost, l->lost == 1 ? "" : "s");
		l->failing = false;
	}
	return;
failed:
	/* a line begun but not ended is lost too, and leaves the file torn */
	l->lost += count_lines(p + off, n - off);
	if (off && p[off - 1] != '\n')
		l->torn = true;
	if (!l->failing || l->err != errno)
		pr_warn("--log %s: cannot write: %s (lines are lost until it can be; counted)",
			l->path, strerror(errno));
	l->failing = true;
	l->err = errno;
}

void linelog__flush(struct linelog *l)
{
	if (!l || !l->len)
		return;
	write_lines(l, l->buf, l->len);
	l->len = 0;
}

void linelog__write(struct linelog *l, const char *line, size_t n)
{
	if (l->len + n > sizeof(l->buf))
		linelog__flush(l);
	if (n > sizeof(l->buf)) {
		write_lines(l, line, n);
		return;
	}
	memcpy(l->buf + l->len, line, n);
	l->len += n;
}

int linelog__reopen(struct linelog *l)
{
	int fd;

	linelog__flush(l);
	fd = open_log(l->path);
	if (fd < 0)
		return -errno;
	close(l->fd);
	l->fd = fd;
	l->torn = false; /* a new file */
	return 0;
}

uint64_t linelog__lost(const struct linelog *l)
{
	return l->lost;
}

void linelog__close(struct linelog *l)
{
	if (!l)
		return;
	linelog__flush(l);
	if (l->lost)
		pr_warn("--log %s: %llu line%s lost (could not be written)", l->path,
			(unsigned long long)l->lost, l->lost == 1 ? "" : "s");
	close(l->fd);
	free(l->path);
	free(l);
}
