// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* argp -> struct tcpfsm_config. Validation only; nothing here needs root. */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cmd/cli.h"
#include "pure/duration.h"
#include "pure/histogram.h"
#include "pure/prom.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include "pure/state.h"

const char *argp_program_version = "tcpfsm " TCPFSM_VERSION;
const char *argp_program_bug_address = "https://github.com/tcpfsm/tcpfsm/issues";

/* long-only option keys */
enum {
	OPT_PORT = 0x100,
	OPT_LPORT,
	OPT_RPORT,
	OPT_PID,
	OPT_COMM,
	OPT_NETNS,
	OPT_CGROUP,
	OPT_STATE,
	OPT_ATTACH,
	OPT_BTF,
	OPT_RINGBUF,
	OPT_MIN_DURATION,
	OPT_MAX_CONNS,
	OPT_BY,
	OPT_BY_LIMIT,
	OPT_CUMULATIVE,
	OPT_ALERT,
	OPT_SYSLOG,
	OPT_ALERT_EXEC,
	OPT_ALERT_EXEC_TIMEOUT,
	OPT_ALERT_EXEC_USER,
	OPT_SWEEP,
	OPT_ALERT_RATE,
	OPT_LISTEN,
	OPT_LOG,
	OPT_BUCKETS,
	OPT_BATCH,
};

