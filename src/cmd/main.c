// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include "cmd/cli.h"
#include "cmd/hist.h"
#include "cmd/history.h"
#include "cmd/record.h"
#include "cmd/serve.h"
#include "cmd/top.h"
#include "cmd/trace.h"
#include "cmd/watch.h"

int main(int argc, char **argv)
{
	struct tcpfsm_config cfg;
	char err[512];

	if (cli_parse(argc, argv, &cfg, 0, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", cfg.prog, err);
		fprintf(stderr, "Try '%s --help' for more information.\n", cfg.prog);
		return 2;
	}
	switch (cfg.cmd) {
	case CMD_TRACE:
		return cmd_trace(&cfg);
	case CMD_HISTORY:
		return cmd_history(&cfg);
	case CMD_RECORD:
		return cmd_record(&cfg);
	case CMD_HIST:
		return cmd_hist(&cfg);
	case CMD_WATCH:
		return cmd_watch(&cfg);
	case CMD_SERVE:
		return cmd_serve(&cfg);
	case CMD_TOP:
		return cmd_top(&cfg);
	}
	return 2;
}
