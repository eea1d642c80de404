/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_KSYMS_H
#define TCPFSM_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Kernel addresses to function names, from /proc/kallsyms text (read by
 * kernel/drops.c; text symbols are listed even without KALLSYMS_ALL). Pure:
 * the search over lines and a bounded cache of what was found.
 */

/* Longest name kept (kallsyms names are at most 512 bytes; longer ones are
 * cut, which a function name never is in practice). */
#define KSYM_NAME_MAX 128
/* A symbol farther than this below an address does not name it. */
#define KSYM_MAX_OFFSET (1u << 20)

/* One line: "ffffffffc0a1b2c0 t nft_do_chain\t[nf_tables]". */
struct ksym_line {
	uint64_t addr;
	char type;		/* 't', 'T', 'd', ... */
	const char *name;	/* not NUL-terminated */
	size_t name_len;
};

/* 0, or -EINVAL for a line that is not one. */
int ksym_parse(const char *line, size_t len, struct ksym_line *out);

/* The closest text symbol at or below want, over all lines given. */
struct ksym_best {
	uint64_t want, addr;
	bool found;
	char name[KSYM_NAME_MAX];
};

void ksym_best_init(struct ksym_best *b, uint64_t want);
void ksym_best_line(struct ksym_best *b, const char *line, size_t len);

/*
 * What was resolved, by address: at most KSYM_CACHE_MAX entries (drop
 * locations are few: one per place in the kernel that drops). A name that
 * was not found is cached too, as "".
 */
#define KSYM_CACHE_MAX 1024

struct ksym_cache;

struct ksym_cache *ksym_cache__new(void);
void ksym_cache__free(struct ksym_cache *c);
/* The cached name ("" when it was not found), or NULL if not cached. */
const char *ksym_cache__get(const struct ksym_cache *c, uint64_t addr);
/* Cache b's result for b->want; -ENOSPC when full, -ENOMEM. */
int ksym_cache__put(struct ksym_cache *c, const struct ksym_best *b);
/* The name, or the address in hex ("0xffffffff81a2b3c4") when name is
 * NULL or "", into buf. */
const char *ksym_format(const char *name, uint64_t addr, char *buf, size_t len);

#endif