static const char doc[] =
	"tcpfsm -- trace the kernel's TCP state machine\n"
	"\n"
	"COMMAND is one of:\n"
	"  trace      one line per TCP state transition (the default)\n"
	"  history    one record per connection when it closes: its whole path\n"
	"  record     write raw events to a file (-w FILE) for later -r FILE\n"
	"  hist       histograms of the time spent in each state\n"
	"  watch      alerts while connections are stuck, with a diagnosis\n"
	"  serve      Prometheus exporter: /metrics, /connections, /healthz\n"
	"  top        a live screen: what is stuck, since when, who owns it\n"
	"\n"
	"EXAMPLES:\n"
	"  tcpfsm                          # every transition on this host\n"
	"  tcpfsm trace --json -d 10       # JSON lines for 10 seconds\n"
	"  tcpfsm trace --rport 443 -4     # IPv4 connections to port 443\n"
	"  tcpfsm trace --state CLOSE_WAIT # transitions into/out of CLOSE_WAIT\n"
	"  tcpfsm trace --netns /run/netns/blue --comm nginx\n"
	"  tcpfsm history --min-duration 1s --state SYN_SENT\n"
	"  tcpfsm record -w /tmp/t.tfr -d 60; tcpfsm history -r /tmp/t.tfr\n"
	"  tcpfsm hist -i 10s --by lport   # per-state histograms every 10 s\n"
	"  tcpfsm watch --alert SYN_SENT=2s --alert CLOSE_WAIT=5m --syslog\n"
	"  tcpfsm serve --listen 127.0.0.1:9867 --log /var/log/tcpfsm.json\n"
	"\v"
	"Durations accept ns, us, ms, s (default), m, h, d: 250ms, 3s, 5m, 1h.\n"
	"State names are Linux's (SYN_SENT, CLOSE_WAIT, ...), case-insensitive,\n"
	"or RFC 793's (SYN-RECEIVED, FIN-WAIT-1, CLOSED, ...).\n"
	"Needs root, or CAP_BPF and CAP_PERFMON, and a kernel with BTF.";

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Output:", 1 },
	{ "json", 'j', NULL, 0, "One JSON object per line", 1 },
	{ "duration", 'd', "DURATION", 0, "Exit after DURATION (e.g. 10, 250ms, 5m)", 1 },
	{ "verbose", 'v', NULL, 0, "Debug messages, including libbpf's", 1 },
	{ "replay", 'r', "FILE", 0, "Read events recorded by `tcpfsm record` (- for stdin)", 1 },
	{ "write", 'w', "FILE", 0, "record: the file to write (- for stdout)", 1 },
	{ NULL, 0, NULL, 0, "Filters (repeatable options add to a list):", 2 },
	{ "ipv4", '4', NULL, 0, "IPv4 only (v4-mapped IPv6 counts as IPv4)", 2 },
	{ "ipv6", '6', NULL, 0, "IPv6 only", 2 },
	{ "port", OPT_PORT, "PORT[,PORT]", 0, "Local or remote port", 2 },
	{ "lport", OPT_LPORT, "PORT[,PORT]", 0, "Local port", 2 },
	{ "rport", OPT_RPORT, "PORT[,PORT]", 0, "Remote port", 2 },
	{ "pid", OPT_PID, "PID", 0, "Owner process id", 2 },
	{ "comm", OPT_COMM, "NAME", 0, "Owner command name (exact, as in /proc/PID/comm)", 2 },
	{ "netns", OPT_NETNS, "INODE|PATH", 0,
	  "Network namespace: inode number, or a path such as /run/netns/NAME, /proc/PID/ns/net",
	  2 },
	{ "cgroup", OPT_CGROUP, "PATH|ID", 0, "Owner's cgroup v2 (path under /sys/fs/cgroup or id)",
	  2 },
	{ "state", OPT_STATE, "STATE", 0,
	  "trace: transitions into or out of STATE; history: connections that went through it",
	  2 },
	{ "min-duration", OPT_MIN_DURATION, "DURATION", 0,
	  "history: connections that lived at least DURATION", 2 },
	{ NULL, 0, NULL, 0, "Connection table (history):", 3 },
	{ "max-conns", OPT_MAX_CONNS, "N", 0,
	  "Track at most N connections; the least recently active are evicted, counted and "
	  "reported (default 262144)",
	  3 },
	{ NULL, 0, NULL, 0, "Histograms (hist):", 4 },
	{ "interval", 'i', "DURATION", 0, "Print each interval's counts every DURATION", 4 },
	{ "cumulative", OPT_CUMULATIVE, NULL, 0, "With -i: totals so far instead of deltas", 4 },
	{ "by", OPT_BY, "lport|rport|comm|cgroup", 0, "Also one histogram per state and key", 4 },
	{ "by-limit", OPT_BY_LIMIT, "N", 0,
	  "With --by: at most N (state, key) histograms; the rest count under key \"other\" "
	  "(default 256)",
	  4 },
	{ NULL, 0, NULL, 0, "Alerts (watch):", 5 },
	{ "alert", OPT_ALERT, "STATE=DURATION", 0,
	  "Alert when a connection stays longer in STATE (repeatable; without it: SYN_SENT=3s "
	  "SYN_RECV=3s CLOSE_WAIT=60s LAST_ACK=30s FIN_WAIT1=30s FIN_WAIT2=60s CLOSING=30s)",
	  5 },
	{ "syslog", OPT_SYSLOG, NULL, 0, "Also send alerts to syslog", 5 },
	{ "alert-exec", OPT_ALERT_EXEC, "CMD", 0,
	  "Run CMD (no shell) for each alert: JSON on stdin, TCPFSM_* in the environment", 5 },
	{ "alert-exec-timeout", OPT_ALERT_EXEC_TIMEOUT, "DURATION", 0,
	  "Kill an --alert-exec command after DURATION (default 10s)", 5 },
	{ "alert-exec-user", OPT_ALERT_EXEC_USER, "USER[:GROUP]", 0,
	  "Run --alert-exec commands as USER (name or id) with its groups, or GROUP, and no "
	  "capabilities (needs CAP_SETUID and CAP_SETGID; default: tcpfsm's own user, with at "
	  "most the capabilities tcpfsm keeps)",
	  5 },
	{ "sweep", OPT_SWEEP, "DURATION", 0, "How often to check for stuck sockets (default 1s)",
	  5 },
	{ "alert-rate", OPT_ALERT_RATE, "N", 0,
	  "At most N alerts a minute per group (state and remote endpoint or owner); the rest "
	  "are summed up (default 10)",
	  5 },
	{ NULL, 0, NULL, 0, "Exporter (serve; it also takes the alert options):", 6 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "Where to serve HTTP (default " TCPFSM_DEFAULT_LISTEN ", loopback only)", 6 },
	{ "log", OPT_LOG, "FILE", 0, "Append connection histories and alerts as JSON lines "
				     "(reopened on SIGHUP)", 6 },
	{ "buckets", OPT_BUCKETS, "DURATION[,...]", 0,
	  "Exported histogram bounds (default 16 from 10.24us to 64min, x4 apart)", 6 },
	{ NULL, 0, NULL, 0, "Live screen (top; -i sets its refresh, default 1s):", 7 },
	{ "batch", OPT_BATCH, NULL, 0, "Print the screen as plain text every interval (no terminal needed)",
	  7 },
	{ NULL, 0, NULL, 0, "Kernel side:", 8 },
	{ "attach", OPT_ATTACH, "auto|tp_btf|tracepoint", 0,
	  "How to attach (default auto: tp_btf, else the classic tracepoint)", 8 },
	{ "btf", OPT_BTF, "FILE", 0, "Kernel BTF when /sys/kernel/btf/vmlinux is missing", 8 },
	{ "ringbuf-size", OPT_RINGBUF, "BYTES", 0,
	  "Ring buffer size, power of two, 64K..1G (K/M/G suffix; default 16M)", 8 },
	{},
};

