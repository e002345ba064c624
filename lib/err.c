// SPDX-License-Identifier: GPL-2.0-or-later
/* err.c - the human half of an error: a message buffer filled where the
 * context is known (see include/sluice/err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sluice/err.h>

int sl_err_set(struct sl_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return errnum > 0 ? -errnum : errnum;
}

void sl_err_prefix(struct sl_err *err, const char *fmt, ...)
{
	char old[SL_ERR_MAX];
	va_list ap;
	int n;

	if (!err)
		return;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(err->msg) - 2)
		return;
	memcpy(err->msg + n, ": ", 2);
	n += 2;
	memcpy(err->msg + n, old, sizeof(err->msg) - (size_t)n - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
}

void sl_err_clear(struct sl_err *err)
{
	if (err)
		err->msg[0] = '\0';
}
