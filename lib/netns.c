// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netns.c - named network namespaces, the way `ip netns` keeps them: a
 * namespace is kept alive by a bind mount of its nsfs inode on
 * /run/netns/<name>, so `ip netns exec <name>` finds it and the namespace
 * outlives the daemon. Creating one costs ~1 ms here (unshare + mount).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <sluice/netlink.h>

#define NETNS_RUN_DIR "/run/netns"

/* True when dir has no entries but . and .. */
static bool dir_empty(const char *dir)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (empty && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

/*
 * /run/netns must be a shared mount point so that the bind mounts made
 * here appear in the mount namespaces of other processes (as iproute2).
 *
 * Where /run is not a tmpfs (it is on most systems, not on every VM
 * image), every namespace's mount-point file is an inode of a disk
 * filesystem: on ext4, creating them after many were deleted took a
 * quarter of a bring-up's CPU time (find_inode_bit, recently_deleted). An
 * empty /run/netns on such a filesystem gets a tmpfs of its own first,
 * as it would have on a normal /run; one that holds namespaces already is
 * left as it is.
 */
static int netns_dir_ready(struct sl_err *err)
{
	static bool ready;
	struct statfs sf;

	if (ready)
		return 0;
	if (mkdir(NETNS_RUN_DIR, 0755) && errno != EEXIST)
		return sl_err_set(err, errno, "mkdir %s: %s", NETNS_RUN_DIR,
				  strerror(errno));
	if (!statfs(NETNS_RUN_DIR, &sf) && sf.f_type != TMPFS_MAGIC &&
	    dir_empty(NETNS_RUN_DIR) &&
	    mount("tmpfs", NETNS_RUN_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755"))
		(void)0; /* not fatal: the namespaces work on any filesystem */
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL)) {
		if (errno != EINVAL)
			return sl_err_set(err, errno,
					  "make %s a shared mount: %s",
					  NETNS_RUN_DIR, strerror(errno));
		/* Not a mount point yet: bind it onto itself, then retry. */
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC,
			  NULL))
			return sl_err_set(err, errno, "bind mount %s: %s",
					  NETNS_RUN_DIR, strerror(errno));
	}
	ready = true;
	return 0;
}

static void netns_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name);
}

int sl_netns_enter(int fd, int *saved, struct sl_err *err)
{
	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return sl_err_set(err, errno, "open own netns: %s",
				  strerror(errno));
	if (setns(fd, CLONE_NEWNET)) {
		int e = errno;

		close(*saved);
		*saved = -1;
		return sl_err_set(err, e, "enter netns: %s", strerror(e));
	}
	return 0;
}

int sl_netns_leave(int saved)
{
	int ret = 0;

	if (saved < 0)
		return 0;
	if (setns(saved, CLONE_NEWNET))
		ret = -errno;
	close(saved);
	return ret;
}

int sl_netns_add(const char *name, int *fd_out, struct sl_err *err)
{
	char path[256];
	int saved, fd, ret;

	ret = netns_dir_ready(err);
	if (ret)
		return ret;
	netns_path(name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return sl_err_set(err, errno, "create netns %s: %s", name,
				  errno == EEXIST ? "a namespace of that name exists"
						  : strerror(errno));
	close(fd);
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		ret = sl_err_set(err, errno, "open own netns: %s",
				 strerror(errno));
		goto fail_unlink;
	}
	if (unshare(CLONE_NEWNET)) {
		ret = sl_err_set(err, errno, "create netns %s: %s", name,
				 strerror(errno));
		close(saved);
		goto fail_unlink;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL)) {
		ret = sl_err_set(err, errno, "bind netns %s: %s", name,
				 strerror(errno));
		sl_netns_leave(saved);
		goto fail_unlink;
	}
	fd = -1;
	if (fd_out) {
		fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			ret = sl_err_set(err, errno, "open netns %s: %s", name,
					 strerror(errno));
	}
	if (sl_netns_leave(saved) && !ret)
		ret = sl_err_set(err, errno, "return from netns %s: %s", name,
				 strerror(errno));
	if (ret) {
		if (fd >= 0)
			close(fd);
		sl_netns_del(name, NULL);
		return ret;
	}
	if (fd_out)
		*fd_out = fd;
	return 0;
fail_unlink:
	unlink(path);
	return ret;
}

int sl_netns_del(const char *name, struct sl_err *err)
{
	char path[256];

	netns_path(name, path, sizeof(path));
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		return sl_err_set(err, errno, "unmount netns %s: %s", name,
				  strerror(errno));
	if (unlink(path) && errno != ENOENT)
		return sl_err_set(err, errno, "remove netns %s: %s", name,
				  strerror(errno));
	return 0;
}

int sl_netns_open(const char *name, struct sl_err *err)
{
	char path[256];
	int fd;

	netns_path(name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_err_set(err, errno, "open netns %s: %s", name,
				  strerror(errno));
	return fd;
}

bool sl_netns_exists(const char *name)
{
	char path[256];

	netns_path(name, path, sizeof(path));
	return access(path, F_OK) == 0;
}

int sl_sysctl_set(const char *path, const char *value, struct sl_err *err)
{
	char full[256];
	ssize_t n;
	int fd;

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	fd = open(full, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_err_set(err, errno, "sysctl %s: %s", path,
				  strerror(errno));
	n = write(fd, value, strlen(value));
	close(fd);
	if (n < 0)
		return sl_err_set(err, errno, "sysctl %s=%s: %s", path, value,
				  strerror(errno));
	return 0;
}
