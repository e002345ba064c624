/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h - leveled logging for the daemons: to stderr, with syslog priority
 * prefixes ("<3>") when stderr is the journal (systemd sets JOURNAL_STREAM),
 * or to a log file.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

enum sl_log_level {
	SL_LOG_ERROR = 3,
	SL_LOG_WARN = 4,
	SL_LOG_INFO = 6,
	SL_LOG_DEBUG = 7,
};

void sl_log_init(const char *ident, enum sl_log_level level);
/* Returns -1 for an unknown name. */
int sl_log_level_parse(const char *name);
void sl_log(enum sl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...) sl_log(SL_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) sl_log(SL_LOG_WARN, __VA_ARGS__)
#define pr_info(...) sl_log(SL_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) sl_log(SL_LOG_DEBUG, __VA_ARGS__)

#endif
