// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * storm: a loopback TCP connection storm that counts its own connections, so
 * the number of state transitions a tracer should see is known.
 *
 *   storm [-t THREADS] [-d SECONDS] [-p PORT] [-m closed|rst]
 *
 * closed: each client thread connects, sends a byte, waits for the echo and
 *         closes, in a closed loop; the server echoes, waits for EOF, closes.
 *         10 transitions per connection (5 per socket).
 * rst:    as closed, but the client closes with SO_LINGER 0 (RST).
 * Prints "storm: conns=N secs=S rate=R/s failed=F port=P" at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static atomic_bool stop;
static atomic_ulong conns, failed;
static int listen_fd;
static uint16_t port;
static bool rst_mode;

static void *server(void *arg)
{
	char c;

	while (!atomic_load(&stop)) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			continue;
		if (recv(fd, &c, 1, 0) == 1 && send(fd, &c, 1, MSG_NOSIGNAL) == 1)
			while (recv(fd, &c, 1, 0) > 0)
				;
		close(fd);
	}
	return NULL;
}

static void *client(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger lg = { 1, 0 };
	char c = 'x';

	while (!atomic_load(&stop)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
		    send(fd, &c, 1, MSG_NOSIGNAL) != 1 || recv(fd, &c, 1, 0) != 1) {
			atomic_fetch_add(&failed, 1);
		} else {
			if (rst_mode)
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			atomic_fetch_add(&conns, 1);
		}
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int threads = 2, opt, one = 1;
	double secs = 5;
	pthread_t th[128];
	struct timespec t0, t1;

	while ((opt = getopt(argc, argv, "t:d:p:m:")) != -1) {
		switch (opt) {
		case 't': threads = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'm':
			if (!strcmp(optarg, "rst"))
				rst_mode = true;
			else if (strcmp(optarg, "closed"))
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (threads < 1 || threads > 64 || secs <= 0)
		goto usage;
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_port = htons(port);
	if (bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) || listen(listen_fd, 4096) ||
	    getsockname(listen_fd, (struct sockaddr *)&a, &alen)) {
		perror("storm: listen");
		return 1;
	}
	port = ntohs(a.sin_port);
	/* the server side needs at least as many threads as clients */
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, server, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < threads; i++)
		pthread_create(&th[threads + i], NULL, client, NULL);
	usleep(secs * 1e6);
	atomic_store(&stop, true);
	for (int i = 0; i < threads; i++)
		pthread_join(th[threads + i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* wake the servers blocked in accept */
	shutdown(listen_fd, SHUT_RDWR);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	close(listen_fd);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("storm: conns=%lu secs=%.3f rate=%.0f/s failed=%lu port=%u\n",
	       atomic_load(&conns), secs, atomic_load(&conns) / secs, atomic_load(&failed), port);
	return 0;
usage:
	fprintf(stderr, "usage: storm [-t THREADS] [-d SECONDS] [-p PORT] [-m closed|rst]\n");
	return 2;
}
