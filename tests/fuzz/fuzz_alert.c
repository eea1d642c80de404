// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer: an alert from arbitrary bytes through the exec environment,
 * the diagnosis and both formatters (the JSON must stay one valid line);
 * then the same bytes as a stream of records (self-transitions, requests,
 * seeds, evidence in any order) through the alert engine and its sweeps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pure/alert.h"
#include "pure/alertengine.h"
#include "pure/diagnosis.h"
#include "sys/alertexec.h"

static void one_alert(const uint8_t *data, size_t size)
{
	struct fmt_opts o = { 0 };
	static char buf[8192], json[4096];
	char *envp[32];
	struct alert a;

	if (size < sizeof(a))
		return;
	memcpy(&a, data, sizeof(a));
	/* fields that only hold a few values in a real alert: bool and enum
	 * loads of other bytes are undefined, not bugs of the code under test */
	a.status = data[0] & 1 ? ALERT_RESOLVED : ALERT_FIRING;
	a.half_open = data[1] & 1;
	a.aggregate = data[2] & 1;
	a.age_at_least = data[3] & 1;
	a.owner = data[4] & 1;
	a.resolution = NULL;
	a.diagnosis[sizeof(a.diagnosis) - 1] = 0;
	if (alert_env_build(&a, buf, sizeof(buf), envp, 32) >= 0) {
		for (int i = 0; envp[i]; i++)
			if (!strchr(envp[i], '='))
				abort();
	}
	alert_diagnose(&a, NULL);
	alert_diagnose_aggregate(&a, data[5]);
	format_alert_text(buf, sizeof(buf), &a, &o);
	if (format_alert_json(json, sizeof(json), &a, &o) < (int)sizeof(json)) {
		/* exactly one line */
		char *nl = strchr(json, '\n');

		if (!nl || nl[1])
			abort();
	}
}

static void check_alert(void *ctx, struct alert *a)
{
	static char json[4096];
	struct fmt_opts o = { 0 };

	if (format_alert_json(json, sizeof(json), a, &o) >= (int)sizeof(json))
		abort();
}

/* records: a small cookie and time space so that sockets meet again */
static void records(const uint8_t *data, size_t size)
{
	struct alert_cfg cfg = { .rate = 2 };
	struct conntab *tab = conntab__new(8);
	struct alert_engine *ae;
	struct tcpfsm_event e;

	for (int s = 1; s < TCPFSM_STATE_MAX; s++)
		cfg.threshold_ns[s] = 1000;
	ae = alert_engine__new(&cfg, check_alert, NULL);
	if (!tab || !ae)
		abort();
	for (; size >= sizeof(e); data += sizeof(e), size -= sizeof(e)) {
		memcpy(&e, data, sizeof(e));
		e.cookie %= 16;
		e.ts_ns %= 100000;
		e.kind %= TCPFSM_KIND_MAX;
		e.oldstate %= TCPFSM_STATE_MAX;
		e.newstate = e.flags & 0x80 ? e.oldstate : e.newstate % TCPFSM_STATE_MAX;
		e.family = e.family & 1 ? TCPFSM_AF_INET6 : TCPFSM_AF_INET;
		alert_engine__apply(ae, tab, &e, NULL, NULL);
		if (e.pid & 1)
			alert_engine__sweep(ae, tab, e.ts_ns + 5000);
		if (e.pid & 2) {
			alert_engine__requests_begin(ae);
			alert_engine__requests_end(ae, e.ts_ns);
		}
	}
	alert_engine__sweep(ae, tab, 1000000);
	alert_engine__free(ae);
	conntab__free(tab);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_alert(data, size);
	records(data, size);
	return 0;
}
