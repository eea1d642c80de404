/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_OTAB_H
#define TCPFSM_OTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A small open-addressing hash table of fixed-size entries, each beginning
 * with its uint64_t key; key 0 marks an empty slot and is never stored.
 * Linear probing, grown to keep it at most half full, deletion by moving
 * the rest of a run back (no tombstones). Entry pointers stay valid until
 * the next otab_put or otab_del. Pure.
 */
struct otab {
	uint8_t *slots;
	size_t esize;
	uint32_t cap, n;
};

/* esize: the entry's size (a struct starting with its uint64_t key). */
void otab_init(struct otab *t, size_t esize);
void otab_free(struct otab *t);
/* The entry for key, or NULL. */
void *otab_get(const struct otab *t, uint64_t key);
/* The entry for key, created zeroed (but for the key) if it is new; NULL
 * when key is 0 or memory runs out. */
void *otab_put(struct otab *t, uint64_t key);
/* Remove an entry otab_get or otab_put returned. */
void otab_del(struct otab *t, void *entry);
static inline uint32_t otab_count(const struct otab *t)
{
	return t->n;
}
/* Iteration: the first entry at or after slot *pos (which moves past it),
 * NULL at the end. Start with *pos = 0; do not put or delete meanwhile. */
void *otab_next(const struct otab *t, uint32_t *pos);
/*
 * Remove the entries pick() chooses: pick sees every entry once, then
 * gone() (optional) sees each chosen one just before it is removed. Returns
 * the number removed, or -ENOMEM (nothing removed).
 */
int otab_prune(struct otab *t, bool (*pick)(void *ctx, const void *entry),
	       void (*gone)(void *ctx, void *entry), void *ctx);

#endif
