// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * argp -> struct tcpfsm_config. Validation only; nothing here needs root.
 *
 * One option table: each option names the commands it applies to. A
 * command's --help shows only its own options (the others are in its argp
 * too, hidden, so that it can say where they do apply: `tcpfsm hist: --alert
 * applies to watch, serve and top`, exit 2).
 */
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "cmd/cli.h"
#include "pure/duration.h"
#include "pure/histogram.h"
#include "pure/prom.h"
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
	OPT_PARTIAL,
	OPT_DROPS,
};

/* the commands an option applies to: a bit per enum tcpfsm_cmd */
#define C(x) (1u << CMD_##x)
#define C_ALL (C(TRACE) | C(HISTORY) | C(RECORD) | C(HIST) | C(WATCH) | C(SERVE) | C(TOP))
#define C_ALERTS (C(WATCH) | C(SERVE) | C(TOP))
/* the commands that read -r FILE */
#define C_REPLAY (C(TRACE) | C(HISTORY) | C(HIST) | C(WATCH))
/* the filters applied in userspace to single events or connections */
#define C_USER_FILTERS (C(TRACE) | C(HISTORY))

/* option flags beyond argp's */
enum {
	OPT_F_LIVE = 1 << 0,	/* about the kernel side: not with -r FILE */
};

enum {
	G_GENERAL = 1,
	G_FILES,
	G_FILTERS,
	G_TABLE,
	G_HIST,
	G_ALERTS,
	G_SERVE,
	G_TOP,
	G_KERNEL,
};

struct cli_option {
	struct argp_option o;
	unsigned int cmds;
	unsigned int flags;
};

/*
 * An option may have several rows for different commands (its help text
 * differs); argp sees the rows that apply, or else one hidden row. Group
 * headers (no name, no key) show when an option of their group does.
 */
