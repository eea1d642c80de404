/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_CLI_H
#define TCPFSM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "sys/config.h"

/*
 * Parse the command line into cfg (set to defaults first): the command word
 * may come anywhere among the options ("tcpfsm -d 1 trace"); each command
 * takes only its own options. On bad input returns -EINVAL with a one-line
 * message in err, to be printed after cfg->prog ("tcpfsm hist: ..."), exit
 * status 2. argp_flags go to argp_parse (tests pass ARGP_NO_EXIT |
 * ARGP_NO_ERRS); without ARGP_NO_ERRS argp reports its own usage errors
 * (an unknown option, a missing argument) and exits with status 2.
 */
int cli_parse(int argc, char **argv, struct tcpfsm_config *cfg, unsigned int argp_flags, char *err,
	      size_t errlen);

/* Default of serve --listen: loopback only. */
#define TCPFSM_DEFAULT_LISTEN "127.0.0.1:9867"

/* "127.0.0.1:9867", "[::1]:9867", "0.0.0.0:9867" into ss; -EINVAL. */
int cli_parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen);

/* "443", "80,443" into list (appending); -EINVAL/-E2BIG with message. */
int cli_parse_ports(const char *s, uint16_t *list, unsigned int *n, char *err, size_t errlen);

#endif
