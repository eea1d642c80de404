// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pure/ksyms.h"
#include "pure/otab.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ksym_parse(const char *line, size_t len, struct ksym_line *out)
{
	size_t i = 0, digits = 0, start;
	uint64_t addr = 0;
	int v;

	while (i < len && (v = hexval(line[i])) >= 0) {
		if (++digits > 16)
			return -EINVAL;
		addr = addr << 4 | (uint64_t)v;
		i++;
	}
	/* address, one space, the type, one space, the name */
	if (!digits || i + 3 > len || line[i] != ' ' || line[i + 1] == ' ' || line[i + 2] != ' ')
		return -EINVAL;
	out->addr = addr;
	out->type = line[i + 1];
	i += 3;
	start = i;
	while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\n')
		i++;
	if (i == start)
		return -EINVAL;
	out->name = line + start;
	out->name_len = i - start;
	return 0;
}

void ksym_best_init(struct ksym_best *b, uint64_t want)
{
	memset(b, 0, sizeof(*b));
	b->want = want;
}

void ksym_best_line(struct ksym_best *b, const char *line, size_t len)
{
	struct ksym_line l;
	size_t n;

	if (ksym_parse(line, len, &l) || (l.type != 't' && l.type != 'T'))
		return;
	if (l.addr > b->want || b->want - l.addr >= KSYM_MAX_OFFSET)
		return;
	/* the closest below; of aliases at one address, the first listed */
	if (b->found && l.addr <= b->addr)
		return;
	n = l.name_len < KSYM_NAME_MAX - 1 ? l.name_len : KSYM_NAME_MAX - 1;
	memcpy(b->name, l.name, n);
	b->name[n] = 0;
	b->addr = l.addr;
	b->found = true;
}

struct ksym_entry {
	uint64_t key;	/* the address (otab: first, never 0) */
	char name[KSYM_NAME_MAX];
};

struct ksym_cache {
	struct otab t;
};

struct ksym_cache *ksym_cache__new(void)
{
	struct ksym_cache *c = calloc(1, sizeof(*c));

	if (c)
		otab_init(&c->t, sizeof(struct ksym_entry));
	return c;
}

void ksym_cache__free(struct ksym_cache *c)
{
	if (!c)
		return;
	otab_free(&c->t);
	free(c);
}

const char *ksym_cache__get(const struct ksym_cache *c, uint64_t addr)
{
	const struct ksym_entry *e = addr ? otab_get(&c->t, addr) : NULL;

	return e ? e->name : NULL;
}

int ksym_cache__put(struct ksym_cache *c, const struct ksym_best *b)
{
	struct ksym_entry *e;

	if (!b->want)
		return -EINVAL;
	if (otab_count(&c->t) >= KSYM_CACHE_MAX && !otab_get(&c->t, b->want))
		return -ENOSPC;
	e = otab_put(&c->t, b->want);
	if (!e)
		return -ENOMEM;
	memcpy(e->name, b->found ? b->name : "", b->found ? sizeof(e->name) : 1);
	return 0;
}

const char *ksym_format(const char *name, uint64_t addr, char *buf, size_t len)
{
	if (name && *name)
		return name;
	snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	return buf;
}
