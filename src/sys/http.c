// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>
#include "sys/http.h"
#include "sys/log.h"

struct http_server {
	struct MHD_Daemon *d;
	http_handler fn;
	void *ctx;
};

static const char *get_arg(void *req, const char *name)
{
	return MHD_lookup_connection_value(req, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_reply r = { 404, "text/plain; charset=utf-8", NULL, 0, NULL };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	static int first_call;

	/* the first call only announces the request: wait for its body */
	if (!*con_cls) {
		*con_cls = &first_call;
		return MHD_YES;
	}
	/* we take no uploads: drop any body */
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	s->fn(s->ctx, method, url, get_arg, conn, &r);
	if (!r.body) {
		const char *msg = r.status == 404 ? "not found\n" :
				  r.status == 405 ? "method not allowed\n" :
				  r.status == 400 ? "bad request\n" : "error\n";

		r.body = strdup(msg);
		r.len = r.body ? strlen(r.body) : 0;
	}
	resp = MHD_create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(r.body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r.allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r.allow);
	ret = MHD_queue_response(conn, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	if (log_verbose) {
		fprintf(stderr, "tcpfsm: http: ");
		vfprintf(stderr, fmt, ap);
	}
}

/*
 * The listening socket, made here rather than by libmicrohttpd: its
 * MHD_OPTION_LISTENING_ADDRESS_REUSE sets SO_REUSEPORT, with which a
 * second serve on the same port starts and the kernel splits the scrapes
 * between the two. SO_REUSEADDR only lets a restart bind while the old
 * connections linger in TIME_WAIT; a port in use stays an error. An IPv6
 * socket takes IPv4 too ([::] is every address of both families), whatever
 * net.ipv6.bindv6only says.
 */
static int listen_socket(const struct sockaddr_storage *addr, char *err, size_t errlen)
{
	bool v6 = addr->ss_family == AF_INET6;
	socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	const void *ip = v6 ? (const void *)&((const struct sockaddr_in6 *)addr)->sin6_addr :
			      (const void *)&((const struct sockaddr_in *)addr)->sin_addr;
	unsigned int port = ntohs(v6 ? ((const struct sockaddr_in6 *)addr)->sin6_port :
				       ((const struct sockaddr_in *)addr)->sin_port);
	char host[INET6_ADDRSTRLEN] = "?";
	int fd, on = 1, off = 0, e;
	const char *why;

	inet_ntop(addr->ss_family, ip, host, sizeof(host));
	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off))) ||
	    bind(fd, (const struct sockaddr *)addr, len) || listen(fd, 64)) {
		e = errno;
		goto fail;
	}
	return fd;
fail:
	why = e == EADDRINUSE ? "address in use (another tcpfsm serve?)" :
	      e == EADDRNOTAVAIL ? "address not available (not one of this host's)" :
				  strerror(e);
	snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", v6 ? "[" : "", host, v6 ? "]" : "",
		 port, why);
	if (fd >= 0)
		close(fd);
	return -e;
}

struct http_server *http_server__new(const struct sockaddr_storage *addr, http_handler fn,
				     void *ctx, char *err, size_t errlen)
{
	struct http_server *s = calloc(1, sizeof(*s));
	const union MHD_DaemonInfo *info;
	int fd;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->fn = fn;
	s->ctx = ctx;
	fd = listen_socket(addr, err, errlen);
	if (fd < 0) {
		free(s);
		return NULL;
	}
	s->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)16,
				/* request line and headers must fit: 16 KiB */
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "libmicrohttpd refused to start (%s)",
			 errno ? strerror(errno) : "no reason given");
		/* once started it owns the socket; whether a failed start
		 * closed it depends on where it failed */
		if (fcntl(fd, F_GETFD) != -1)
			close(fd);
		free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		snprintf(err, errlen, "libmicrohttpd has no epoll fd");
		MHD_stop_daemon(s->d);
		free(s);
		return NULL;
	}
	return s;
}

int http_server__fd(const struct http_server *s)
{
	return MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
}

void http_server__run(struct http_server *s)
{
	MHD_run(s->d);
}

void http_server__free(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
