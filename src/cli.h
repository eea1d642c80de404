/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_CLI_H
#define TCPFSM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "alert.h"
#include "runas.h"
#include "tcpfsm.h"

enum tcpfsm_cmd {
	CMD_TRACE = 0,
	CMD_HISTORY,
	CMD_RECORD,
	CMD_HIST,
	CMD_WATCH,
	CMD_SERVE,
	CMD_TOP,
};

enum attach_mode {
	ATTACH_AUTO = 0,	/* tp_btf, else the classic tracepoint */
	ATTACH_TP_BTF,
	ATTACH_TRACEPOINT,
};

#define CLI_MAX_PIDS 16
#define CLI_MAX_COMMS 8

struct tcpfsm_config {
	enum tcpfsm_cmd cmd;
	bool json;
	int verbose;
	uint64_t duration_ns;	/* 0: until SIGINT/SIGTERM */
	int family;		/* 0, TCPFSM_AF_INET or TCPFSM_AF_INET6 */
	uint16_t lports[TCPFSM_MAX_PORTS], rports[TCPFSM_MAX_PORTS], ports[TCPFSM_MAX_PORTS];
	unsigned int n_lports, n_rports, n_ports;
	uint32_t netns[TCPFSM_MAX_NETNS];
	unsigned int n_netns;
	uint64_t cgroup_id;	/* 0: any */
	uint32_t pids[CLI_MAX_PIDS];
	unsigned int n_pids;
	char comms[CLI_MAX_COMMS][TCPFSM_COMM_LEN];
	unsigned int n_comms;
	uint32_t state_mask;	/* --state: bit per state, 0: any */
	const char *replay;	/* -r FILE: read a recording instead of the kernel */
	const char *write_path;	/* record -w FILE */
	uint64_t min_duration_ns; /* history --min-duration */
	uint32_t max_conns;	/* history: bound on tracked connections */
	uint64_t interval_ns;	/* hist -i: print every interval, 0: only at the end */
	bool cumulative;	/* hist -i: totals so far, not the interval's */
	int by;			/* hist --by: enum tcpfsm_by */
	uint32_t by_limit;	/* hist --by-limit */
	bool aggregate_only;	/* internal: the kernel sends no events */
	bool lazy;		/* internal: watch, serve without --log: the kernel
				 * sends a socket's events once it is tracked */
	struct alert_cfg alerts; /* watch: thresholds (defaults unless --alert) */
	bool alerts_given;
	bool syslog;		/* watch --syslog */
	const char *alert_exec;	/* watch --alert-exec CMD */
	uint64_t alert_exec_timeout_ns;
	struct runas alert_exec_user; /* watch --alert-exec-user (resolved) */
	uint64_t sweep_ns;	/* watch --sweep */
	struct sockaddr_storage listen; /* serve --listen */
	const char *log_path;	/* serve --log */
	uint64_t buckets_ns[32]; /* serve --buckets (PROM_MAX_BUCKETS) */
	unsigned int nbuckets;
	bool batch;		/* top --batch */
	enum attach_mode attach;
	const char *btf_path;
	uint64_t ringbuf_bytes;
};

/*
 * Parse the command line into cfg (set to defaults first). On bad input
 * returns -EINVAL with a one-line message in err. argp_flags go to
 * argp_parse (tests pass ARGP_NO_EXIT | ARGP_NO_ERRS).
 */
int cli_parse(int argc, char **argv, struct tcpfsm_config *cfg, unsigned int argp_flags, char *err,
	      size_t errlen);

/* Default of serve --listen: loopback only. */
#define TCPFSM_DEFAULT_LISTEN "127.0.0.1:9867"

/* "127.0.0.1:9867", "[::1]:9867", "0.0.0.0:9867" into ss; -EINVAL. */
int cli_parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen);

/* "443", "80,443" into list (appending); -EINVAL/-E2BIG with message. */
int cli_parse_ports(const char *s, uint16_t *list, unsigned int *n, char *err, size_t errlen);

#endif
