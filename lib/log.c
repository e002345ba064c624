// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * log.c - leveled logging (include/sluice/log.h). When systemd's journal is
 * our stderr, lines carry "<N>" priority prefixes and no timestamp (the
 * journal has its own); otherwise a timestamp and the level name.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/log.h>

static enum sl_log_level max_level = SL_LOG_INFO;
static const char *log_ident = "sluice";
static bool to_journal;

void sl_log_init(const char *ident, enum sl_log_level level)
{
	log_ident = ident;
	max_level = level;
	to_journal = getenv("JOURNAL_STREAM") != NULL;
}

int sl_log_level_parse(const char *name)
{
	if (!strcmp(name, "error"))
		return SL_LOG_ERROR;
	if (!strcmp(name, "warn") || !strcmp(name, "warning"))
		return SL_LOG_WARN;
	if (!strcmp(name, "info"))
		return SL_LOG_INFO;
	if (!strcmp(name, "debug"))
		return SL_LOG_DEBUG;
	return -1;
}

static const char *level_name(enum sl_log_level l)
{
	switch (l) {
	case SL_LOG_ERROR: return "error";
	case SL_LOG_WARN: return "warning";
	case SL_LOG_INFO: return "info";
	default: return "debug";
	}
}

void sl_log(enum sl_log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (to_journal) {
		fprintf(stderr, "<%d>%s\n", level, line);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%F %T", &tm);
		fprintf(stderr, "%s.%03ld %s[%s]: %s\n", when,
			ts.tv_nsec / 1000000, log_ident, level_name(level),
			line);
	}
	fflush(stderr);
}
