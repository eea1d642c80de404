// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Helpers shared by the unit tests: see support.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
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
