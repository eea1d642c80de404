/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_WATCH_H
#define TCPFSM_WATCH_H

#include "sys/config.h"

/* `tcpfsm watch`: exit code. */
int cmd_watch(const struct tcpfsm_config *cfg);

#endif
