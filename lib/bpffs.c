// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bpffs.c - making sure the BPF filesystem is there before anything pins.
 *
 * Kept apart from the fabric because every pinned object (fabric, max-mode
 * maps, XSK maps, libxdp's dispatcher) needs the same mount.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include <sluice/bpffs.h>

int sl_bpffs_check(const char *path, struct sl_err *err)
{
	struct statfs st;

	if (statfs(path, &st) < 0)
		return sl_err_set(err, errno, "%s: %s", path, strerror(errno));
	if ((unsigned long)st.f_type != BPF_FS_MAGIC)
		return sl_err_set(err, EINVAL, "%s: not on a bpf filesystem",
				  path);
	return 0;
}

int sl_bpffs_mkdir(const char *path, int *created, struct sl_err *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	char *s;

	if (created)
		*created = 0;
	if (len == 0 || len >= sizeof(buf))
		return sl_err_set(err, ENAMETOOLONG, "bad pin directory '%s'",
				  path);
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (s = buf + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(buf, 0700) == 0) {
			if (c == '\0' && created)
				*created = 1;
		} else if (errno != EEXIST) {
			return sl_err_set(err, errno, "mkdir %s: %s", buf,
					  strerror(errno));
		}
		if (c == '\0')
			break;
		*s = c;
	}
	return 0;
}

int sl_bpffs_ensure(struct sl_err *err)
{
	int ret;

	if (sl_bpffs_check(SL_BPFFS_ROOT, NULL) != 0) {
		ret = sl_bpffs_mkdir(SL_BPFFS_ROOT, NULL, err);
		if (ret < 0)
			return ret;
		if (mount("bpf", SL_BPFFS_ROOT, "bpf", 0, "mode=0700") < 0)
			return sl_err_set(err, errno, "mount bpffs on %s: %s",
					  SL_BPFFS_ROOT, strerror(errno));
	}
	return sl_bpffs_mkdir(SL_BPFFS_DIR, NULL, err);
}
