// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct http_server *http_server__new(const struct sockaddr_storage *addr, http_handler fn,
				     void *ctx, char *err, size_t errlen)
{
	struct http_server *s = calloc(1, sizeof(*s));
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	if (!s)
		return NULL;
	s->fn = fn;
	s->ctx = ctx;
	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)16,
				/* request line and headers must fit: 16 KiB */
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot listen (%s): is the address in use or not local?",
			 errno ? strerror(errno) : "libmicrohttpd refused");
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
