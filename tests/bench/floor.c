// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * floor: load bpf/floor.bpf.c (a tp_btf counter on inet_sock_set_state, the
 * cheapest possible tracer of TCP transitions) until SIGINT/SIGTERM or for -d
 * SECONDS, then print what it counted and how many runs the kernel skipped.
 *
 *   floor [-d SECONDS] [-n NETNS_INODE]
 *
 * -n counts one network namespace only (diagnostics; the floor itself has no
 * filter). Prints "floor: counting TCP state transitions" once attached and
 * "floor: N transitions, M missed" at the end (stderr). Needs root.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* The sum over CPUs of the counter; 0 on error (reported). */
static unsigned long long counted(const struct floor_bpf *skel)
{
	int ncpus = libbpf_num_possible_cpus();
	unsigned long long *vals, sum = 0;
	__u32 zero = 0;

	if (ncpus <= 0)
		return 0;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.count), &zero, vals))
		fprintf(stderr, "floor: reading the counter: %s\n", strerror(errno));
	for (int i = 0; i < ncpus; i++)
		sum += vals[i];
	free(vals);
	return sum;
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct floor_bpf *skel = NULL;
	unsigned long netns = 0;
	double secs = 0;
	int opt, err = 1;

	while ((opt = getopt(argc, argv, "d:n:")) != -1) {
		switch (opt) {
		case 'd': secs = atof(optarg); break;
		case 'n': netns = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: floor [-d SECONDS] [-n NETNS_INODE]\n");
			return 2;
		}
	}
	libbpf_set_print(silent);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: open: %s\n", strerror(errno));
		goto cleanup;
	}
	skel->rodata->only_netns = netns;
	if (floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: load/attach: %s\n", strerror(errno));
		goto cleanup;
	}
	fprintf(stderr, "floor: counting TCP state transitions (tp_btf), Ctrl-C to end\n");
	/* polled, not pause(): a signal between the check and the wait
	 * would be slept through */
	for (double left = secs; !stop && (secs <= 0 || left > 0); left -= 0.05)
		usleep(50000);
	if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.floor_count), &info, &len))
		fprintf(stderr, "floor: prog info: %s\n", strerror(errno));
	fprintf(stderr, "floor: %llu transitions, %llu missed\n", counted(skel),
		(unsigned long long)info.recursion_misses);
	err = 0;
cleanup:
	floor_bpf__destroy(skel);
	return err;
}
