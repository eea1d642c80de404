/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_HISTORY_H
#define TCPFSM_HISTORY_H

#include "cmd/cli.h"

/* `tcpfsm history`: one record per connection at close. Exit code. */
int cmd_history(const struct tcpfsm_config *cfg);

#endif
