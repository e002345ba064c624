// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * output.c - how sluicectl talks to its user: error and usage messages,
 * the shared option parser (so that every command accepts the global
 * options and reports bad options the same way), aligned tables, JSON
 * output, and the progress line shown while a topology comes up.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sluicectl.h"

/* The progress line on the terminal, if any: messages clear it first. */
static struct ctl_progress *active_progress;

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	if (active_progress)
		ctl_progress_end(active_progress);
	fflush(stdout);
	fputs("sluicectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;

	if (active_progress)
		ctl_progress_end(active_progress);
	fflush(stdout);
	fputs("sluicectl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* "Usage: sluicectl <synopsis>", continuation lines of the synopsis
 * aligned under the first. */
void ctl_print_usage(FILE *f, const struct ctl_cmd *cmd)
{
	const char *s, *nl;

	if (!cmd) {
		fputs("Usage: sluicectl [--socket PATH] [--json] [-q] [-v] COMMAND [ARGS...]\n",
		      f);
		return;
	}
	fputs("Usage: sluicectl ", f);
	for (s = cmd->synopsis; (nl = strchr(s, '\n')); s = nl + 1)
		fprintf(f, "%.*s\n       sluicectl ", (int)(nl - s), s);
	fprintf(f, "%s\n", s);
}

int ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (cmd)
		fprintf(stderr, "sluicectl %s: ", cmd->name);
	else
		fputs("sluicectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ctl_print_usage(stderr, cmd);
	if (cmd)
		fprintf(stderr, "Try 'sluicectl %s --help'.\n", cmd->name);
	else
		fputs("Try 'sluicectl --help'.\n", stderr);
	return CTL_EXIT_USAGE;
}

void ctl_print_help(const struct ctl_cmd *cmd)
{
	const char *ex = strstr(cmd->help, "Examples:\n");

	ctl_print_usage(stdout, cmd);
	/* generated help goes in front of the examples, which end the text */
	if (!cmd->help_extra) {
		printf("\n%s", cmd->help);
	} else if (ex) {
		printf("\n%.*s", (int)(ex - cmd->help), cmd->help);
		cmd->help_extra(stdout);
		printf("\n%s", ex);
	} else {
		printf("\n%s\n", cmd->help);
		cmd->help_extra(stdout);
	}
	printf("\nGlobal options (--json, -q, -v, --socket PATH) are accepted too; see\n"
	       "'sluicectl --help' and sluicectl(8).\n");
}

enum {
	OPT_G_JSON = 0x1000,
	OPT_G_SOCKET,
};

#define MAX_LONGOPTS 32

int ctl_getopt(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	       char **argv, const char *shortopts,
	       const struct option *longopts)
{
	static const struct option globals[] = {
		{ "help", no_argument, NULL, CTL_OPT_HELP },
		{ "json", no_argument, NULL, OPT_G_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "socket", required_argument, NULL, OPT_G_SOCKET },
	};
	struct option all[MAX_LONGOPTS];
	char shorts[64];
	const char *bad;
	size_t n = 0, i;
	int o;

	/* '+' (stop at the first operand) must come before ':' */
	snprintf(shorts, sizeof(shorts), "%s:%shqv",
		 shortopts[0] == '+' ? "+" : "",
		 shortopts + (shortopts[0] == '+'));
	for (; longopts && longopts[n].name && n < MAX_LONGOPTS - 6; n++)
		all[n] = longopts[n];
	for (i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
		all[n++] = globals[i];
	memset(&all[n], 0, sizeof(all[n]));

	opterr = 0;
	for (;;) {
		o = getopt_long(argc, argv, shorts, all, NULL);
		switch (o) {
		case 'q':
			ctl->quiet = true;
			continue;
		case 'v':
			ctl->verbose++;
			continue;
		case OPT_G_JSON:
			ctl->json = true;
			continue;
		case OPT_G_SOCKET:
			ctl->socket = optarg;
			continue;
		case '?':
			bad = argv[optind - 1];
			if (!strncmp(bad, "--", 2) || !optopt)
				ctl_usage_error(cmd, "unknown option '%s'", bad);
			else
				ctl_usage_error(cmd, "unknown option '-%c'",
						optopt);
			return CTL_OPT_ERROR;
		case ':':
			ctl_usage_error(cmd, "option '%s' needs an argument",
					argv[optind - 1]);
			return CTL_OPT_ERROR;
		default:
			return o;
		}
	}
}

struct ctl_table {
	unsigned int ncols;
	char **cells; /* row-major, the header first */
	size_t nrows, cap;
};

struct ctl_table *ctl_table_new(unsigned int ncols, const char *const *head)
{
	struct ctl_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	if (ctl_table_add(t, head)) {
		ctl_table_free(t);
		return NULL;
	}
	return t;
}

int ctl_table_add(struct ctl_table *t, const char *const *cells)
{
	unsigned int i;
	char **nc;

	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;

		nc = realloc(t->cells, ncap * t->ncols * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		t->cells = nc;
		t->cap = ncap;
	}
	for (i = 0; i < t->ncols; i++) {
		char *s = strdup(cells[i] && *cells[i] ? cells[i] : "-");

		if (!s) {
			while (i--)
				free(t->cells[t->nrows * t->ncols + i]);
			return -ENOMEM;
		}
		t->cells[t->nrows * t->ncols + i] = s;
	}
	t->nrows++;
	return 0;
}

void ctl_table_print(const struct ctl_table *t, FILE *f)
{
	size_t w[16] = { 0 }, r, len;
	unsigned int c;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols && c < 16; c++) {
			len = strlen(t->cells[r * t->ncols + c]);
			if (len > w[c])
				w[c] = len;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			/* the last column is not padded: no trailing blanks */
			if (c + 1 == t->ncols)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)w[c < 16 ? c : 15],
					s);
		}
	}
}

