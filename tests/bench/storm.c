// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * storm: a loopback TCP connection storm that counts its own connections, so
 * the number of state transitions a tracer should see is known.
 *
 *   storm [-t THREADS] [-d SECONDS] [-p PORT] [-m closed|rst|hold|pingpong] [-r RATE] [-n N]
 *
 * closed: each client thread connects, sends a byte, waits for the echo and
 *         the server's close, closes, in a closed loop; the server echoes and
 *         closes first (its side keeps the TIME_WAIT). 10 transitions per
 *         connection (5 per socket).
 * rst:    as closed, but the client closes with SO_LINGER 0 (RST).
 * -r RATE: open loop: the clients together start RATE connections a second
 *         on a fixed schedule (not waiting for the previous ones' pace).
 * hold:   open N connections (-n, spread over 4 listening ports), print
 *         "storm: holding N", keep them open for -d seconds, close them.
 * pingpong: -t client/server pairs (default 2) on persistent connections,
 *         each client sending 1 byte and waiting for its echo, for -d
 *         seconds: request/response traffic without one state change once
 *         the connections are up. Prints "storm: pingpong ready" once they
 *         are, then "storm: pingpong pairs=N exchanges=N secs=S rate=R/s".
 * Prints "storm: conns=N secs=S rate=R/s failed=F port=P" at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static atomic_bool stop;	/* clients: no new connections */
static atomic_bool servers_stop; /* servers: clients are done */
static atomic_ulong conns, failed;
static int listen_fd;
static uint16_t port;
static bool rst_mode;
static double rate; /* open loop: connections per second over all clients */
static int nthreads = 2;

static void *server(void *arg)
{
	char c;

	/* serve until every client is done: a client's last connection must
	 * still be answered after stop */
	while (!atomic_load(&servers_stop)) {
		int fd = accept(listen_fd, NULL, NULL);
		struct timeval tmo = { 5, 0 };

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
		/* echo, then close first: the TIME_WAIT lands here, on the
		 * server's port, not on the clients' ephemeral ports (which a
		 * long storm would exhaust, making connect() the bottleneck) */
		if (recv(fd, &c, 1, 0) == 1)
			(void)!send(fd, &c, 1, MSG_NOSIGNAL);
		close(fd);
	}
	return NULL;
}

static void *client(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger lg = { 1, 0 };
	struct timeval tmo = { 5, 0 };
	char c = 'x';

	struct timespec next;
	long gap_ns = rate > 0 ? (long)(1e9 * nthreads / rate) : 0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&stop)) {
		int fd;

		if (gap_ns) {
			/* open loop: the next start time does not depend on us */
			next.tv_nsec += gap_ns;
			while (next.tv_nsec >= 1000000000L) {
				next.tv_nsec -= 1000000000L;
				next.tv_sec++;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
		fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd >= 0) { /* a lost packet must not hang the storm */
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
			/* (connect() waits as long as SO_SNDTIMEO says) */
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
		}
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
		    send(fd, &c, 1, MSG_NOSIGNAL) != 1 || recv(fd, &c, 1, 0) != 1) {
			atomic_fetch_add(&failed, 1);
		} else {
			if (rst_mode)
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			else /* the server's FIN: CLOSE_WAIT, then our close */
				recv(fd, &c, 1, 0);
			atomic_fetch_add(&conns, 1);
		}
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* Hold n connections open over 4 listening ports (ephemeral ports run out
 * at about 28k per destination). */
static int hold(int n, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lfd[4], *fds = calloc(2 * (size_t)n, sizeof(int)), one = 1, got = 0;
	socklen_t alen = sizeof(a);
	uint16_t ports[4];

	if (!fds)
		return 1;
	for (int i = 0; i < 4; i++) {
		lfd[i] = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		a.sin_port = 0;
		if (bind(lfd[i], (struct sockaddr *)&a, sizeof(a)) || listen(lfd[i], 4096) ||
		    getsockname(lfd[i], (struct sockaddr *)&a, &alen)) {
			perror("storm: listen");
			return 1;
		}
		ports[i] = a.sin_port;
	}
	for (int i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);

		a.sin_port = ports[i % 4];
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a))) {
			perror("storm: connect");
			if (c >= 0)
				close(c);
			break;
		}
		fds[2 * i] = c;
		fds[2 * i + 1] = accept(lfd[i % 4], NULL, NULL);
		got++;
	}
	printf("storm: holding %d\n", got);
	fflush(stdout);
	usleep(secs * 1e6);
	for (int i = 0; i < 2 * got; i++)
		close(fds[i]);
	for (int i = 0; i < 4; i++)
		close(lfd[i]);
	free(fds);
	printf("storm: conns=%d secs=%.3f rate=0/s failed=%d port=0\n", got, secs, n - got);
	return 0;
}

