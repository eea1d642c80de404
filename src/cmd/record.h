/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_CMD_RECORD_H
#define TCPFSM_CMD_RECORD_H

#include "cmd/cli.h"

/* `tcpfsm record -w FILE`: raw records to a file. Exit code. */
int cmd_record(const struct tcpfsm_config *cfg);

#endif
