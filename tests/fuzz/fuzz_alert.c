// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: an alert from arbitrary bytes through the exec environment,
 * the diagnosis and both formatters; the JSON must stay one valid line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pure/alert.h"
#include "pure/diagnosis.h"
#include "sys/alertexec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fmt_opts o = { 0 };
	static char buf[8192], json[4096];
	char *envp[32];
	struct alert a;

	if (size < sizeof(a))
		return 0;
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
	format_alert_text(buf, sizeof(buf), &a, &o);
	if (format_alert_json(json, sizeof(json), &a, &o) < (int)sizeof(json)) {
		/* exactly one line */
		char *nl = strchr(json, '\n');

		if (!nl || nl[1])
			abort();
	}
	return 0;
}
