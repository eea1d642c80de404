/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_CMD_HIST_H
#define TCPFSM_CMD_HIST_H

#include "cmd/cli.h"

/* `tcpfsm hist`: exit code. */
int cmd_hist(const struct tcpfsm_config *cfg);

#endif
