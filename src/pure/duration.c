// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pure/duration.h"

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

static const struct {
	const char *suffix;
	uint64_t mult;
} units[] = {
	{ "ns", 1 },
	{ "us", NSEC_PER_USEC },
	{ "\xc2\xb5s", NSEC_PER_USEC }, /* µs (micro sign) */
	{ "\xce\xbcs", NSEC_PER_USEC }, /* μs (Greek mu) */
	{ "ms", NSEC_PER_MSEC },
	{ "s", NSEC_PER_SEC },
	{ "", NSEC_PER_SEC },
	{ "m", 60 * NSEC_PER_SEC },
	{ "h", 3600 * NSEC_PER_SEC },
	{ "d", 86400 * NSEC_PER_SEC },
};

int duration_parse(const char *s, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0, frac_div = 1, mult = 0, r;
	const char *p = s;
	size_t i;
	int digits = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		unsigned int d = *p - '0';

		if (whole > (UINT64_MAX - d) / 10)
			return -ERANGE;
		whole = whole * 10 + d;
	}
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			/* beyond nanosecond precision of a day: ignore */
			if (frac_div < 1000000000000000ULL) {
				frac = frac * 10 + (*p - '0');
				frac_div *= 10;
			}
		}
	}
	if (!digits)
		return -EINVAL; /* also rejects "-3s", "+3s", ".s" */
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(p, units[i].suffix)) {
			mult = units[i].mult;
			break;
		}
	}
	if (!mult)
		return -EINVAL;
	if (whole > UINT64_MAX / mult)
		return -ERANGE;
	r = whole * mult;
	/* frac < frac_div <= 1e15 and mult <= 8.64e13: split to avoid overflow */
	{
		uint64_t q = mult / frac_div, rem = mult % frac_div;
		uint64_t add = frac * q + (rem ? (uint64_t)((double)frac * rem / frac_div) : 0);

		if (r > UINT64_MAX - add)
			return -ERANGE;
		r += add;
	}
	*ns = r;
	return 0;
}

/* three significant digits of ns/unit, rounded; NULL when it rounds to 1000 */
static int sig3(char *buf, size_t len, uint64_t ns, uint64_t unit, const char *sfx)
{
	/* hundredths of the unit, rounded */
	uint64_t h = (ns * 100 + unit / 2) / unit;

	if (h < 1000 - 0) /* < 10.00 */
		return snprintf(buf, len, "%llu.%02llu%s", (unsigned long long)(h / 100),
				(unsigned long long)(h % 100), sfx);
	h = (ns * 10 + unit / 2) / unit; /* tenths */
	if (h < 1000)
		return snprintf(buf, len, "%llu.%llu%s", (unsigned long long)(h / 10),
				(unsigned long long)(h % 10), sfx);
	h = (ns + unit / 2) / unit;
	if (h < 1000)
		return snprintf(buf, len, "%llu%s", (unsigned long long)h, sfx);
	return -1;
}

int duration_format(char *buf, size_t len, uint64_t ns)
{
	uint64_t s;
	int n;

	if (ns < 1000)
		return snprintf(buf, len, "%lluns", (unsigned long long)ns);
	if (ns < NSEC_PER_MSEC && (n = sig3(buf, len, ns, NSEC_PER_USEC, "\xc2\xb5s")) >= 0)
		return n;
	if (ns < NSEC_PER_SEC && (n = sig3(buf, len, ns, NSEC_PER_MSEC, "ms")) >= 0)
		return n;
	/* below 59.95s: from 59.95s on, three digits would say "60.0s" */
	if (ns < 59950 * NSEC_PER_MSEC && (n = sig3(buf, len, ns, NSEC_PER_SEC, "s")) >= 0)
		return n;
	if (ns < 60 * NSEC_PER_SEC) /* 59.95s .. 60s rounds up */
		ns = 60 * NSEC_PER_SEC;
	s = ns / NSEC_PER_SEC;
	if (s < 3600)
		return snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
				(unsigned long long)(s % 60));
	if (s < 86400)
		return snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
				(unsigned long long)(s % 3600 / 60));
	return snprintf(buf, len, "%llud%02lluh", (unsigned long long)(s / 86400),
			(unsigned long long)(s % 86400 / 3600));
}
