// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tracefile.c - reading the text traces of the trace, delay_trace and
 * loss_trace cells (include/sluice/cellkit.h).
 *
 * A trace is read once, when its cell is made or changed (never on the
 * packet path), into memory. The reader only splits: one record a line,
 * fields separated by blanks or commas, '#' to the end of the line a
 * comment; what the fields mean is the cell's business, and its errors
 * come back with "FILE:LINE: " in front so the user can go to the line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sluice/cellkit.h>

#define MAX_TRACE_BYTES (256u << 20)
#define MAX_FIELDS 8

int sl_trace_ms(const char *s, uint64_t *ns)
{
	uint64_t ms = 0, frac = 0, mul = 100000;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (ms > (UINT64_MAX / SL_NSEC_PER_MSEC - 9) / 10)
			return -EINVAL;
		ms = ms * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') { /* digits past the nanosecond are ignored */
		for (p++; *p >= '0' && *p <= '9'; p++) {
			frac += (uint64_t)(*p - '0') * mul;
			mul /= 10;
		}
	}
	if (*p)
		return -EINVAL;
	*ns = ms * SL_NSEC_PER_MSEC + frac;
	return 0;
}

int sl_trace_read(const char *path, sl_trace_line_fn fn, void *ctx,
		  struct sl_err *err)
{
	char *buf = NULL, *line, *next, *f[MAX_FIELDS], *tok, *save;
	unsigned lineno = 0, n;
	struct stat st;
	FILE *fp;
	size_t len;
	int ret = 0;

	fp = fopen(path, "re");
	if (!fp)
		return sl_err_set(err, errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(fp), &st) || !S_ISREG(st.st_mode)) {
		ret = sl_err_set(err, EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > MAX_TRACE_BYTES) {
		ret = sl_err_set(err, EFBIG, "%s: %lld bytes; a trace may have at most %u",
				 path, (long long)st.st_size, MAX_TRACE_BYTES);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = sl_err_set(err, ENOMEM, "%s: out of memory", path);
		goto out;
	}
	len = fread(buf, 1, (size_t)st.st_size, fp);
	if (ferror(fp)) {
		ret = sl_err_set(err, EIO, "%s: read error", path);
		goto out;
	}
	buf[len] = '\0';
	for (line = buf; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if ((tok = strchr(line, '#')))
			*tok = '\0';
		n = 0;
		for (tok = strtok_r(line, " \t\r,", &save); tok;
		     tok = strtok_r(NULL, " \t\r,", &save)) {
			if (n == MAX_FIELDS) {
				ret = sl_err_set(err, EINVAL,
						 "more than %d fields", MAX_FIELDS);
				break;
			}
			f[n++] = tok;
		}
		if (!ret && n)
			ret = fn(ctx, lineno, f, n, err);
		if (ret) {
			sl_err_prefix(err, "%s:%u", path, lineno);
			break;
		}
	}
out:
	free(buf);
	fclose(fp);
	return ret;
}
