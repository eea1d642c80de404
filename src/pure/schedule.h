/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_SCHEDULE_H
#define TCPFSM_SCHEDULE_H

#include <stdint.h>
#include "pure/alertcfg.h"

/*
 * When the engine's iterator sweeps run. Pure: the times in, the times out.
 *
 * Lazy tracking (see kernel/loader.h): the kernel sends a socket's
 * transitions only once a tracking sweep found it in one state for
 * track_after_ns. That is well before its state's threshold (half of the
 * smallest one) and within a second, so /connections and the peers a
 * diagnosis names know the sockets that linger.
 */
uint64_t sched_track_after_ns(const struct alert_cfg *cfg);

/*
 * How long until the next tracking sweep: every sweep_ns, unless a sweep
 * costs more than 2% of a CPU (dur_ns each, on a host with many sockets):
 * then less often, but never later than half the smallest threshold of the
 * states only a sweep finds. A stuck connect is found by its first SYN
 * retransmit (1 s) instead, a half-open request by its SYN/ACK retransmits:
 * SYN_SENT from 2 s on and SYN_RECV do not bound it.
 */
uint64_t sched_track_interval_ns(const struct alert_cfg *cfg, uint64_t sweep_ns, uint64_t dur_ns);

/* Half-open requests vanish without an event: while the engine follows
 * some, a sweep looks for them this often. */
#define SCHED_REQUEST_SWEEP_NS (2 * 1000000000ULL)

#endif
