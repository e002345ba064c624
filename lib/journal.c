// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * journal.c - write-ahead record of kernel objects (include/sluice/journal.h).
 *
 * Undo removes namespaces by name, which takes every interface inside them
 * along; so a veth whose namespace is also journaled is not deleted one by
 * one (that would cost one netlink request per link for nothing).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/fabric.h>
#include <sluice/journal.h>
#include <sluice/netlink.h>
#include <sluice/sockredir.h>

struct sl_journal {
	int fd;
	char path[256];
};

struct sl_journal *sl_journal_open(const char *path, struct sl_err *err)
{
	struct sl_journal *j = calloc(1, sizeof(*j));

	if (!j) {
		sl_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		sl_err_set(err, errno, "open journal %s: %s", path,
			   strerror(errno));
		free(j);
		return NULL;
	}
	return j;
}

void sl_journal_free(struct sl_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

int sl_journal_add(struct sl_journal *j, const char *kind, const char *arg,
		   const char *arg2, struct sl_err *err)
{
	char line[600];
	int n;

	n = snprintf(line, sizeof(line), "%s %s%s%s\n", kind, arg,
		     arg2 ? " " : "", arg2 ? arg2 : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return sl_err_set(err, ENAMETOOLONG, "journal line too long");
	if (write(j->fd, line, (size_t)n) != n)
		return sl_err_set(err, errno ? errno : EIO,
				  "write journal %s: %s", j->path,
				  strerror(errno ? errno : EIO));
	return 0;
}

int sl_journal_commit(struct sl_journal *j, struct sl_err *err)
{
	if (write(j->fd, "commit\n", 7) != 7)
		return sl_err_set(err, errno ? errno : EIO,
				  "write journal %s: %s", j->path,
				  strerror(errno ? errno : EIO));
	return 0;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (n + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (!got)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

bool sl_journal_committed(const char *path)
{
	size_t len = 0;
	char *buf = read_all(path, &len), *line;
	bool ok = false;

	/* Runtime objects (relays) are journaled after the commit line. */
	for (line = buf ? strtok(buf, "\n") : NULL; line && !ok;
	     line = strtok(NULL, "\n"))
		ok = !strcmp(line, "commit");
	free(buf);
	return ok;
}

int sl_journal_each(const char *path, const char *kind,
		    int (*fn)(const char *arg, void *ctx), void *ctx)
{
	size_t len = 0, klen = strlen(kind);
	char *buf = read_all(path, &len), *line, *save;
	int ret = 0;

	if (!buf)
		return errno == ENOENT ? 0 : -errno;
	for (line = strtok_r(buf, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, kind, klen) && line[klen] == ' ')
			ret = fn(line + klen + 1, ctx);
	free(buf);
	return ret;
}

static int rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char sub[512];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (e->d_type == DT_DIR)
			ret = rm_tree(sub) ?: ret;
		else if (unlink(sub) && errno != ENOENT)
			ret = -errno;
	}
	closedir(d);
	if (rmdir(path) && errno != ENOENT)
		ret = -errno;
	return ret;
}

static bool proc_matches(int pid, unsigned long long start)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int i;

	if (pid <= 1 || !start)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p)
		return false;
	p = strrchr(buf, ')');
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	return p && strtoull(p + 1, NULL, 10) == start;
}

/* The namespace names in the journal, to skip veths that go with them. */
static bool ns_listed(char **lines, size_t n, const char *ns)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strncmp(lines[i], "ns ", 3) && !strcmp(lines[i] + 3, ns))
			return true;
	return false;
}

int sl_journal_undo(const char *path, unsigned *removed, struct sl_err *err)
{
	size_t len = 0, n = 0, cap = 0, i;
	char *buf, *p, **lines = NULL;
	unsigned count = 0;
	int first = 0;

	buf = read_all(path, &len);
	if (!buf) {
		if (errno == ENOENT) {
			if (removed)
				*removed = 0;
			return 0;
		}
		return sl_err_set(err, errno, "read journal %s: %s", path,
				  strerror(errno));
	}
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
		if (n == cap) {
			char **nl;

			cap = cap ? cap * 2 : 256;
			nl = realloc(lines, cap * sizeof(*lines));
			if (!nl) {
				free(lines);
				free(buf);
				return sl_err_set(err, ENOMEM, "out of memory");
			}
			lines = nl;
		}
		lines[n++] = p;
	}
	for (i = n; i-- > 0;) {
		char *line = lines[i], *arg = strchr(line, ' ');
		struct sl_err e2;
		int ret = 0;

		if (!arg)
			continue;
		*arg++ = '\0';
		if (!strcmp(line, "ns")) {
			if (sl_netns_exists(arg)) {
				ret = sl_netns_del(arg, &e2);
				count += !ret;
			}
		} else if (!strcmp(line, "veth")) {
			char *ifname = strchr(arg, ' ');

			if (!ifname)
				continue;
			*ifname++ = '\0';
			/* Goes away with its namespace, unless that one is
			 * not ours (then delete the interface itself). */
			if (!ns_listed(lines, i, arg) && sl_netns_exists(arg)) {
				int fd = sl_netns_open(arg, &e2);
				struct sl_nl *nl;

				if (fd < 0)
					continue;
				nl = sl_nl_open(fd, &e2);
				close(fd);
				if (!nl)
					continue;
				ret = sl_nl_link_del(nl, 0, ifname,
						     SL_NL_IGNORE_NOENT, &e2);
				ret = ret ?: sl_nl_flush(nl, &e2);
				sl_nl_free(nl);
				count += !ret;
			}
		} else if (!strcmp(line, "pin")) {
			ret = sl_fabric_unpin(arg, &e2);
			if (!ret)
				ret = rm_tree(arg) ? sl_err_set(&e2, errno,
					"remove pins %s: %s", arg,
					strerror(errno)) : 0;
			count += !ret;
		} else if (!strcmp(line, "file")) {
			if (unlink(arg) && errno != ENOENT)
				ret = sl_err_set(&e2, errno, "remove %s: %s",
						 arg, strerror(errno));
			else
				count++;
		} else if (!strcmp(line, "proc")) {
			/* "proc <pid> <start time>": a helper process (a relay);
			 * stopped only if the pid still names that process. */
			char *st = strchr(arg, ' ');

			if (st) {
				*st++ = '\0';
				if (proc_matches(atoi(arg), strtoull(st, NULL, 10))) {
					kill(atoi(arg), SIGTERM);
					count++;
				}
			}
		} else if (!strcmp(line, "cgroup")) {
			/* Processes still inside move to the root first. */
			ret = sl_sockredir_cgroup_remove(arg, &e2);
			count += !ret;
		} else if (!strcmp(line, "dir")) {
			ret = rm_tree(arg);
			if (ret)
				ret = sl_err_set(&e2, -ret, "remove %s: %s",
						 arg, strerror(-ret));
		}
		if (ret && !first) {
			first = ret;
			if (err)
				*err = e2;
		}
	}
	free(lines);
	free(buf);
	if (!first && unlink(path) && errno != ENOENT)
		first = sl_err_set(err, errno, "remove journal %s: %s", path,
				   strerror(errno));
	if (removed)
		*removed = count;
	return first;
}
