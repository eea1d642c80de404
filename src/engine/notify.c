// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <syslog.h>
#include "engine/notify.h"
#include "sys/alertexec.h"
#include "sys/clock.h"
#include "sys/log.h"
#include "sys/privs.h"

struct notify {
	const struct tcpfsm_config *cfg;
	struct output *out;
	struct fmt_opts fmt;
	struct alert_exec *exec;
	bool syslog;
};

struct notify *notify__new(const struct tcpfsm_config *cfg, struct output *out)
{
	struct notify *n;

	/* hooks switch users with these: fail now, not at the first alert */
	if (cfg->alert_exec_user.set &&
	    !privs_permitted(PRIV_BIT(PRIV_SETUID) | PRIV_BIT(PRIV_SETGID))) {
		pr_err("--alert-exec-user needs CAP_SETUID and CAP_SETGID: run as root or grant them");
		errno = EPERM;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pr_err("out of memory");
		return NULL;
	}
	n->cfg = cfg;
	n->out = out;
	if (cfg->alert_exec) {
		n->exec = alert_exec__new(cfg->alert_exec, cfg->alert_exec_timeout_ns);
		if (!n->exec) {
			pr_err("bad --alert-exec '%s'", cfg->alert_exec);
			free(n);
			errno = EINVAL;
			return NULL;
		}
		alert_exec__run_as(n->exec, &cfg->alert_exec_user);
	}
	if (cfg->syslog) {
		openlog("tcpfsm", LOG_PID, LOG_DAEMON);
		n->syslog = true;
	}
	return n;
}

void notify__set_clock(struct notify *n, int64_t boot_to_real_ns)
{
	n->fmt.boot_to_real_ns = boot_to_real_ns;
}

int notify__alert(struct notify *n, const struct alert *a)
{
	char text[1024], json[FORMAT_ALERT_MAX];
	int tn = 0, jn = 0, err = 0;

	if (n->syslog || (n->out && !n->cfg->json))
		tn = format_alert_text(text, sizeof(text), a, &n->fmt);
	if (n->exec || (n->out && n->cfg->json))
		jn = format_alert_json(json, sizeof(json), a, &n->fmt);
	if (n->out) {
		const char *line = n->cfg->json ? json : text;
		int len = n->cfg->json ? jn : tn, cap = n->cfg->json ? sizeof(json) : sizeof(text);

		/* a line that did not fit is cut, never dropped */
		err = output_write(n->out, line, len < cap ? len : cap - 1);
	}
	/* without the time: syslog has its own */
	if (n->syslog)
		syslog(a->status == ALERT_FIRING ? LOG_WARNING : LOG_NOTICE, "%s", text + 9);
	/* a hook gets whole JSON only */
	if (n->exec && jn < (int)sizeof(json))
		alert_exec__submit(n->exec, a, json, jn, clock_boot_ns());
	return err;
}

void notify__tick(struct notify *n, uint64_t now_ns)
{
	if (n->exec)
		alert_exec__tick(n->exec, now_ns);
}

void notify__free(struct notify *n)
{
	if (!n)
		return;
	if (n->exec) {
		const struct alert_exec_stats *xs;

		alert_exec__tick(n->exec, clock_boot_ns());
		xs = alert_exec__stats(n->exec);
		if (xs->started || xs->dropped)
			pr_info("--alert-exec: %llu run, %llu failed, %llu timed out, %llu dropped",
				(unsigned long long)xs->started, (unsigned long long)xs->failed,
				(unsigned long long)xs->timed_out, (unsigned long long)xs->dropped);
		alert_exec__free(n->exec);
	}
	if (n->syslog)
		closelog();
	free(n);
}
