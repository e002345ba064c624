/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * err.h - human error messages that travel with a negative errno.
 *
 * The function that knows the context writes the message; callers add
 * where (with sl_err_prefix), not what.
 */
#ifndef SLUICE_ERR_H
#define SLUICE_ERR_H

#include <stddef.h>

#define SL_ERR_MAX 512

struct sl_err {
	char msg[SL_ERR_MAX];
};

/* Sets the message; returns -errnum (errnum given positive) for tail calls:
 *   return sl_err_set(err, EINVAL, "%s: nodes[%u].name: expected ...", ...); */
int sl_err_set(struct sl_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Puts "<prefix>: " in front of the current message. */
void sl_err_prefix(struct sl_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sl_err_clear(struct sl_err *err);

#endif
