/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_SERVE_H
#define TCPFSM_SERVE_H

#include "sys/config.h"

/* `tcpfsm serve`: exit code. */
int cmd_serve(const struct tcpfsm_config *cfg);

#endif
