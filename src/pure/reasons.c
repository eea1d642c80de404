// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pure/reasons.h"

struct reason {
	uint32_t value;
	char *name;
};

/* sorted by value (the kernel's enum comes in order: appends are cheap) */
struct reasons {
	struct reason *v;
	uint32_t n, cap;
};

struct reasons *reasons__new(void)
{
	return calloc(1, sizeof(struct reasons));
}

void reasons__free(struct reasons *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->n; i++)
		free(r->v[i].name);
	free(r->v);
	free(r);
}

/* index of the first entry >= value */
static uint32_t lower_bound(const struct reasons *r, uint32_t value)
{
	uint32_t lo = 0, hi = r->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r->v[mid].value < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int reasons__add(struct reasons *r, uint32_t value, const char *name)
{
	static const char *const prefixes[] = { "SKB_DROP_REASON_", "SKB_" };
	uint32_t at = lower_bound(r, value);
	char *copy;

	if (at < r->n && r->v[at].value == value)
		return 0;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) {
			name += strlen(prefixes[i]);
			break;
		}
	if (!*name)
		return -EINVAL;
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 64;
		struct reason *v = realloc(r->v, sizeof(*v) * cap);

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	memmove(&r->v[at + 1], &r->v[at], sizeof(*r->v) * (r->n - at));
	r->v[at].value = value;
	r->v[at].name = copy;
	r->n++;
	return 0;
}

const char *reasons__name(const struct reasons *r, uint32_t value)
{
	uint32_t at;

	if (!r)
		return NULL;
	at = lower_bound(r, value);
	return at < r->n && r->v[at].value == value ? r->v[at].name : NULL;
}

const char *reasons__format(const struct reasons *r, uint32_t value, char *buf, size_t len)
{
	const char *name = reasons__name(r, value);

	if (name)
		return name;
	snprintf(buf, len, "reason_%u", value);
	return buf;
}

int64_t reasons__value(const struct reasons *r, const char *name)
{
	for (uint32_t i = 0; r && i < r->n; i++)
		if (!strcmp(r->v[i].name, name))
			return r->v[i].value;
	return -ENOENT;
}

uint32_t reasons__count(const struct reasons *r)
{
	return r ? r->n : 0;
}
