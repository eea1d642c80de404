/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_HISTCMD_H
#define TCPFSM_HISTCMD_H

#include "cli.h"

/* `tcpfsm hist`: exit code. */
int cmd_hist(const struct tcpfsm_config *cfg);

#endif
