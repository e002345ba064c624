// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * steer.c - RPS on node-side interfaces, so that the nodes' stack work
 * stays off the dataplane's CPUs (include/sluice/steer.h).
 *
 * rps_cpus lives in sysfs only, and a sysfs mount shows the network
 * namespace of whoever mounted it. The writes run in a thread that leaves
 * the process's mount namespace (unshare(CLONE_NEWNS) unshares the
 * thread's filesystem context with it), makes its mounts private, and for
 * each interface enters its netns and mounts a fresh sysfs on /sys. The
 * thread's mount namespace dies with it, so nothing is left mounted
 * anywhere, and the daemon's other threads never see it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>

#include <sluice/steer.h>

int sl_steer_mask_format(const cpu_set_t *set, char *buf, size_t len)
{
	int top = -1, cpu, group, n;
	size_t off = 0;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set))
			top = cpu;
	if (top < 0)
		return -EINVAL;
	/* 32-bit groups, most significant first, the first without leading
	 * zeros (the kernel's bitmap format) */
	for (group = top / 32; group >= 0; group--) {
		unsigned v = 0;
		int b;

		for (b = 0; b < 32; b++)
			if (CPU_ISSET(group * 32 + b, set))
				v |= 1u << b;
		n = snprintf(buf + off, len - off, group == top / 32 ? "%x" : ",%08x", v);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return 0;
}

struct steer_job {
	const struct sl_steer_if *ifs;
	size_t n;
	const char *mask;
	struct sl_err *err;
	int ret;
};

static int write_queues(const char *ifname, const char *mask,
			struct sl_err *err)
{
	char dir[300], path[600];
	struct dirent *de;
	int found = 0, ret = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/class/net/%s/queues", ifname);
	d = opendir(dir);
	if (!d)
		return sl_err_set(err, errno, "%s: %s: %s", ifname, dir,
				  strerror(errno));
	while (!ret && (de = readdir(d))) {
		int fd;

		if (strncmp(de->d_name, "rx-", 3))
			continue;
		snprintf(path, sizeof(path), "%s/%s/rps_cpus", dir, de->d_name);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, mask, strlen(mask)) < 0)
			ret = sl_err_set(err, errno, "%s: write \"%s\" to %s: %s",
					 ifname, mask, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		found++;
	}
	closedir(d);
	if (!ret && !found)
		ret = sl_err_set(err, ENOENT, "%s: no receive queue in %s", ifname,
				 dir);
	return ret;
}

static void *steer_thread(void *arg)
{
	struct steer_job *j = arg;
	size_t i;

	if (unshare(CLONE_NEWNS)) {
		j->ret = sl_err_set(j->err, errno, "rps: own mount namespace: %s",
				    strerror(errno));
		return NULL;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		j->ret = sl_err_set(j->err, errno, "rps: private mounts: %s",
				    strerror(errno));
		return NULL;
	}
	for (i = 0; i < j->n && !j->ret; i++) {
		const struct sl_steer_if *f = &j->ifs[i];

		if (setns(f->netns_fd, CLONE_NEWNET)) {
			j->ret = sl_err_set(j->err, errno, "%s: enter netns: %s",
					    f->ifname, strerror(errno));
			break;
		}
		if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL)) {
			j->ret = sl_err_set(j->err, errno, "%s: mount sysfs: %s",
					    f->ifname, strerror(errno));
			break;
		}
		j->ret = write_queues(f->ifname, j->mask, j->err);
		umount2("/sys", MNT_DETACH);
	}
	return NULL;
}

int sl_steer_rps(const struct sl_steer_if *ifs, size_t n, const char *mask,
		 struct sl_err *err)
{
	struct steer_job j = { .ifs = ifs, .n = n, .mask = mask, .err = err };
	pthread_t t;
	int ret;

	if (!n)
		return 0;
	ret = pthread_create(&t, NULL, steer_thread, &j);
	if (ret)
		return sl_err_set(err, ret, "rps: start thread: %s", strerror(ret));
	pthread_join(t, NULL);
	return j.ret;
}
