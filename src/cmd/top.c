// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `tcpfsm top`'s own part: the screen (a topview model) and the keys. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "sys/log.h"
#include "kernel/source.h"
#include "cmd/wcmd.h"
#include <curses.h>

static const char top_help[] =
	"q quit   p pause   s sort (age, state, pid, comm)   f filter   ? help\n"
	"filter: state=CLOSE_WAIT | port=443 | comm=nginx | empty to clear (Enter, Esc)\n";

void top_render_now(struct wcmd *w, uint64_t now)
{
	static char screen[1 << 18];
	uint64_t stats[TCPFSM_STAT_MAX] = {}, total = 0;
	struct top_input in = {
		.now_ns = now,
		.boot_to_real_ns = w->fmt.boot_to_real_ns,
		.tab = w->tab,
		.alerts = alert_engine__stats(w->ae),
		.sort = w->sort,
		.filter = &w->filter,
		.paused = w->paused,
		.width = 132,
	};
	int n, rows = 0, cols = 0;

	if (!loader__read_hists(w->ld, &w->hs)) {
		in.hists = &w->hs;
		for (int i = 0; i < TCPFSM_STATE_MAX; i++)
			for (int j = 0; j < TCPFSM_STATE_MAX; j++)
				total += w->hs.transitions[i][j];
	}
	if (w->last_render && now > w->last_render)
		w->rate = (double)(total - w->last_transitions) * 1e9 / (now - w->last_render);
	w->last_transitions = total;
	w->last_render = now;
	in.transitions_per_s = w->rate;
	loader__stats(w->ld, stats);
	in.lost = stats[TCPFSM_STAT_LOST] + loader__missed(w->ld);
	if (w->curses) {
		getmaxyx(stdscr, rows, cols);
		in.width = cols;
		in.height = rows - 1;
	}
	n = top_render(screen, sizeof(screen), &in);
	if (n >= (int)sizeof(screen))
		n = sizeof(screen) - 1;
	if (!w->curses) {
		if (!w->err)
			w->err = output_write(&w->out, screen, n);
		if (!w->err)
			w->err = output_write(&w->out, "\n", 1);
		return;
	}
	erase();
	mvaddstr(0, 0, w->help ? top_help : screen);
	if (w->editing)
		mvprintw(rows - 1, 0, "filter: %s", w->edit);
	else
		mvprintw(rows - 1, 0, "%s", w->status[0] ? w->status : "? for help");
	refresh();
}

/* keys: read what is there, never wait */
int top_keys(void *ctx)
{
	struct wcmd *w = ctx;
	int c;

	while ((c = getch()) != ERR) {
		if (w->editing) {
			if (c == '\n' || c == KEY_ENTER) {
				w->editing = false;
				if (top_filter_parse(&w->filter, w->edit))
					snprintf(w->status, sizeof(w->status), "bad filter '%s'", w->edit);
				else
					snprintf(w->status, sizeof(w->status), "filter: %s",
						 w->edit[0] ? w->edit : "none");
			} else if (c == 27) {
				w->editing = false;
			} else if ((c == KEY_BACKSPACE || c == 127) && w->edit_len) {
				w->edit[--w->edit_len] = 0;
			} else if (c >= 0x20 && c < 0x7f && w->edit_len < sizeof(w->edit) - 1) {
				w->edit[w->edit_len++] = c;
				w->edit[w->edit_len] = 0;
			}
			continue;
		}
		switch (c) {
		case 'q':
			return -EPIPE; /* a quiet end */
		case 'p':
			w->paused = !w->paused;
			break;
		case 's':
			w->sort = (w->sort + 1) % TOP_SORT_MAX;
			snprintf(w->status, sizeof(w->status), "sorted by %s", top_sort_name(w->sort));
			break;
		case 'f':
			w->editing = true;
			w->edit_len = 0;
			w->edit[0] = 0;
			break;
		case '?':
			w->help = !w->help;
			break;
		default:
			break;
		}
	}
	/* show the effect of the key now, not at the next refresh */
	if (!w->paused || w->help || w->editing)
		top_render_now(w, clock_ns(CLOCK_BOOTTIME));
	return 0;
}