static const struct cli_option table[] = {
	{ { NULL, 0, NULL, 0, "General:", G_GENERAL }, C_ALL },
	{ { "json", 'j', NULL, 0, "One JSON object per line", G_GENERAL },
	  C_ALL & ~(C(RECORD) | C(TOP)) },
	{ { "duration", 'd', "DURATION", 0, "Exit after DURATION (e.g. 10, 250ms, 5m)", G_GENERAL },
	  C_ALL, OPT_F_LIVE },
	{ { "verbose", 'v', NULL, 0, "Debug messages, including libbpf's", G_GENERAL }, C_ALL },
	{ { "drops", OPT_DROPS, NULL, 0,
	    "Also the TCP segments the kernel drops: reason, where, segment kind", G_GENERAL },
	  C(TRACE) },

	{ { NULL, 0, NULL, 0, "Recordings:", G_FILES }, C_REPLAY | C(RECORD) },
	{ { "replay", 'r', "FILE", 0,
	    "Read events recorded by `tcpfsm record` (- for stdin) instead of the kernel", G_FILES },
	  C_REPLAY },
	{ { "partial", OPT_PARTIAL, NULL, 0,
	    "With -r: accept a recording cut short (replay what is there, warn, exit 0)", G_FILES },
	  C_REPLAY },
	{ { "write", 'w', "FILE", 0, "The file to write (- for stdout)", G_FILES }, C(RECORD) },

	{ { NULL, 0, NULL, 0, "Filters (repeatable options add to a list):", G_FILTERS }, C_ALL },
	{ { "ipv4", '4', NULL, 0, "IPv4 only (v4-mapped IPv6 counts as IPv4)", G_FILTERS }, C_ALL },
	{ { "ipv6", '6', NULL, 0, "IPv6 only", G_FILTERS }, C_ALL },
	{ { "port", OPT_PORT, "PORT[,PORT]", 0, "Local or remote port", G_FILTERS }, C_ALL },
	{ { "lport", OPT_LPORT, "PORT[,PORT]", 0, "Local port", G_FILTERS }, C_ALL },
	{ { "rport", OPT_RPORT, "PORT[,PORT]", 0, "Remote port", G_FILTERS }, C_ALL },
	{ { "netns", OPT_NETNS, "NAME|PATH|INODE", 0,
	    "Network namespace: an `ip netns` name, a path such as /proc/PID/ns/net, or an inode "
	    "number",
	    G_FILTERS },
	  C_ALL },
	{ { "cgroup", OPT_CGROUP, "PATH|ID", 0,
	    "Owner's cgroup v2 (path under /sys/fs/cgroup or id)", G_FILTERS },
	  C_ALL },
	{ { "pid", OPT_PID, "PID", 0, "Owner process id", G_FILTERS }, C_USER_FILTERS },
	{ { "comm", OPT_COMM, "NAME", 0, "Owner command name (exact, as in /proc/PID/comm)",
	    G_FILTERS },
	  C_USER_FILTERS },
	{ { "state", OPT_STATE, "STATE", 0, "Transitions into or out of STATE", G_FILTERS },
	  C(TRACE) },
	{ { "state", OPT_STATE, "STATE", 0, "Connections whose path went through STATE",
	    G_FILTERS },
	  C(HISTORY) },
	{ { "min-duration", OPT_MIN_DURATION, "DURATION", 0,
	    "Connections that lived at least DURATION", G_FILTERS },
	  C(HISTORY) },

	{ { NULL, 0, NULL, 0, "Connection table:", G_TABLE }, C(HISTORY) | C_ALERTS },
	{ { "max-conns", OPT_MAX_CONNS, "N", 0,
	    "Track at most N connections; the least recently active are evicted, counted and "
	    "reported (default 262144)",
	    G_TABLE },
	  C(HISTORY) | C_ALERTS },

	{ { NULL, 0, NULL, 0, "Histograms:", G_HIST }, C(HIST) },
	{ { "interval", 'i', "DURATION", 0, "Also print each interval's counts every DURATION",
	    G_HIST },
	  C(HIST) },
	{ { "cumulative", OPT_CUMULATIVE, NULL, 0, "With -i: totals so far instead of deltas",
	    G_HIST },
	  C(HIST) },
	{ { "by", OPT_BY, "port|lport|rport|comm|cgroup", 0,
	    "Also one histogram per state and key (port: the service port, the listening "
	    "one for accepted sockets, the remote one for clients)",
	    G_HIST },
	  C(HIST) },
	{ { "by-limit", OPT_BY_LIMIT, "N", 0,
	    "With --by: at most N (state, key) histograms; the rest count under key \"other\" "
	    "(default 256)",
	    G_HIST },
	  C(HIST) },

	{ { NULL, 0, NULL, 0, "Alerts:", G_ALERTS }, C_ALERTS },
	{ { "alert", OPT_ALERT, "STATE=DURATION", 0,
	    "Alert when a connection stays longer in STATE (repeatable; without it: SYN_SENT=3s "
	    "SYN_RECV=3s CLOSE_WAIT=60s LAST_ACK=30s FIN_WAIT1=30s FIN_WAIT2=60s CLOSING=30s)",
	    G_ALERTS },
	  C_ALERTS },
	{ { "sweep", OPT_SWEEP, "DURATION", 0, "How often to check for stuck sockets (default 1s)",
	    G_ALERTS },
	  C_ALERTS },
	{ { "alert-rate", OPT_ALERT_RATE, "N", 0,
	    "At most N alerts a minute per group (state and remote endpoint or owner); the rest "
	    "are summed up (default 10)",
	    G_ALERTS },
	  C_ALERTS },
	{ { "syslog", OPT_SYSLOG, NULL, 0, "Also send alerts to syslog", G_ALERTS }, C_ALERTS },
	{ { "alert-exec", OPT_ALERT_EXEC, "CMD", 0,
	    "Run CMD (no shell) for each alert: JSON on stdin, TCPFSM_* in the environment",
	    G_ALERTS },
	  C_ALERTS },
	{ { "alert-exec-timeout", OPT_ALERT_EXEC_TIMEOUT, "DURATION", 0,
	    "Kill an --alert-exec command after DURATION (default 10s)", G_ALERTS },
	  C_ALERTS },
	{ { "alert-exec-user", OPT_ALERT_EXEC_USER, "USER[:GROUP]", 0,
	    "Run --alert-exec commands as USER (name or id) with its groups, or GROUP, and no "
	    "capabilities (needs CAP_SETUID and CAP_SETGID; default: tcpfsm's own user, with at "
	    "most the capabilities tcpfsm keeps)",
	    G_ALERTS },
	  C_ALERTS },

	{ { NULL, 0, NULL, 0, "Exporter:", G_SERVE }, C(SERVE) },
	{ { "listen", OPT_LISTEN, "ADDR:PORT", 0,
	    "Where to serve HTTP (default " TCPFSM_DEFAULT_LISTEN ", loopback only)", G_SERVE },
	  C(SERVE) },
	{ { "log", OPT_LOG, "FILE", 0,
	    "Append connection histories and alerts as JSON lines (reopened on SIGHUP)", G_SERVE },
	  C(SERVE) },
	{ { "buckets", OPT_BUCKETS, "DURATION[,...]", 0,
	    "Exported histogram bounds (default 16 from 10.24us to 64min, x4 apart)", G_SERVE },
	  C(SERVE) },

	{ { NULL, 0, NULL, 0, "Screen:", G_TOP }, C(TOP) },
	{ { "interval", 'i', "DURATION", 0, "Refresh every DURATION (default 1s)", G_TOP }, C(TOP) },
	{ { "batch", OPT_BATCH, NULL, 0,
	    "Print the screen as plain text every interval (no terminal needed)", G_TOP },
	  C(TOP) },

	{ { NULL, 0, NULL, 0, "Kernel side:", G_KERNEL }, C_ALL },
	{ { "attach", OPT_ATTACH, "auto|tp_btf|tracepoint", 0,
	    "How to attach (default auto: tp_btf, else the classic tracepoint)", G_KERNEL },
	  C_ALL, OPT_F_LIVE },
	{ { "btf", OPT_BTF, "FILE", 0, "Kernel BTF if /sys/kernel/btf/vmlinux is missing",
	    G_KERNEL },
	  C_ALL, OPT_F_LIVE },
	{ { "ringbuf-size", OPT_RINGBUF, "BYTES", 0,
	    "Ring buffer size, power of two, 64K..1G (K/M/G suffix; default 16M)", G_KERNEL },
	  C_ALL, OPT_F_LIVE },
};

