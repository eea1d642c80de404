// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one switch behind pr_debug and libbpf's messages (-v). */
#include "sys/log.h"

int log_verbose;