void ctl_table_free(struct ctl_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void ctl_print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

const char *ctl_fmt_age(int64_t s, char *buf, size_t len)
{
	long long v = s < 0 ? 0 : (long long)s;

	if (v < 60)
		snprintf(buf, len, "%llds", v);
	else if (v < 3600)
		snprintf(buf, len, "%lldm%02llds", v / 60, v % 60);
	else if (v < 86400)
		snprintf(buf, len, "%lldh%02lldm", v / 3600, v % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", v / 86400, v % 86400 / 3600);
	return buf;
}

const char *ctl_jstr(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v ||
	    json_object_is_type(v, json_type_null))
		return dflt;
	return json_object_get_string(v);
}

int64_t ctl_jint(json_object *o, const char *key, int64_t dflt)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return dflt;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return dflt;
	return json_object_get_int64(v);
}

double ctl_jdouble(json_object *o, const char *key, double dflt)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return dflt;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return dflt;
	return json_object_get_double(v);
}

json_object *ctl_jarray(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

bool ctl_topo_name_ok(const char *name, char *why, size_t len)
{
	size_t i, n = strlen(name);
	/* the rule of topo.h: a letter, then letters, digits, '-' or '_' */
	const size_t max = 23; /* SL_TOPO_NAME_MAX - 1 */

	if (n == 0 || n > max) {
		snprintf(why, len, "expected 1 to %zu characters, got %zu", max,
			 n);
		return false;
	}
	if (!isalpha((unsigned char)name[0])) {
		snprintf(why, len, "expected a letter first, got '%c'",
			 name[0]);
		return false;
	}
	for (i = 1; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!isalnum(ch) && ch != '-' && ch != '_') {
			snprintf(why, len,
				 "expected only letters, digits, '-' and '_', got '%c' at position %zu",
				 ch, i + 1);
			return false;
		}
	}
	return true;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ctl_progress_init(struct ctl_progress *p, const struct ctl *ctl)
{
	memset(p, 0, sizeof(*p));
	if (ctl->quiet)
		return;
	p->tty = isatty(STDERR_FILENO);
	p->lines = !p->tty && ctl->verbose > 0;
	if (p->tty)
		active_progress = p;
}

void ctl_progress_cb(json_object *progress, void *arg)
{
	struct ctl_progress *p = arg;
	const char *phase = ctl_jstr(progress, "phase", "working");
	int64_t done = ctl_jint(progress, "done", -1);
	int64_t total = ctl_jint(progress, "total", -1);
	char count[64] = "";
	int64_t now;

	if (!p->tty && !p->lines)
		return;
	if (done >= 0 && total >= 0)
		snprintf(count, sizeof(count), " %lld/%lld", (long long)done,
			 (long long)total);
	else if (done >= 0)
		snprintf(count, sizeof(count), " %lld", (long long)done);
	if (p->lines) {
		fprintf(stderr, "[%s]%s\n", phase, count);
		return;
	}
	/* a terminal needs no more than ~10 redraws a second */
	now = now_ms();
	if (p->shown && now - p->last_ms < 100 && done != total)
		return;
	p->last_ms = now;
	fprintf(stderr, "\r[%s]%s\033[K", phase, count);
	fflush(stderr);
	p->shown = true;
}

void ctl_progress_end(struct ctl_progress *p)
{
	if (active_progress == p)
		active_progress = NULL;
	if (p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->shown = false;
	}
}
