/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_TRACE_H
#define TCPFSM_TRACE_H

#include "cmd/cli.h"

/* `tcpfsm trace`: returns the process exit code. */
int cmd_trace(const struct tcpfsm_config *cfg);

#endif
