// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm top`: the engine (engine/engine.h) shown as a screen (a topview
 * model) every interval, in curses with keys, or as plain text (--batch).
 */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cmd/top.h"
#include "engine/engine.h"
#include "engine/notify.h"
#include "kernel/loader.h"
#include "kernel/source.h"
#include "pure/histogram.h"
#include "pure/topview.h"
#include "sys/clock.h"
#include "sys/log.h"
#include "sys/output.h"
#include <curses.h>

struct top {
	const struct tcpfsm_config *cfg;
	struct engine *engine;
	struct notify *notify;
	struct output out;	/* --batch */
	int64_t boot_to_real_ns;
	struct hist_set hs;	/* the kernel's, read at each refresh */
	bool curses, ascii, quit;
	/* the screen's state, changed by keys */
	bool paused, help, editing;
	enum top_sort sort;
	struct top_filter filter;
	char edit[64];
	size_t edit_len;
	char status[128];
	/* refresh */
	uint64_t next_render, last_render, last_transitions;
	double rate;
};

static const char top_help[] =
	"q quit   p pause   s sort (age, state, pid, comm)   f filter   ? help\n"
	"filter: state=CLOSE_WAIT | port=443 | comm=nginx | empty to clear (Enter, Esc)\n";

static int render(struct top *t, uint64_t now)
{
	static char screen[1 << 18];
	struct loader *ld = engine__loader(t->engine);
	uint64_t stats[TCPFSM_STAT_MAX] = {}, total = 0;
	struct top_input in = {
		.now_ns = now,
		.boot_to_real_ns = t->boot_to_real_ns,
		.tab = engine__conntab(t->engine),
		.alerts = engine__alert_stats(t->engine),
		.sort = t->sort,
		.filter = &t->filter,
		.paused = t->paused,
		.width = 132,
		.ascii = t->ascii,
	};
	int n, rows = 0, cols = 0, err;

	if (!loader__read_hists(ld, &t->hs)) {
		in.hists = &t->hs;
		for (int i = 0; i < TCPFSM_STATE_MAX; i++)
			for (int j = 0; j < TCPFSM_STATE_MAX; j++)
				total += t->hs.transitions[i][j];
	}
	if (t->last_render && now > t->last_render)
		t->rate = (double)(total - t->last_transitions) * 1e9 / (now - t->last_render);
	t->last_transitions = total;
	t->last_render = now;
	in.transitions_per_s = t->rate;
	loader__stats(ld, stats);
	in.lost = source_lost(t->cfg, stats[TCPFSM_STAT_LOST], loader__missed(ld));
	if (t->curses) {
		getmaxyx(stdscr, rows, cols);
		in.width = cols;
		in.height = rows - 1;
	}
	n = top_render(screen, sizeof(screen), &in);
	if (n >= (int)sizeof(screen))
		n = sizeof(screen) - 1;
	if (!t->curses) {
		err = output_write(&t->out, screen, n);
		return err ? err : output_write(&t->out, "\n", 1);
	}
	erase();
	mvaddstr(0, 0, t->help ? top_help : screen);
	if (t->editing)
		mvprintw(rows - 1, 0, "filter: %s", t->edit);
	else
		mvprintw(rows - 1, 0, "%s", t->status[0] ? t->status : "? for help");
	refresh();
	return 0;
}

