// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Helpers shared by the unit tests: see support.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "support.h"

struct jp {
	const unsigned char *p;
};

static bool j_value(struct jp *j, int depth);

static void j_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static bool j_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp((const char *)j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

static bool j_utf8(struct jp *j)
{
	const unsigned char *s = j->p;
	uint32_t cp;
	int need, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3, cp = s[0] & 0x07;
	else
		return false;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return false;
	j->p += need + 1;
	return true;
}

static bool j_string(struct jp *j)
{
	if (*j->p++ != '"')
		return false;
	for (;;) {
		unsigned char c = *j->p;

		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false; /* includes the terminating NUL */
		if (c == '\\') {
			j->p++;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!j->p[i] || !strchr("0123456789abcdefABCDEF", j->p[i]))
						return false;
				j->p += 5;
			} else if (*j->p && strchr("\"\\/bfnrt", *j->p)) {
				j->p++;
			} else {
				return false;
			}
		} else if (c < 0x80) {
			j->p++;
		} else if (!j_utf8(j)) {
			return false;
		}
	}
}

static bool j_number(struct jp *j)
{
	const unsigned char *s = j->p;

	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return false;
	if (*j->p == '.') {
		j->p++;
		if (*j->p < '0' || *j->p > '9')
			return false;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static bool j_value(struct jp *j, int depth)
{
	if (depth > 32)
		return false;
	j_ws(j);
	switch (*j->p) {
	case '{':
		j->p++;
		j_ws(j);
		if (*j->p == '}')
			return j->p++, true;
		for (;;) {
			j_ws(j);
			if (!j_string(j))
				return false;
			j_ws(j);
			if (*j->p++ != ':' || !j_value(j, depth + 1))
				return false;
			j_ws(j);
			if (*j->p == '}')
				return j->p++, true;
			if (*j->p++ != ',')
				return false;
		}
	case '[':
		j->p++;
		j_ws(j);
		if (*j->p == ']')
			return j->p++, true;
		for (;;) {
			if (!j_value(j, depth + 1))
				return false;
			j_ws(j);
			if (*j->p == ']')
				return j->p++, true;
			if (*j->p++ != ',')
				return false;
		}
	case '"':
		return j_string(j);
	case 't':
		return j_lit(j, "true");
	case 'f':
		return j_lit(j, "false");
	case 'n':
		return j_lit(j, "null");
	default:
		return j_number(j);
	}
}

bool json_line_ok(const char *s)
{
	struct jp j = { (const unsigned char *)s };

	if (*s != '{' || !j_value(&j, 0))
		return false;
	return !strcmp((const char *)j.p, "\n");
}

bool json_string_ok(const char *s)
{
	struct jp j = { (const unsigned char *)s };

	return j_string(&j) && !*j.p;
}

struct alert alert_of_java(int state, enum alert_status st, uint64_t age_ns)
{
	struct alert a = {
		.status = st,
		.state = state,
		.age_ns = age_ns,
		.fd = -1,
		.pid = 1234,
		.owner = true,
		.comm = "java",
		.family = TCPFSM_AF_INET,
	};

	return a;
}

uint64_t xs_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

struct tcpfsm_event client_event(uint64_t cookie, uint64_t ts_ns, int old, int new)
{
	struct tcpfsm_event e = {
		.ts_ns = ts_ns,
		.cookie = cookie,
		.old_duration_ns = TCPFSM_DURATION_UNKNOWN,
		.cgroup_id = 7,
		.pid = 4242,
		.netns = 4026531840u,
		.sport = 40000,
		.dport = 443,
		.family = TCPFSM_AF_INET,
		.oldstate = old,
		.newstate = new,
		.flags = TCPFSM_F_OWNER,
		.saddr = { 10, 0, 0, 1 },
		.daddr = { 10, 0, 0, 2 },
		.comm = "curl",
		.kind = TCPFSM_KIND_TRANSITION,
	};

	return e;
}

void event_drop_owner(struct tcpfsm_event *e)
{
	e->pid = 0;
	e->cgroup_id = 0;
	memset(e->comm, 0, sizeof(e->comm));
}

void data_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("TCPFSM_DATA");
	FILE *f;

	snprintf(buf, len, "tests/data/%s", name);
	f = fopen(buf, "rb");
	if (f) {
		fclose(f);
		return;
	}
	if (dir)
		snprintf(buf, len, "%s/%s", dir, name);
}

char *data_slurp(const char *name, size_t *len)
{
	char path[512], *p;
	FILE *f;
	long n;

	data_path(path, sizeof(path), name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root or set TCPFSM_DATA)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	p = malloc(n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, n, f), n);
	p[n] = 0;
	fclose(f);
	*len = n;
	return p;
}

struct tcpfsm_event *data_records(const char *name, struct record_header *h, size_t *n)
{
	char path[512], err[512];
	struct record_reader *r;
	struct tcpfsm_event *v = NULL;
	size_t cap = 0;
	int ret;

	data_path(path, sizeof(path), name);
	r = record_reader__open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s (run from the repository root or set TCPFSM_DATA)", err);
	*h = *record_reader__header(r);
	*n = 0;
	for (;;) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		ret = record_reader__next(r, &v[*n], err, sizeof(err));
		if (ret < 0)
			fail_msg("%s", err);
		if (!ret)
			break;
		(*n)++;
	}
	record_reader__close(r);
	return v;
}

void assert_same_text(const char *what, const char *got, size_t got_len, const char *want,
		      size_t want_len)
{
	size_t i = 0, line = 1, bol = 0;

	if (got_len == want_len && !memcmp(got, want, got_len))
		return;
	while (i < got_len && i < want_len && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			bol = i + 1;
		}
		i++;
	}
	fail_msg("%s differs from the golden file at line %zu:\n got: %.*s\nwant: %.*s", what, line,
		 (int)strcspn(got + bol, "\n"), got + bol, (int)strcspn(want + bol, "\n"),
		 want + bol);
}
