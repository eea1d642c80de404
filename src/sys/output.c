// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include "sys/log.h"
#include "sys/output.h"

static char outbuf[1 << 16];

void output_init(struct output *o)
{
	o->dirty = false;
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
}

int output_write(struct output *o, const char *buf, size_t n)
{
	if (fwrite(buf, 1, n, stdout) != n)
		return -EPIPE;
	o->dirty = true;
	return 0;
}

int output_flush(struct output *o)
{
	if (!o->dirty)
		return 0;
	o->dirty = false;
	if (fflush(stdout) || ferror(stdout))
		return -EPIPE;
	return 0;
}
