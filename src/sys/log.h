/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_LOG_H
#define TCPFSM_LOG_H

#include <stdio.h>

extern int log_verbose;

#define pr_err(fmt, ...) fprintf(stderr, "tcpfsm: " fmt "\n", ##__VA_ARGS__)
#define pr_warn(fmt, ...) fprintf(stderr, "tcpfsm: warning: " fmt "\n", ##__VA_ARGS__)
#define pr_info(fmt, ...) fprintf(stderr, "tcpfsm: " fmt "\n", ##__VA_ARGS__)
#define pr_debug(fmt, ...)                                                   \
	do {                                                                 \
		if (log_verbose)                                             \
			fprintf(stderr, "tcpfsm: " fmt "\n", ##__VA_ARGS__); \
	} while (0)

#endif
