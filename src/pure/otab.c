// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pure/otab.h"

static inline uint64_t *slot(const struct otab *t, uint32_t i)
{
	return (uint64_t *)(t->slots + (size_t)i * t->esize);
}

static inline uint32_t home(const struct otab *t, uint64_t key)
{
	return (key * 0x9e3779b97f4a7c15ULL) >> 32 & (t->cap - 1);
}

void otab_init(struct otab *t, size_t esize)
{
	t->slots = NULL;
	t->esize = esize;
	t->cap = t->n = 0;
}

void otab_free(struct otab *t)
{
	free(t->slots);
	otab_init(t, t->esize);
}

static int grow(struct otab *t)
{
	struct otab n = { NULL, t->esize, t->cap ? t->cap * 2 : 64, 0 };

	if (!t->esize || n.cap < t->cap)
		return -ENOMEM;
	n.slots = calloc(n.cap, n.esize);
	if (!n.slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap; i++) {
		uint64_t *e = slot(t, i);
		uint32_t j;

		if (!*e)
			continue;
		for (j = home(&n, *e); *slot(&n, j); j = (j + 1) & (n.cap - 1))
			;
		memcpy(slot(&n, j), e, n.esize);
		n.n++;
	}
	free(t->slots);
	*t = n;
	return 0;
}

void *otab_get(const struct otab *t, uint64_t key)
{
	if (!t->cap || !key)
		return NULL;
	for (uint32_t i = home(t, key); *slot(t, i); i = (i + 1) & (t->cap - 1))
		if (*slot(t, i) == key)
			return slot(t, i);
	return NULL;
}

void *otab_put(struct otab *t, uint64_t key)
{
	void *e = otab_get(t, key);
	uint32_t i;

	if (e || !key)
		return e;
	if ((t->n + 1) * 2 > t->cap && grow(t))
		return NULL;
	for (i = home(t, key); *slot(t, i); i = (i + 1) & (t->cap - 1))
		;
	memset(slot(t, i), 0, t->esize);
	*slot(t, i) = key;
	t->n++;
	return slot(t, i);
}

void otab_del(struct otab *t, void *entry)
{
	uint32_t i = ((uint8_t *)entry - t->slots) / t->esize, j = i;

	for (;;) {
		uint32_t h;

		j = (j + 1) & (t->cap - 1);
		if (!*slot(t, j))
			break;
		h = home(t, *slot(t, j));
		/* may the entry at j move to i? (i is cyclically in [h, j)) */
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			memcpy(slot(t, i), slot(t, j), t->esize);
			i = j;
		}
	}
	*slot(t, i) = 0;
	t->n--;
}

void *otab_next(const struct otab *t, uint32_t *pos)
{
	while (*pos < t->cap) {
		uint64_t *e = slot(t, (*pos)++);

		if (*e)
			return e;
	}
	return NULL;
}

int otab_prune(struct otab *t, bool (*pick)(void *ctx, const void *entry),
	       void (*gone)(void *ctx, void *entry), void *ctx)
{
	uint64_t *keys;
	uint32_t pos = 0;
	void *e;
	int n = 0;

	if (!t->n)
		return 0;
	/* removing moves entries: choose first, then remove by key */
	keys = malloc(t->n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while ((e = otab_next(t, &pos)))
		if (pick(ctx, e))
			keys[n++] = *(uint64_t *)e;
	for (int i = 0; i < n; i++) {
		e = otab_get(t, keys[i]);
		if (gone)
			gone(ctx, e);
		otab_del(t, e);
	}
	free(keys);
	return n;
}
