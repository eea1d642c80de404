/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_TOP_H
#define TCPFSM_TOP_H

#include "sys/config.h"

/* `tcpfsm top`: exit code. */
int cmd_top(const struct tcpfsm_config *cfg);

#endif
