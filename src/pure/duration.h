/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_DURATION_H
#define TCPFSM_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse "250ms", "3s", "1.5s", "5m", "1h", "2d", "100us"/"100µs", "500ns";
 * a bare number is seconds. Returns 0, -EINVAL (malformed, negative, empty)
 * or -ERANGE (does not fit in 64-bit nanoseconds).
 */
int duration_parse(const char *s, uint64_t *ns);

/*
 * Human form with three significant digits: "812ns", "1.23µs", "45.6ms",
 * "5.10s", then "2m03s", "1h02m", "3d04h". Returns snprintf's count.
 */
int duration_format(char *buf, size_t len, uint64_t ns);

#endif
