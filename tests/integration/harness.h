/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Integration test harness: a fresh network namespace per test, the real
 * tcpfsm binary filtered to it, and its JSON lines parsed back.
 */
#ifndef TCPFSM_HARNESS_H
#define TCPFSM_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <json-c/json.h>

/* Move the calling process into a new network namespace with lo up. */
int netns_enter_new(uint32_t *inode);

/* Path of the tcpfsm binary under test ($TCPFSM, else build/tcpfsm). */
const char *tcpfsm_path(void);

struct tracer {
	pid_t pid;
	char out_path[64], err_path[64];
	json_object **events;	/* parsed stdout lines, after tracer_stop */
	size_t n_events;
	char *err_text;		/* its stderr, after tracer_stop */
	bool raw;		/* set before tracer_stop: keep stdout as text */
	bool quiet;		/* started by tracer_start_quiet: no stdout kept */
	char *out_text;		/* its stdout when raw, after tracer_stop */
};

/*
 * Start `tcpfsm trace --json --netns INODE [extra...]` (extra ends with
 * NULL) and wait until it says it is tracing. Returns 0 or -errno.
 */
int tracer_start(struct tracer *t, uint32_t netns, const char *const *extra);
/* The same for any command: `tcpfsm CMD --json --netns INODE [extra...]`
 * (no --json for record and top). */
int tracer_start_cmd(struct tracer *t, const char *cmd, uint32_t netns, const char *const *extra);
/* The same with its stdout thrown away (a storm's millions of lines): only
 * its stderr is kept; n_events stays 0. */
int tracer_start_quiet(struct tracer *t, const char *cmd, uint32_t netns, const char *const *extra);
/* Wait until its stdout contains needle (it flushes every 50 ms): 0, or
 * -ETIMEDOUT after timeout_ms. */
int tracer_wait_output(struct tracer *t, const char *needle, unsigned int timeout_ms);
/* SIGINT it, wait, parse its output. Returns its exit status or -errno. */
int tracer_stop(struct tracer *t);
void tracer_free(struct tracer *t);

/* Run a command, capture stdout+stderr (up to len), return exit status. */
int run_capture(char *const argv[], char *out, size_t len, uid_t as_uid);

/* Field access on an event object. */
const char *ev_str(json_object *ev, const char *key); /* NULL if null/missing */
int64_t ev_int(json_object *ev, const char *key);     /* -1 if null/missing */
bool ev_is_null(json_object *ev, const char *key);

/*
 * The events of one socket in order: those with this cookie. Returns count
 * (at most max).
 */
size_t events_of(const struct tracer *t, uint64_t cookie, json_object **out, size_t max);
/* Cookie of the first event with old->new (old NULL: any), 0 if none. */
uint64_t find_cookie(const struct tracer *t, const char *old, const char *new);
/* "CLOSE>SYN_SENT>ESTABLISHED>...": the first old state then every new one. */
void path_of(json_object **evs, size_t n, char *buf, size_t len);
/* Number of distinct cookies among the events. */
size_t distinct_cookies(const struct tracer *t);

/*
 * Loopback TCP, IPv4 (127.0.0.1) or IPv6 (::1); each fails the running test
 * on error. lo_addr fills ss and returns its length; lo_listen listens on a
 * port the kernel picks (*port, unless NULL).
 */
socklen_t lo_addr(int family, uint16_t port, struct sockaddr_storage *ss);
int lo_listen(int family, uint16_t *port);
int lo_connect(int family, uint16_t port);
uint16_t local_port(int fd);
/* A CLOSE_WAIT leak (IPv4): a new listener (*lfd, its port in *port unless
 * NULL) and a connection to it that its client closed at once. Returns the
 * server's end, never closed: in CLOSE_WAIT. */
int lo_close_wait(int *lfd, uint16_t *port);
/* n IPv4 connections to a new listener, each ESTABLISHED at least sleep_ms
 * on both ends, the client closing first; then the listener closed and
 * 100 ms for the last ACKs. Returns the listener's port. */
uint16_t lo_connections(int n, unsigned int sleep_ms);

void msleep(unsigned int ms);
/* Kill pid at exit unless untracked (on false) before. */
void harness_track(pid_t pid, bool on);

#endif
