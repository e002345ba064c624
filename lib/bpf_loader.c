// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bpf_loader.c - libbpf's log captured around loads and attaches, and the
 * error messages made of it (include/sluice/bpf_loader.h).
 *
 * The capture keeps, per thread, only what a message needs: libbpf's first
 * warning, the program a warning named ("prog 'NAME': ..."), the verifier's
 * last line, the kernel's netlink message and whether the kernel's BTF was
 * missing. libbpf_set_print() is process-wide, so the capturing printer is
 * installed once and for all, and passes what a thread prints outside a
 * capture on to the printer it replaced: captures in two threads at once
 * cannot undo each other's printer.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include <sluice/bpf_loader.h>

#define CAP_LINE 200

static __thread struct {
	int active;
	int btf;                  /* libbpf could not read the kernel's BTF */
	char first_warn[CAP_LINE]; /* the first warning libbpf printed */
	char verifier[CAP_LINE];   /* the verifier's last line */
	char kernel[CAP_LINE];     /* the kernel's netlink error message */
	char prog[64];             /* the program a warning named */
} cap;

const char *sl_bpf_btf_path(void)
{
	const char *p = getenv(SL_BPF_BTF_ENV);

	return p && *p ? p : NULL;
}

static void copy_line(char *dst, size_t size, const char *src, size_t n)
{
	size_t i;

	if (strncmp(src, "libbpf: ", 8) == 0) {
		src += 8;
		n = n >= 8 ? n - 8 : 0;
	}
	for (i = 0; i + 1 < size && i < n && src[i] != '\n'; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* The verifier's complaint: the last line before the end marker that is
 * not one of its statistics lines. */
static void verifier_line(const char *s, const char *end)
{
	const char *line;

	while (end > s) {
		while (end > s && end[-1] == '\n')
			end--;
		line = end;
		while (line > s && line[-1] != '\n')
			line--;
		if (strncmp(line, "processed ", 10) != 0 &&
		    strncmp(line, "verification time", 17) != 0 &&
		    strncmp(line, "stack depth", 11) != 0) {
			copy_line(cap.verifier, sizeof(cap.verifier), line,
				  (size_t)(end - line));
			return;
		}
		end = line;
	}
}

/* The printer before ours: libbpf's own, unless the program set one. */
static libbpf_print_fn_t next_print;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

__attribute__((format(printf, 2, 0)))
static int capture_print(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	const char *end, *p;
	char *s = NULL;
	va_list aq;

	if (getenv("SLUICE_LIBBPF_DEBUG") && cap.active) {
		va_copy(aq, ap);
		vfprintf(stderr, fmt, aq);
		va_end(aq);
	}
	if (!cap.active)
		return next_print ? next_print(level, fmt, ap) : 0;
	if (level != LIBBPF_WARN)
		return 0;
	if (vasprintf(&s, fmt, ap) < 0)
		return 0;
	if (!cap.first_warn[0])
		copy_line(cap.first_warn, sizeof(cap.first_warn), s, strlen(s));
	if ((p = strstr(s, "Kernel error message: ")))
		copy_line(cap.kernel, sizeof(cap.kernel), p + 22, strlen(p + 22));
	if (!cap.prog[0] && (p = strstr(s, "prog '")) && (end = strchr(p + 6, '\'')) &&
	    (size_t)(end - p - 6) < sizeof(cap.prog))
		snprintf(cap.prog, sizeof(cap.prog), "%.*s", (int)(end - p - 6), p + 6);
	if (strstr(s, "failed to parse target BTF") ||
	    strstr(s, "failed to find valid kernel BTF") ||
	    strstr(s, "Error loading vmlinux BTF") ||
	    strstr(s, "vmlinux BTF is not found"))
		cap.btf = 1;
	end = strstr(s, "-- END PROG LOAD LOG --");
	if (end)
		verifier_line(s, end);
	free(s);
	return 0;
}

void sl_bpf_capture_reset(void)
{
	int active = cap.active;

	memset(&cap, 0, sizeof(cap));
	cap.active = active;
}

static void install(void)
{
	next_print = libbpf_set_print(capture_print);
}

void sl_bpf_capture_begin(struct sl_bpf_capture *c)
{
	pthread_once(&installed, install);
	c->was_active = cap.active;
	memset(&cap, 0, sizeof(cap));
	cap.active = 1;
}

void sl_bpf_capture_end(struct sl_bpf_capture *c)
{
	cap.active = c->was_active;
}

static int neg(int ret)
{
	if (ret > 0)
		ret = -ret;
	return ret ? ret : -EINVAL;
}

int sl_bpf_captured_error(struct sl_err *err, int ret, const char *what)
{
	ret = neg(ret);
	return sl_err_set(err, -ret, "%s: %s%s%s%s%s%s%s", what, strerror(-ret),
			  cap.first_warn[0] ? "; libbpf: " : "", cap.first_warn,
			  cap.verifier[0] ? "; verifier: " : "", cap.verifier,
			  cap.kernel[0] && !strstr(cap.first_warn, cap.kernel) ?
				  "; kernel: " : "",
			  cap.kernel[0] && !strstr(cap.first_warn, cap.kernel) ?
				  cap.kernel : "");
}

/* "program NAME" (the one that failed), else every program of obj. */
static void program_names(struct bpf_object *obj, char *buf, size_t len)
{
	struct bpf_program *p;
	size_t used = 0;
	int n = 0;

	if (cap.prog[0]) {
		snprintf(buf, len, "program %s", cap.prog);
		return;
	}
	bpf_object__for_each_program(p, obj)
		n++;
	used = (size_t)snprintf(buf, len, "program%s ", n == 1 ? "" : "s");
	n = 0;
	bpf_object__for_each_program(p, obj)
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 n++ ? ", " : "",
						 bpf_program__name(p));
}

int sl_bpf_object_load(struct bpf_object *obj, const char *what,
		       struct sl_err *err)
{
	struct sl_bpf_capture c;
	char progs[160], reason[360];
	const char *path;
	int ret, e;

	sl_bpf_capture_begin(&c);
	ret = bpf_object__load(obj);
	if (!ret)
		goto out;
	ret = neg(ret);
	program_names(obj, progs, sizeof(progs));
	if (cap.btf) {
		path = sl_bpf_btf_path() ? sl_bpf_btf_path() : SL_BPF_VMLINUX_BTF;
		e = access(path, R_OK) ? errno : 0;
		snprintf(reason, sizeof(reason),
			 "no kernel BTF for its CO-RE relocations: %s: %s; expected "
			 "the kernel's BTF (a kernel built with CONFIG_DEBUG_INFO_BTF)",
			 path, e ? strerror(e) : "not a BTF file libbpf can read");
	} else if (cap.verifier[0]) {
		snprintf(reason, sizeof(reason), "rejected by the verifier (%s): %s",
			 strerror(-ret), cap.verifier);
	} else {
		snprintf(reason, sizeof(reason), "%s%s%s", strerror(-ret),
			 cap.first_warn[0] ? "; libbpf: " : "", cap.first_warn);
	}
	ret = sl_err_set(err, -ret, "%s: loading %s (object %s): %s", what, progs,
			 bpf_object__name(obj), reason);
out:
	sl_bpf_capture_end(&c);
	return ret;
}

int sl_bpf_attach_error(struct sl_err *err, int ret, const char *what,
			const char *prog, int ifindex, const char *how)
{
	char ifname[IF_NAMESIZE], dev[64];

	ret = neg(ret);
	if (ifindex > 0 && if_indextoname((unsigned)ifindex, ifname))
		snprintf(dev, sizeof(dev), "%s (ifindex %d)", ifname, ifindex);
	else
		snprintf(dev, sizeof(dev), "ifindex %d (no such interface)", ifindex);
	return sl_err_set(err, -ret, "%s: attach program %s to %s%s%s: %s%s%s",
			  what, prog, dev, how ? ", " : "", how ? how : "",
			  strerror(-ret), cap.kernel[0] ? "; kernel: " : "",
			  cap.kernel);
}
