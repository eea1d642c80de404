// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The open-addressing table: entries found by key after growth, deletion
 * keeps every other entry reachable (runs that wrap around the end, keys
 * that collide), iteration sees each entry once, prune removes exactly
 * what it picks; checked against a plain array model.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pure/otab.h"

struct ent {
	uint64_t key;
	uint64_t value;
	char pad[8];
};

/* every key of the model is found with its value; no other key is */
static void check(const struct otab *t, const uint64_t *keys, const bool *in, size_t n)
{
	uint32_t count = 0, pos = 0;
	struct ent *e;

	for (size_t i = 0; i < n; i++) {
		e = otab_get(t, keys[i]);
		if (in[i]) {
			assert_non_null(e);
			assert_int_equal(e->key, keys[i]);
			assert_int_equal(e->value, keys[i] * 3);
			count++;
		} else {
			assert_null(e);
		}
	}
	assert_int_equal(otab_count(t), count);
	/* iteration: each entry once */
	count = 0;
	while ((e = otab_next(t, &pos))) {
		size_t i;

		for (i = 0; i < n && keys[i] != e->key; i++)
			;
		assert_true(i < n && in[i]);
		count++;
	}
	assert_int_equal(count, otab_count(t));
}

static void test_put_get_del(void **unused)
{
	enum { N = 5000 };
	static uint64_t keys[N];
	static bool in[N];
	struct otab t;
	uint64_t seed = 88172645463325252ULL;

	otab_init(&t, sizeof(struct ent));
	assert_null(otab_get(&t, 1));
	assert_null(otab_put(&t, 0)); /* 0 marks an empty slot */
	assert_int_equal(otab_count(&t), 0);
	for (size_t i = 0; i < N; i++) {
		struct ent *e;

		/* half of them spread, half of them one apart (their homes
		 * collide in long runs) */
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		keys[i] = i % 2 ? (seed | 1) : 1000 + i;
		e = otab_put(&t, keys[i]);
		assert_non_null(e);
		assert_int_equal(e->key, keys[i]);
		assert_int_equal(e->value, 0); /* new: zeroed */
		e->value = keys[i] * 3;
		in[i] = true;
		/* putting again finds the same entry */
		assert_ptr_equal(otab_put(&t, keys[i]), otab_get(&t, keys[i]));
	}
	check(&t, keys, in, N);
	assert_true(t.cap >= 2 * otab_count(&t));
	/* delete two thirds in an order unrelated to the slots */
	for (size_t k = 0; k < N; k++) {
		size_t i = (k * 7919) % N;

		if (i % 3 == 0)
			continue;
		otab_del(&t, otab_get(&t, keys[i]));
		in[i] = false;
		if (k % 500 == 0)
			check(&t, keys, in, N);
	}
	check(&t, keys, in, N);
	/* and back */
	for (size_t i = 0; i < N; i++) {
		if (in[i])
			continue;
		((struct ent *)otab_put(&t, keys[i]))->value = keys[i] * 3;
		in[i] = true;
	}
	check(&t, keys, in, N);
	otab_free(&t);
	assert_int_equal(otab_count(&t), 0);
	assert_null(otab_get(&t, keys[0]));
	/* usable again after free */
	assert_non_null(otab_put(&t, 5));
	otab_free(&t);
}

/* A run that wraps from the last slot to the first: deleting inside it
 * moves the wrapped entries back correctly. */
static void test_wrapping_run(void **unused)
{
	struct otab t;
	uint64_t keys[40];
	bool in[40];
	size_t n = 0;

	otab_init(&t, sizeof(struct ent));
	/* the first put makes 64 slots; find keys whose home is slot 62 or 63 */
	assert_non_null(otab_put(&t, 1));
	otab_del(&t, otab_get(&t, 1));
	for (uint64_t k = 2; n < 6; k++) {
		uint32_t home = (k * 0x9e3779b97f4a7c15ULL) >> 32 & 63;

		if (home >= 62) {
			keys[n] = k;
			in[n++] = true;
			((struct ent *)otab_put(&t, k))->value = k * 3;
		}
	}
	assert_int_equal(t.cap, 64);
	check(&t, keys, in, n);
	for (size_t i = 0; i < n; i++) {
		otab_del(&t, otab_get(&t, keys[i]));
		in[i] = false;
		check(&t, keys, in, n);
	}
	otab_free(&t);
}

static bool pick_even(void *ctx, const void *entry)
{
	const struct ent *e = entry;

	(*(int *)ctx)++;
	return e->value % 2 == 0;
}

static void count_gone(void *ctx, void *entry)
{
	struct ent *e = entry;

	/* seen before it goes */
	assert_int_equal(e->value % 2, 0);
	e->value = 1;
}

static void test_prune(void **unused)
{
	struct otab t;
	int seen = 0;

	otab_init(&t, sizeof(struct ent));
	assert_int_equal(otab_prune(&t, pick_even, NULL, &seen), 0);
	assert_int_equal(seen, 0);
	for (uint64_t k = 1; k <= 1000; k++)
		((struct ent *)otab_put(&t, k))->value = k;
	assert_int_equal(otab_prune(&t, pick_even, NULL, &seen), 500);
	assert_int_equal(seen, 1000);
	for (uint64_t k = 1; k <= 1000; k++) {
		struct ent *e = otab_get(&t, k);

		if (k % 2)
			assert_non_null(e);
		else
			assert_null(e);
	}
	for (uint64_t k = 2; k <= 1000; k += 2)
		((struct ent *)otab_put(&t, k))->value = k;
	seen = 0;
	assert_int_equal(otab_prune(&t, pick_even, count_gone, &seen), 500);
	assert_int_equal(otab_count(&t), 500);
	otab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_wrapping_run),
		cmocka_unit_test(test_prune),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
