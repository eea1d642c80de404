/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_FILTER_H
#define TCPFSM_FILTER_H

#include <stdbool.h>
#include "cli.h"

/*
 * The filters applied in userspace (pid, comm, state). The kernel already
 * applied family, ports, netns and cgroup; replayed events go through
 * filter_kernel_side() too so both paths select the same events.
 */
bool filter_user_side(const struct tcpfsm_config *cfg, const struct tcpfsm_event *e);
bool filter_kernel_side(const struct tcpfsm_config *cfg, const struct tcpfsm_event *e);

#endif