static void watchdog(int sig)
{
	static const char msg[] = "storm: watchdog: threads did not finish\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(3);
}

static atomic_ulong exchanges;

/* pingpong: echo every byte until the client closes */
static void *pp_server(void *arg)
{
	int fd = (int)(long)arg;
	char c;

	while (recv(fd, &c, 1, 0) == 1 && send(fd, &c, 1, MSG_NOSIGNAL) == 1)
		;
	close(fd);
	return NULL;
}

static void *pp_client(void *arg)
{
	int fd = (int)(long)arg;
	unsigned long n = 0;
	char c = 'x';

	while (!atomic_load(&stop) && send(fd, &c, 1, MSG_NOSIGNAL) == 1 && recv(fd, &c, 1, 0) == 1)
		n++;
	atomic_fetch_add(&exchanges, n);
	return NULL;
}

/* Connect pairs connections first, then ping-pong on them for secs. */
static int pingpong(int pairs, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	socklen_t alen = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, cfd[64];
	pthread_t th[128];
	struct timespec t0, t1;

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 64) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen)) {
		perror("storm: listen");
		return 1;
	}
	for (int i = 0; i < pairs; i++) {
		int sfd;

		cfd[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (cfd[i] < 0 || connect(cfd[i], (struct sockaddr *)&a, sizeof(a)) ||
		    (sfd = accept(lfd, NULL, NULL)) < 0) {
			perror("storm: connect");
			return 1;
		}
		/* one byte each way, answered at once: nothing to coalesce */
		setsockopt(cfd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_create(&th[pairs + i], NULL, pp_server, (void *)(long)sfd);
	}
	printf("storm: pingpong ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < pairs; i++)
		pthread_create(&th[i], NULL, pp_client, (void *)(long)cfd[i]);
	signal(SIGALRM, watchdog);
	alarm((unsigned int)secs + 20);
	usleep(secs * 1e6);
	atomic_store(&stop, true);
	for (int i = 0; i < pairs; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < pairs; i++) {
		close(cfd[i]);
		pthread_join(th[pairs + i], NULL);
	}
	close(lfd);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("storm: pingpong pairs=%d exchanges=%lu secs=%.3f rate=%.0f/s\n", pairs,
	       atomic_load(&exchanges), secs, atomic_load(&exchanges) / secs);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int threads = 2, opt, one = 1, n = 100000;
	bool hold_mode = false, pingpong_mode = false;
	double secs = 5;
	pthread_t th[128];
	struct timespec t0, t1;

	while ((opt = getopt(argc, argv, "t:d:p:m:r:n:")) != -1) {
		switch (opt) {
		case 't': threads = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'm':
			if (!strcmp(optarg, "hold"))
				hold_mode = true;
			else if (!strcmp(optarg, "pingpong"))
				pingpong_mode = true;
			else if (!strcmp(optarg, "rst"))
				rst_mode = true;
			else if (strcmp(optarg, "closed"))
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (threads < 1 || threads > 64 || secs <= 0 || n < 1)
		goto usage;
	nthreads = threads;
	if (hold_mode)
		return hold(n, secs);
	if (pingpong_mode)
		return pingpong(threads, secs);
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
	/* whatever happens, end: a watchdog well past the run's length */
	signal(SIGALRM, watchdog);
	alarm((unsigned int)secs + 20);
	usleep(secs * 1e6);
	atomic_store(&stop, true);
	for (int i = 0; i < threads; i++)
		pthread_join(th[threads + i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* wake the servers blocked in accept */
	atomic_store(&servers_stop, true);
	shutdown(listen_fd, SHUT_RDWR);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	close(listen_fd);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("storm: conns=%lu secs=%.3f rate=%.0f/s failed=%lu port=%u\n",
	       atomic_load(&conns), secs, atomic_load(&conns) / secs, atomic_load(&failed), port);
	return 0;
usage:
	fprintf(stderr, "usage: storm [-t THREADS] [-d SECONDS] [-p PORT] "
			"[-m closed|rst|hold|pingpong] [-r RATE] [-n N]\n");
	return 2;
}
