/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_TESTHOOK_H
#define TCPFSM_TESTHOOK_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Fault injection for the integration tests: whether $TCPFSM_TEST_HOOKS (a
 * comma-separated list) names hook. Unset in real runs; the hooks are listed
 * in include/tcpfsm.h (TCPFSM_TEST_*) and where they are used.
 */
static inline bool test_hook(const char *hook)
{
	const char *s = getenv("TCPFSM_TEST_HOOKS");
	size_t n = strlen(hook);

	for (; s && *s; s += strcspn(s, ","), s += *s == ',')
		if (!strncmp(s, hook, n) && (s[n] == ',' || !s[n]))
			return true;
	return false;
}

#endif
