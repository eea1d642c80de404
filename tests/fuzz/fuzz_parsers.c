// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: every parser of user input: durations, states, ports, listen
 * addresses, bucket lists, --alert specs, and whole command lines (the input
 * split at newlines into words). */
#include <argp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pure/alertcfg.h"
#include "cmd/cli.h"
#include "pure/duration.h"
#include "pure/prom.h"
#include "pure/state.h"

/* The input as a command line: words split at '\n', at most 30. */
static void command_line(char *s)
{
	char *argv[32] = { "tcpfsm" }, err[512];
	struct tcpfsm_config cfg;
	int argc = 1;

	for (char *w = s; w && argc < 31; argc++) {
		argv[argc] = w;
		w = strchr(w, '\n');
		if (w)
			*w++ = 0;
	}
	argv[argc] = NULL;
	/* no exit, no messages, no --help: the parse and its checks only */
	if (cli_parse(argc, argv, &cfg, ARGP_SILENT, err, sizeof(err)) && !memchr(err, 0, sizeof(err)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256], out[64];
	uint64_t ns, buckets[PROM_MAX_BUCKETS];
	uint16_t ports[TCPFSM_MAX_PORTS];
	unsigned int n = 0;
	struct sockaddr_storage ss;
	struct alert_cfg ac;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (!duration_parse(s, &ns))
		duration_format(out, sizeof(out), ns);
	state_parse(s);
	cli_parse_ports(s, ports, &n, err, sizeof(err));
	if (n > TCPFSM_MAX_PORTS)
		abort();
	cli_parse_listen(s, &ss, err, sizeof(err));
	prom_parse_buckets(s, buckets, PROM_MAX_BUCKETS, err, sizeof(err));
	alert_cfg_defaults(&ac);
	alert_cfg_parse(&ac, s, err, sizeof(err));
	command_line(s); /* last: it cuts s into words */
	free(s);
	return 0;
}
