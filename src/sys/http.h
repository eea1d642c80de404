/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_HTTP_H
#define TCPFSM_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * A small HTTP server on libmicrohttpd, driven by our event loop (no thread
 * of its own): its epoll fd goes into the loop, http_server__run() serves
 * what is ready. Bounded against hostile clients: connection count, per-IP
 * count, memory per connection (huge headers are refused), idle timeout.
 */

struct http_reply {
	int status;
	const char *content_type;
	char *body;		/* malloc'd by the handler, freed by us */
	size_t len;
	const char *allow;	/* for 405 */
};

/* path without query; arg(name) returns a query argument or NULL */
typedef void (*http_handler)(void *ctx, const char *method, const char *path,
			     const char *(*arg)(void *req, const char *name), void *req,
			     struct http_reply *r);

struct http_server;

/* Listen on addr (an IPv6 address takes IPv4 too: [::] is both families).
 * NULL with a one-line reason in err: "cannot listen on 127.0.0.1:9867:
 * address in use (another tcpfsm serve?)", ... */
struct http_server *http_server__new(const struct sockaddr_storage *addr, http_handler fn,
				     void *ctx, char *err, size_t errlen);
int http_server__fd(const struct http_server *s);
void http_server__run(struct http_server *s);
void http_server__free(struct http_server *s);

#endif
