/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_CONFIG_H
#define TCPFSM_CONFIG_H
/*
 * What a command line asks for (filled by cmd/cli.c), read by every layer
 * above this one.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "tcpfsm.h"
#include "pure/alertcfg.h"
#include "pure/filter.h"
#include "sys/runas.h"

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

struct tcpfsm_config {
	enum tcpfsm_cmd cmd;
	const char *prog;	/* "tcpfsm hist" (the command as named), "tcpfsm" */
	bool json;
	int verbose;
	uint64_t duration_ns;	/* 0: until SIGINT/SIGTERM */
	struct tcpfsm_filter kf; /* -4/-6, ports, --netns, --cgroup: applied in the kernel */
	struct user_filter uf;	/* --pid, --comm, --state: applied here */
	const char *replay;	/* -r FILE: read a recording instead of the kernel */
	bool partial;		/* -r --partial: a recording cut short is not an error */
	const char *write_path;	/* record -w FILE */
	uint64_t min_duration_ns; /* history --min-duration */
	uint32_t max_conns;	/* history: bound on tracked connections */
	uint64_t interval_ns;	/* hist -i: print every interval, 0: only at the end */
	bool cumulative;	/* hist -i: totals so far, not the interval's */
	int by;			/* hist --by: enum tcpfsm_by */
	uint32_t by_limit;	/* hist --by-limit */
	bool drops;		/* trace --drops (and internal): TCP drop records */
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

#endif