struct parse_state {
	struct tcpfsm_config *cfg;
	char *err;
	size_t errlen;
};

#define FAIL(ps, ...)                                          \
	do {                                                   \
		snprintf((ps)->err, (ps)->errlen, __VA_ARGS__); \
		return EINVAL;                                 \
	} while (0)

int cli_parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		h = s + 1;
		hl = rb - h;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hl = colon - s;
	}
	if (!hl || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || !colon[1] || *end || !port || port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		return 0;
	}
bad:
	snprintf(err, errlen,
		 "bad --listen '%s': expected ADDR:PORT with a numeric address (127.0.0.1:9867, "
		 "[::1]:9867, 0.0.0.0:9867)",
		 s);
	return -EINVAL;
}

int cli_parse_ports(const char *s, uint16_t *list, unsigned int *n, char *err, size_t errlen)
{
	const char *p = s;
	unsigned int i = *n;	/* *n moves only once the whole list is good */

	if (!*p) {
		snprintf(err, errlen, "empty port list");
		return -EINVAL;
	}
	while (*p) {
		char *end;
		unsigned long v;

		if (*p < '0' || *p > '9') {
			snprintf(err, errlen, "bad port '%s': expected a number 1-65535", s);
			return -EINVAL;
		}
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || v == 0 || v > 65535 || (*end && *end != ',') ||
		    (*end == ',' && !end[1])) {
			snprintf(err, errlen, "bad port '%s': expected a number 1-65535", s);
			return -EINVAL;
		}
		if (i >= TCPFSM_MAX_PORTS) {
			snprintf(err, errlen, "too many ports (at most %d per option)",
				 TCPFSM_MAX_PORTS);
			return -E2BIG;
		}
		list[i++] = v;
		p = *end ? end + 1 : end;
	}
	*n = i;
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;
	unsigned int shift;

	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (!strcmp(end, "K") || !strcmp(end, "k"))
		shift = 10;
	else if (!strcmp(end, "M") || !strcmp(end, "m"))
		shift = 20;
	else if (!strcmp(end, "G") || !strcmp(end, "g"))
		shift = 30;
	else if (!*end)
		shift = 0;
	else
		return -EINVAL;
	/* a size that wraps around 64 bits could pass for a small power of two */
	if (x > ULLONG_MAX >> shift)
		return -ERANGE;
	*v = x << shift;
	return 0;
}