#define N_TABLE (sizeof(table) / sizeof(table[0]))

static const struct command {
	const char *name;
	const char *prog;	/* for messages and help */
	enum tcpfsm_cmd cmd;
	const char *doc;	/* before the options, then after them (\v) */
} commands[] = {
	{ "trace", "tcpfsm trace", CMD_TRACE,
	  "One line (or JSON object) per TCP state transition.\n"
	  "\n"
	  "EXAMPLES:\n"
	  "  tcpfsm trace --json -d 10       # JSON lines for 10 seconds\n"
	  "  tcpfsm trace --rport 443 -4     # IPv4 connections to port 443\n"
	  "  tcpfsm trace --state CLOSE_WAIT # transitions into or out of CLOSE_WAIT\n"
	  "  tcpfsm trace --netns blue --comm nginx\n"
	  "  tcpfsm trace -r /tmp/t.tfr      # a recording" },
	{ "history", "tcpfsm history", CMD_HISTORY,
	  "One record per connection when it closes: its whole path, the time in each "
	  "state, why it ended.\n"
	  "\n"
	  "EXAMPLES:\n"
	  "  tcpfsm history --min-duration 1s --state SYN_SENT\n"
	  "  tcpfsm history --state TIME_WAIT --rport 443\n"
	  "  tcpfsm history -r /tmp/t.tfr --json" },
	{ "record", "tcpfsm record", CMD_RECORD,
	  "Write the raw events to a file for `-r FILE` later (trace, history, hist, "
	  "watch). The filters apply while recording.\n"
	  "\n"
	  "EXAMPLES:\n"
	  "  tcpfsm record -w /tmp/t.tfr -d 60; tcpfsm history -r /tmp/t.tfr" },
	{ "hist", "tcpfsm hist", CMD_HIST,
	  "Histograms of the time spent in each state, counted in the kernel.\n"
	  "\n"
	  "EXAMPLES:\n"
	  "  tcpfsm hist -d 10 --port 443\n"
	  "  tcpfsm hist -i 10s --by lport   # per-state histograms every 10 s" },
	{ "watch", "tcpfsm watch", CMD_WATCH,
	  "Alerts while connections are stuck, with a diagnosis.\n"
	  "\n"
	  "EXAMPLES:\n"
	  "  tcpfsm watch --alert SYN_SENT=2s --alert CLOSE_WAIT=5m --syslog\n"
	  "  tcpfsm watch -r /tmp/t.tfr --alert CLOSE_WAIT=2s" },
	{ "serve", "tcpfsm serve", CMD_SERVE,
	  "The Prometheus exporter: /metrics, /connections, /healthz; alerts as watch.\n"
	  "\n"
	  "EXAMPLES:\n"
	  "  tcpfsm serve --listen 127.0.0.1:9867 --log /var/log/tcpfsm.json" },
	{ "top", "tcpfsm top", CMD_TOP,
	  "A live screen: what is stuck, since when, who owns it.\n"
	  "\n"
	  "EXAMPLES:\n"
	  "  tcpfsm top --alert CLOSE_WAIT=10s\n"
	  "  tcpfsm top --batch -i 5s        # plain text every 5 s" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* `tcpfsm --help`: the commands, then trace's options (the default command) */
static const char overview_doc[] =
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
	"`tcpfsm COMMAND --help` lists a command's own options; options may come\n"
	"before or after COMMAND. Without COMMAND: trace, whose options follow.\n"
	"\n"
	"EXAMPLES:\n"
	"  tcpfsm                          # every transition on this host\n"
	"  tcpfsm trace --json -d 10       # JSON lines for 10 seconds\n"
	"  tcpfsm history --min-duration 1s --state SYN_SENT\n"
	"  tcpfsm record -w /tmp/t.tfr -d 60; tcpfsm history -r /tmp/t.tfr\n"
	"  tcpfsm hist -i 10s --by lport   # per-state histograms every 10 s\n"
	"  tcpfsm watch --alert SYN_SENT=2s --alert CLOSE_WAIT=5m --syslog\n"
	"  tcpfsm serve --listen 127.0.0.1:9867 --log /var/log/tcpfsm.json";

/* after every command's options */
static const char after_doc[] =
	"Durations accept ns, us, ms, s (default), m, h, d: 250ms, 3s, 5m, 1h.\n"
	"State names are Linux's (SYN_SENT, CLOSE_WAIT, ...), case-insensitive,\n"
	"or RFC 793's (SYN-RECEIVED, FIN-WAIT-1, CLOSED, ...).\n"
	"Exit status: 0 success, 1 runtime error (privileges, kernel, files),\n"
	"2 bad command line.\n"
	"Needs root, or CAP_BPF and CAP_PERFMON, and a kernel with BTF (not for -r).";

struct parse_state {
	struct tcpfsm_config *cfg;
	const struct command *command; /* NULL: none named (trace) */
	bool given[N_TABLE];	/* by the first row of each key */
	char *err;
	size_t errlen;
};

#define FAIL(ps, ...)                                          \
	do {                                                   \
		snprintf((ps)->err, (ps)->errlen, __VA_ARGS__); \
		return EINVAL;                                 \
	} while (0)

/* The first row of an option key, or -1. */
static int row_of_key(int key)
{
	for (size_t i = 0; i < N_TABLE; i++)
		if (table[i].o.key == key && table[i].o.name)
			return i;
	return -1;
}

/* The commands an option applies to: the union of its rows. */
static unsigned int cmds_of_key(int key)
{
	unsigned int cmds = 0;

	for (size_t i = 0; i < N_TABLE; i++)
		if (table[i].o.key == key && table[i].o.name)
			cmds |= table[i].cmds;
	return cmds;
}

/* "-i/--interval" or "--alert" */
static void option_name(char *buf, size_t len, const struct argp_option *o)
{
	if (o->key > 0 && o->key < 0x80 && isprint(o->key))
		snprintf(buf, len, "-%c/--%s", o->key, o->name);
	else
		snprintf(buf, len, "--%s", o->name);
}

/* "watch, serve and top" */
static void command_list(char *buf, size_t len, unsigned int cmds)
{
	unsigned int n = __builtin_popcount(cmds), k = 0;
	size_t pos = 0;

	buf[0] = 0;
	for (size_t i = 0; i < N_COMMANDS && pos < len; i++) {
		if (!(cmds & (1u << commands[i].cmd)))
			continue;
		k++;
		pos += snprintf(buf + pos, len - pos, "%s%s", k == 1 ? "" : k == n ? " and " : ", ",
				commands[i].name);
	}
}

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

/*
 * A network namespace: an inode number, an `ip netns` name (a word without
 * '/': /run/netns/NAME), or a path to a namespace file. Returns 0, -EINVAL
 * (a malformed number or name), -ENOENT and the like from stat, or
 * -EMEDIUMTYPE (not a network namespace).
 */
static int parse_netns(const char *s, uint32_t *ino)
{
	char path[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	uint64_t v;
	int fd, type;

	if (!parse_u64(s, &v)) {
		if (!v || v > UINT32_MAX)
			return -EINVAL;
		*ino = v;
		return 0;
	}
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return -EINVAL;
	if (strchr(s, '/'))
		snprintf(path, sizeof(path), "%s", s);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", s);
	if (stat(path, &st))
		return -errno;
	/* any file has an inode: only a namespace file's is a namespace */
	if (statfs(path, &sfs))
		return -errno;
	if (sfs.f_type != NSFS_MAGIC)
		return -EMEDIUMTYPE;
	/* nsfs holds every kind of namespace; asking needs read access */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		type = ioctl(fd, NS_GET_NSTYPE);
		close(fd);
		if (type >= 0 && type != CLONE_NEWNET)
			return -EMEDIUMTYPE;
	}
	*ino = st.st_ino;
	return 0;
}

/*
 * States that --state cannot select in a command: it would exit 0 having
 * shown nothing. NULL when it can, else why (one line).
 */
static const char *state_never_matches(enum tcpfsm_cmd cmd, int st)
{
	if (cmd == CMD_TRACE && st == TCPFSM_TIME_WAIT)
		return "--state TIME_WAIT never matches in trace: the kernel reports no "
		       "transition into TIME_WAIT (a closing socket goes FIN_WAIT2 -> CLOSE and a "
		       "timewait socket takes over); `tcpfsm history --state TIME_WAIT` lists the "
		       "connections that ended in it, top and serve count them";
	if (cmd == CMD_TRACE && st == TCPFSM_NEW_SYN_RECV)
		return "--state NEW_SYN_RECV never matches in trace: a half-open request makes "
		       "no transition (its connection appears as LISTEN -> SYN_RECV once the "
		       "handshake completes); watch and top show half-open requests as SYN_RECV";
	if (cmd == CMD_HISTORY && st == TCPFSM_NEW_SYN_RECV)
		return "--state NEW_SYN_RECV never matches in history: a half-open request is "
		       "not a connection yet; --state SYN_RECV selects the connections that went "
		       "through the handshake";
	return NULL;
}

/* Options that go (or do not go) together, once all are known. */
static int check_combinations(struct parse_state *ps)
{
	struct tcpfsm_config *cfg = ps->cfg;
	char name[48];

	for (size_t i = 0; cfg->replay && i < N_TABLE; i++) {
		if (ps->given[i] && (table[i].flags & OPT_F_LIVE)) {
			option_name(name, sizeof(name), &table[i].o);
			FAIL(ps, "%s does not go with -r FILE: a replay reads no kernel and ends with "
				 "its file",
			     name);
		}
	}
	if (cfg->partial && !cfg->replay)
		FAIL(ps, "--partial goes with -r FILE");
	if (cfg->cmd == CMD_RECORD && !cfg->write_path)
		FAIL(ps, "record needs -w FILE");
	if (cfg->alert_exec_user.set && !cfg->alert_exec)
		FAIL(ps, "--alert-exec-user goes with --alert-exec CMD");
	if (ps->given[row_of_key(OPT_ALERT_EXEC_TIMEOUT)] && !cfg->alert_exec)
		FAIL(ps, "--alert-exec-timeout goes with --alert-exec CMD");
	if (cfg->cumulative && !cfg->interval_ns)
		FAIL(ps, "--cumulative goes with -i INTERVAL");
	if (ps->given[row_of_key(OPT_BY_LIMIT)] && !cfg->by)
		FAIL(ps, "--by-limit goes with --by");
	/* alerts and gauges need only sockets that stay in one state a
	 * while; a --log of every connection needs them all */
	cfg->lazy = cfg->cmd == CMD_WATCH || (cfg->cmd == CMD_SERVE && !cfg->log_path);
	/* drops are evidence on connections and alerts: trace asks for them */
	if (cfg->cmd != CMD_TRACE && cfg->cmd != CMD_HIST)
		cfg->drops = true;
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct parse_state *ps = state->input;
	struct tcpfsm_config *cfg = ps->cfg;
	const char *why;
	uint64_t v;
	int err, st, row;

	row = row_of_key(key);
	if (row >= 0) {
		unsigned int cmds = cmds_of_key(key);
		char name[48], where[64];

		if (!(cmds & (1u << cfg->cmd))) {
			option_name(name, sizeof(name), &table[row].o);
			command_list(where, sizeof(where), cmds);
			FAIL(ps, "%s applies to %s%s%s", name, where, ps->command ? "" : ", not to ",
			     ps->command ? "" : "trace (the default command)");
		}
		ps->given[row] = true;
	}

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
			FAIL(ps, "bad netns '%s': expected an `ip netns` name, a path or an inode number",
			     arg);
		if (err == -ENOENT && !strchr(arg, '/'))
			FAIL(ps, "netns '%s': no /run/netns/%s (`ip netns list` shows the names)", arg,
			     arg);
		if (err == -EMEDIUMTYPE)
			FAIL(ps, "netns '%s': not a network namespace (expected an `ip netns` name, a "
				 "path such as /proc/PID/ns/net, or an inode number)",
			     arg);
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
		why = state_never_matches(cfg->cmd, st);
		if (why)
			FAIL(ps, "%s", why);
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
	case OPT_DROPS:
		cfg->drops = true;
		break;
	case OPT_PARTIAL:
		cfg->partial = true;
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
			FAIL(ps, "bad --by '%s': port, lport, rport, comm or cgroup", arg);
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
		cfg->batch = true;
		break;
	case OPT_LISTEN:
		if (cli_parse_listen(arg, &cfg->listen, ps->err, ps->errlen))
			return EINVAL;
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
		return check_combinations(ps);
	case ARGP_KEY_ARG:
		FAIL(ps, "unexpected argument '%s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/*
 * Does the option word w ("-d", "-jd", "--duration", "--dur") take the next
 * word as its argument? As getopt_long reads it: a long name may be
 * abbreviated; in a cluster of short options the first that takes an
 * argument takes the rest of the word, or the next word.
 */
static bool takes_next_word(const char *w)
{
	if (w[1] == '-') {
		const char *name = w + 2;
		size_t len = strcspn(name, "=");
		const struct argp_option *hit = NULL;
		bool ambiguous = false;

		if (name[len] == '=' || !len)
			return false;
		for (size_t i = 0; i < N_TABLE; i++) {
			const struct argp_option *o = &table[i].o;

			if (!o->name || strncmp(o->name, name, len))
				continue;
			if (strlen(o->name) == len) {
				hit = o;
				ambiguous = false;
				break;
			}
			if (hit && hit->key != o->key)
				ambiguous = true;
			hit = o;
		}
		return hit && !ambiguous && hit->arg && !(hit->flags & OPTION_ARG_OPTIONAL);
	}
	for (const char *c = w + 1; *c; c++) {
		int row = row_of_key((unsigned char)*c);

		if (row >= 0 && table[row].o.arg)
			return !c[1];
	}
	return false;
}

/* Does an option of this group apply to the command (its header shows)? */
static bool group_shows(int group, unsigned int bit)
{
	for (size_t i = 0; i < N_TABLE; i++)
		if (table[i].o.name && table[i].o.group == group && (table[i].cmds & bit))
			return true;
	return false;
}

/* The command's argp options: its own, then every other key hidden. */
static void build_options(struct argp_option *out, enum tcpfsm_cmd cmd)
{
	unsigned int bit = 1u << cmd;
	size_t n = 0;

	for (size_t i = 0; i < N_TABLE; i++) {
		const struct argp_option *o = &table[i].o;

		if (!o->name) {
			if (group_shows(o->group, bit))
				out[n++] = *o;
		} else if (table[i].cmds & bit) {
			out[n++] = *o;
		} else if (row_of_key(o->key) == (int)i && !(cmds_of_key(o->key) & bit)) {
			/* parsed only to say where it applies */
			out[n] = *o;
			out[n++].flags |= OPTION_HIDDEN;
		}
	}
	memset(&out[n], 0, sizeof(out[n]));
}

int cli_parse(int argc, char **argv, struct tcpfsm_config *cfg, unsigned int argp_flags, char *err,
	      size_t errlen)
{
	struct argp_option opts[N_TABLE + 1];
	struct parse_state ps = { .cfg = cfg, .err = err, .errlen = errlen };
	struct argp argp = { opts, parse_opt };
	char **args, name[32], doc[1536];
	int at = 0, n = 0, ret = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->prog = "tcpfsm";
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
	/* argp's own usage errors (an unknown option, a missing argument)
	 * exit as ours do */
	argp_err_exit_status = 2;

	/* the command: the first word that is neither an option nor an
	 * option's argument, so that options may come before it */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (argv[i][0] != '-' || !argv[i][1]) {
			at = i;
			break;
		}
		if (takes_next_word(argv[i]))
			i++;
	}
	if (at) {
		for (size_t i = 0; i < N_COMMANDS && !ps.command; i++)
			if (!strcmp(argv[at], commands[i].name))
				ps.command = &commands[i];
		if (!ps.command) {
			snprintf(err, errlen,
				 "unknown command '%s' (commands: trace, history, record, hist, watch, "
				 "serve, top)",
				 argv[at]);
			return -EINVAL;
		}
		cfg->cmd = ps.command->cmd;
		cfg->prog = ps.command->prog;
	}
	build_options(opts, cfg->cmd);
	if (ps.command) {
		argp.args_doc = NULL; /* argp says [OPTION...] */
		snprintf(doc, sizeof(doc), "%s -- %s\v%s", ps.command->prog, ps.command->doc,
			 after_doc);
	} else {
		argp.args_doc = "[COMMAND] [OPTION...]";
		snprintf(doc, sizeof(doc), "%s\v%s", overview_doc, after_doc);
	}
	argp.doc = doc;

	/* argp's argv: "tcpfsm hist" as the program name, without the
	 * command word */
	args = calloc(argc + 1, sizeof(*args));
	if (!args) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "%s", cfg->prog);
	args[n++] = name;
	for (int i = 1; i < argc; i++)
		if (i != at)
			args[n++] = argv[i];
	args[n] = NULL;
	if (argp_parse(&argp, n, args, argp_flags, NULL, &ps)) {
		if (errlen && !err[0])
			snprintf(err, errlen, "bad command line");
		ret = -EINVAL;
	}
	free(args);
	return ret;
}