/* keys: read what is there, never wait */
static int t_keys(void *ctx)
{
	struct top *t = ctx;
	int c;

	while ((c = getch()) != ERR) {
		if (t->editing) {
			if (c == '\n' || c == KEY_ENTER) {
				t->editing = false;
				if (top_filter_parse(&t->filter, t->edit))
					snprintf(t->status, sizeof(t->status), "bad filter '%s'", t->edit);
				else
					snprintf(t->status, sizeof(t->status), "filter: %s",
						 t->edit[0] ? t->edit : "none");
			} else if (c == 27) {
				t->editing = false;
			} else if ((c == KEY_BACKSPACE || c == 127) && t->edit_len) {
				t->edit[--t->edit_len] = 0;
			} else if (c >= 0x20 && c < 0x7f && t->edit_len < sizeof(t->edit) - 1) {
				t->edit[t->edit_len++] = c;
				t->edit[t->edit_len] = 0;
			}
			continue;
		}
		switch (c) {
		case 'q':
			t->quit = true;
			return -EPIPE; /* a quiet end */
		case 'p':
			t->paused = !t->paused;
			break;
		case 's':
			t->sort = (t->sort + 1) % TOP_SORT_MAX;
			snprintf(t->status, sizeof(t->status), "sorted by %s", top_sort_name(t->sort));
			break;
		case 'f':
			t->editing = true;
			t->edit_len = 0;
			t->edit[0] = 0;
			break;
		case '?':
			t->help = !t->help;
			break;
		default:
			break;
		}
	}
	/* show the effect of the key now, not at the next refresh */
	if (!t->paused || t->help || t->editing)
		return render(t, clock_boot_ns());
	return 0;
}

static int t_alert(void *ctx, const struct alert *a)
{
	struct top *t = ctx;

	/* on the screen (ALERT, the count): only syslog and hooks here */
	return notify__alert(t->notify, a);
}

static int t_start(void *ctx, const struct source_info *info)
{
	struct top *t = ctx;

	t->boot_to_real_ns = info->boot_to_real_ns;
	notify__set_clock(t->notify, info->boot_to_real_ns);
	if (t->cfg->batch)
		return 0;
	/*
	 * ncursesw draws multibyte characters (µ) only in the user's
	 * character set, so it must be in effect; only LC_CTYPE, since the
	 * numbers must keep their '.' under any LC_NUMERIC. A terminal that is
	 * not UTF-8 gets "us" for µs.
	 */
	setlocale(LC_CTYPE, "");
	t->ascii = strcmp(nl_langinfo(CODESET), "UTF-8") != 0;
	initscr();
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	t->curses = true;
	return 0;
}

static int t_tick(void *ctx, uint64_t now)
{
	struct top *t = ctx;
	int err = 0;

	notify__tick(t->notify, now);
	if (now >= t->next_render) {
		if (!t->paused)
			err = render(t, now);
		t->next_render = now + (t->cfg->interval_ns ? t->cfg->interval_ns : 1000000000ULL);
	}
	return err ? err : output_flush(&t->out);
}

int cmd_top(const struct tcpfsm_config *cfg)
{
	struct top t = { .cfg = cfg };
	struct engine_ops ops = {
		.ctx = &t,
		.alert = t_alert,
		.start = t_start,
		.tick = t_tick,
		.extra_fd = -1,
	};
	struct source_result res;
	int err, rc = 1;

	if (!cfg->batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		pr_err("top needs a terminal: use --batch for plain text");
		return 2;
	}
	if (!cfg->batch) {
		ops.extra_fd = STDIN_FILENO;
		ops.extra = t_keys;
	}
	output_init(&t.out);
	hist_set_init(&t.hs, TCPFSM_BY_NONE, 0);
	t.notify = notify__new(cfg, NULL);
	if (!t.notify) {
		rc = errno == EINVAL ? 2 : 1;
		goto cleanup;
	}
	t.engine = engine__new(cfg, &ops);
	if (!t.engine) {
		pr_err("out of memory");
		goto cleanup;
	}
	err = engine__run(t.engine, &res);
	if (t.curses)
		endwin(); /* the terminal as it was, before the summary */
	output_flush(&t.out);
	notify__free(t.notify);
	t.notify = NULL;
	/* q is a quiet end but for the summary; stdout gone (--batch | head)
	 * is quiet */
	if (!err || t.quit)
		engine__report(t.engine, &res);
	rc = err && err != -EPIPE ? 1 : 0;
cleanup:
	notify__free(t.notify);
	engine__free(t.engine);
	hist_set_free(&t.hs);
	return rc;
}