/* A netns given as a number (inode) or as a path to stat. */
static int parse_netns(const char *s, uint32_t *ino)
{
	uint64_t v;
	struct stat st;

	if (!parse_u64(s, &v)) {
		if (!v || v > UINT32_MAX)
			return -EINVAL;
		*ino = v;
		return 0;
	}
	if (stat(s, &st))
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/* cgroup v2 id == inode number of its directory */
static int parse_cgroup(const char *s, uint64_t *id)
{
	char path[PATH_MAX];
	struct stat st;

	if (!parse_u64(s, id))
		return *id ? 0 : -EINVAL;
	if (s[0] == '/' && strncmp(s, "/sys/fs/cgroup", 14))
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s", s);
	else
		snprintf(path, sizeof(path), "%s", s);
	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct parse_state *ps = state->input;
	struct tcpfsm_config *cfg = ps->cfg;
	uint64_t v;
	int err, st;

	switch (key) {
	case 'j':
		cfg->json = true;
		break;
	case 'v':
		cfg->verbose++;
		break;
	case 'd':
		err = duration_parse(arg, &cfg->duration_ns);
		if (err == -ERANGE)
			FAIL(ps, "duration '%s' is too long", arg);
		if (err || !cfg->duration_ns)
			FAIL(ps, "bad duration '%s': expected a positive number with an optional unit (250ms, 3s, 5m, 1h)",
			     arg);
		break;
	case '4':
	case '6':
		if (cfg->kf.family)
			FAIL(ps, "-4 and -6 exclude each other");
		cfg->kf.family = key == '4' ? TCPFSM_AF_INET : TCPFSM_AF_INET6;
		break;
	case OPT_PORT:
	case OPT_LPORT:
	case OPT_RPORT: {
		uint16_t *list = key == OPT_PORT ? cfg->kf.ports :
				 key == OPT_LPORT ? cfg->kf.lports : cfg->kf.rports;
		unsigned int *n = key == OPT_PORT ? &cfg->kf.n_ports :
				  key == OPT_LPORT ? &cfg->kf.n_lports : &cfg->kf.n_rports;

		if (cli_parse_ports(arg, list, n, ps->err, ps->errlen))
			return EINVAL;
		break;
	}
	case OPT_PID:
		if (parse_u64(arg, &v) || !v || v > INT32_MAX)
			FAIL(ps, "bad pid '%s'", arg);
		if (cfg->uf.n_pids >= FILTER_MAX_PIDS)
			FAIL(ps, "too many --pid (at most %d)", FILTER_MAX_PIDS);
		cfg->uf.pids[cfg->uf.n_pids++] = v;
		break;
	case OPT_COMM:
		if (!*arg || strlen(arg) >= TCPFSM_COMM_LEN)
			FAIL(ps, "bad comm '%s': 1 to %d characters", arg, TCPFSM_COMM_LEN - 1);
		if (cfg->uf.n_comms >= FILTER_MAX_COMMS)
			FAIL(ps, "too many --comm (at most %d)", FILTER_MAX_COMMS);
		snprintf(cfg->uf.comms[cfg->uf.n_comms++], TCPFSM_COMM_LEN, "%s", arg);
		break;
	case OPT_NETNS:
		if (cfg->kf.n_netns >= TCPFSM_MAX_NETNS)
			FAIL(ps, "too many --netns (at most %d)", TCPFSM_MAX_NETNS);
		err = parse_netns(arg, &cfg->kf.netns[cfg->kf.n_netns]);
		if (err == -EINVAL)
			FAIL(ps, "bad netns '%s': expected an inode number or a path", arg);
		if (err)
			FAIL(ps, "netns '%s': %s", arg, strerror(-err));
		cfg->kf.n_netns++;
		break;
	case OPT_CGROUP:
		if (cfg->kf.cgroup_id)
			FAIL(ps, "only one --cgroup");
		err = parse_cgroup(arg, &v);
		cfg->kf.cgroup_id = v;
		if (err == -EINVAL)
			FAIL(ps, "bad cgroup '%s': expected an id or a cgroup v2 path", arg);
		if (err)
			FAIL(ps, "cgroup '%s': %s", arg, strerror(-err));
		break;
	case OPT_STATE:
		st = state_parse(arg);
		if (st < 0)
			FAIL(ps, "unknown state '%s' (try SYN_SENT, ESTABLISHED, CLOSE_WAIT, TIME_WAIT, ...)",
			     arg);
		cfg->uf.state_mask |= 1u << st;
		break;
	case OPT_ATTACH:
		if (!strcmp(arg, "auto"))
			cfg->attach = ATTACH_AUTO;
		else if (!strcmp(arg, "tp_btf"))
			cfg->attach = ATTACH_TP_BTF;
		else if (!strcmp(arg, "tracepoint"))
			cfg->attach = ATTACH_TRACEPOINT;
		else
			FAIL(ps, "bad --attach '%s': auto, tp_btf or tracepoint", arg);
		break;
	case OPT_BTF:
		if (!*arg)
			FAIL(ps, "empty --btf path");
		cfg->btf_path = arg;
		break;
	case OPT_RINGBUF:
		if (parse_size(arg, &v) || v < (64 << 10) || v > (1ULL << 30) || (v & (v - 1)))
			FAIL(ps, "bad --ringbuf-size '%s': a power of two from 64K to 1G", arg);
		cfg->ringbuf_bytes = v;
		break;
	case 'r':
		if (!*arg)
			FAIL(ps, "empty --replay path");
		cfg->replay = arg;
		break;
	case 'w':
		if (!*arg)
			FAIL(ps, "empty --write path");
		cfg->write_path = arg;
		break;
	case OPT_MIN_DURATION:
		err = duration_parse(arg, &cfg->min_duration_ns);
		if (err)
			FAIL(ps, "bad --min-duration '%s': expected a duration (250ms, 3s, 5m, 1h)", arg);
		break;
	case OPT_MAX_CONNS:
		if (parse_u64(arg, &v) || !v || v > (1u << 28))
			FAIL(ps, "bad --max-conns '%s': 1 to %u", arg, 1u << 28);
		cfg->max_conns = v;
		break;
	case 'i':
		err = duration_parse(arg, &cfg->interval_ns);
		if (err || cfg->interval_ns < 1000000)
			FAIL(ps, "bad --interval '%s': a duration of at least 1ms (500ms, 5s, 1m)", arg);
		break;
	case OPT_CUMULATIVE:
		cfg->cumulative = true;
		break;
	case OPT_BY:
		st = hist_by_parse(arg);
		if (st < 0)
			FAIL(ps, "bad --by '%s': lport, rport, comm or cgroup", arg);
		cfg->by = st;
		break;
	case OPT_BY_LIMIT:
		if (parse_u64(arg, &v) || !v || v > 65536)
			FAIL(ps, "bad --by-limit '%s': 1 to 65536", arg);
		cfg->by_limit = v;
		break;
	case OPT_ALERT:
		if (!cfg->alerts_given) {
			/* explicit thresholds replace the defaults */
			uint32_t rate = cfg->alerts.rate;

			memset(cfg->alerts.threshold_ns, 0, sizeof(cfg->alerts.threshold_ns));
			cfg->alerts.rate = rate;
			cfg->alerts_given = true;
		}
		if (alert_cfg_parse(&cfg->alerts, arg, ps->err, ps->errlen))
			return EINVAL;
		break;
	case OPT_SYSLOG:
		cfg->syslog = true;
		break;
	case OPT_ALERT_EXEC:
		if (!*arg || strspn(arg, " \t") == strlen(arg))
			FAIL(ps, "empty --alert-exec command");
		cfg->alert_exec = arg;
		break;
	case OPT_ALERT_EXEC_TIMEOUT:
		if (duration_parse(arg, &cfg->alert_exec_timeout_ns) || !cfg->alert_exec_timeout_ns)
			FAIL(ps, "bad --alert-exec-timeout '%s': a positive duration", arg);
		break;
	case OPT_ALERT_EXEC_USER:
		if (runas_parse(arg, &cfg->alert_exec_user, ps->err, ps->errlen))
			return EINVAL;
		break;
	case OPT_SWEEP:
		if (duration_parse(arg, &cfg->sweep_ns) || cfg->sweep_ns < 10000000)
			FAIL(ps, "bad --sweep '%s': a duration of at least 10ms", arg);
		break;
	case OPT_ALERT_RATE:
		if (parse_u64(arg, &v) || !v || v > 1000000)
			FAIL(ps, "bad --alert-rate '%s': 1 to 1000000", arg);
		cfg->alerts.rate = v;
		break;
	case OPT_BATCH:
		if (cfg->cmd != CMD_TOP)
			FAIL(ps, "--batch is for the top command");
		cfg->batch = true;
		break;
	case OPT_LISTEN:
		if (cli_parse_listen(arg, &cfg->listen, ps->err, ps->errlen))
			return EINVAL;
		if (cfg->cmd != CMD_SERVE)
			FAIL(ps, "--listen, --log and --buckets are for the serve command");
		break;
	case OPT_LOG:
		if (!*arg)
			FAIL(ps, "empty --log path");
		cfg->log_path = arg;
		break;
	case OPT_BUCKETS:
		err = prom_parse_buckets(arg, cfg->buckets_ns, PROM_MAX_BUCKETS, ps->err, ps->errlen);
		if (err < 0)
			return EINVAL;
		cfg->nbuckets = err;
		break;
	case ARGP_KEY_END:
		if (cfg->cmd != CMD_WATCH && cfg->cmd != CMD_SERVE && cfg->cmd != CMD_TOP &&
		    (cfg->alerts_given || cfg->syslog || cfg->alert_exec || cfg->alert_exec_user.set))
			FAIL(ps, "--alert, --syslog, --alert-exec and --alert-exec-user are for watch, "
				 "serve and top");
		if (cfg->alert_exec_user.set && !cfg->alert_exec)
			FAIL(ps, "--alert-exec-user goes with --alert-exec CMD");
		if ((cfg->cmd == CMD_SERVE || cfg->cmd == CMD_TOP) && cfg->replay)
			FAIL(ps, "%s reads the kernel, not -r FILE",
			     cfg->cmd == CMD_TOP ? "top" : "serve");
		if (cfg->cmd != CMD_SERVE && (cfg->log_path || cfg->nbuckets))
			FAIL(ps, "--listen, --log and --buckets are for the serve command");
		if (cfg->cmd == CMD_SERVE && cfg->replay)
			FAIL(ps, "serve reads the kernel, not -r FILE");
		if (cfg->cmd != CMD_HIST && (cfg->cumulative || cfg->by))
			FAIL(ps, "--cumulative and --by are for the hist command");
		if (cfg->cmd != CMD_HIST && cfg->cmd != CMD_TOP && cfg->interval_ns)
			FAIL(ps, "-i is for the hist and top commands");
		if (cfg->cumulative && !cfg->interval_ns)
			FAIL(ps, "--cumulative goes with -i INTERVAL");
		if (cfg->cmd == CMD_RECORD && !cfg->write_path)
			FAIL(ps, "record needs -w FILE");
		if (cfg->cmd != CMD_RECORD && cfg->write_path)
			FAIL(ps, "-w/--write is for the record command");
		if (cfg->cmd == CMD_RECORD && cfg->replay)
			FAIL(ps, "record reads the kernel, not -r FILE");
		/* alerts and gauges need only sockets that stay in one state
		 * a while; a --log of every connection needs them all */
		cfg->lazy = cfg->cmd == CMD_WATCH || (cfg->cmd == CMD_SERVE && !cfg->log_path);
		if (cfg->cmd != CMD_HISTORY && cfg->min_duration_ns)
			FAIL(ps, "--min-duration is for the history command");
		break;
	case ARGP_KEY_ARG:
		FAIL(ps, "unexpected argument '%s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct {
	const char *name;
	enum tcpfsm_cmd cmd;
} commands[] = {
	{ "trace", CMD_TRACE },
	{ "history", CMD_HISTORY },
	{ "record", CMD_RECORD },
	{ "hist", CMD_HIST },
	{ "watch", CMD_WATCH },
	{ "serve", CMD_SERVE },
	{ "top", CMD_TOP },
};

int cli_parse(int argc, char **argv, struct tcpfsm_config *cfg, unsigned int argp_flags, char *err,
	      size_t errlen)
{
	struct argp argp = { options, parse_opt, "[COMMAND] [OPTION...]", doc };
	struct parse_state ps = { cfg, err, errlen };
	int first = 0;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ringbuf_bytes = 16 << 20;
	cfg->max_conns = 262144;
	cfg->by_limit = 256;
	alert_cfg_defaults(&cfg->alerts);
	cfg->alert_exec_timeout_ns = 10000000000ULL;
	cfg->sweep_ns = 1000000000ULL;
	cli_parse_listen(TCPFSM_DEFAULT_LISTEN, &cfg->listen, err, errlen);
	cfg->nbuckets = 0; /* 0: the default set */
	if (errlen)
		err[0] = 0;

	if (argc > 1 && argv[1][0] != '-') {
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[1], commands[i].name))
				break;
		if (i == sizeof(commands) / sizeof(commands[0])) {
			snprintf(err, errlen, "unknown command '%s' (commands: trace, history, record, hist, watch, serve, top)", argv[1]);
			return -EINVAL;
		}
		cfg->cmd = commands[i].cmd;
		first = 1;
	}
	/* argp sees argv[first] as the program name: "tcpfsm history" */
	char **args = calloc(argc + 1, sizeof(*args)), name[64];
	int ret = 0;

	if (!args) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}

	snprintf(name, sizeof(name), "tcpfsm%s%s", first ? " " : "", first ? argv[1] : "");
	args[0] = name;
	for (int k = first + 1; k < argc; k++)
		args[k - first] = argv[k];
	args[argc - first] = NULL;
	if (argp_parse(&argp, argc - first, args, argp_flags, NULL, &ps)) {
		if (errlen && !err[0])
			snprintf(err, errlen, "bad command line");
		ret = -EINVAL;
	}
	free(args);
	return ret;
}
