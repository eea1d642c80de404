// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * udpflood: send small UDP datagrams to ADDR:PORT as fast as one thread can
 * (sendmmsg, 64 at a time) for -d seconds, for make bench's drop case (a
 * host dropping a flood of non-TCP packets: what the drop tracker costs).
 *
 *   udpflood [-d SECONDS] ADDR PORT
 *
 * Prints "udpflood: sent=N secs=S rate=R/s" at the end.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	char payload[32] = "tcpfsm bench: dropped on purpose";
	unsigned long sent = 0;
	double secs = 4, t0, t;
	int opt, fd;

	while ((opt = getopt(argc, argv, "d:")) != -1) {
		if (opt != 'd') {
			fprintf(stderr, "usage: udpflood [-d SECONDS] ADDR PORT\n");
			return 2;
		}
		secs = atof(optarg);
	}
	if (argc - optind != 2 || inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: udpflood [-d SECONDS] ADDR PORT\n");
		return 2;
	}
	to.sin_port = htons(atoi(argv[optind + 1]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to))) {
		perror("udpflood: socket");
		return 1;
	}
	iov.iov_base = payload;
	iov.iov_len = sizeof(payload);
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now();
	do {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += n;
		t = now();
	} while (t - t0 < secs);
	printf("udpflood: sent=%lu secs=%.3f rate=%.0f/s\n", sent, t - t0, sent / (t - t0));
	return 0;
}
