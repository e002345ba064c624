// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * flow.c - flow rules as text and JSON (include/sluice/flow.h): parsing
 * with messages that name the field, canonical formatting, and the checks
 * a rule must pass before it goes into the kernel (lib/fabric_flow.c).
 *
 * Both parsers feed one setter per key (set_field), so the text and the
 * JSON form accept the same values and fail with the same words.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/flow.h>

#define FLOW_KEYS "proto, src, dst, sport, dport, prio, mode or class"
#define PORT_EXPECTED \
	"a port 0-65535 or a range lo-hi such as 1000-2000"
#define U32_EXPECTED "an integer 0-4294967295"

enum field {
	F_PROTO = 0,
	F_SRC,
	F_DST,
	F_SPORT,
	F_DPORT,
	F_PRIO,
	F_MODE,
	F_CLASS,
	F_N,
};

static const char *const field_names[F_N] = {
	"proto", "src", "dst", "sport", "dport", "prio", "mode", "class",
};

static int field_of(const char *key)
{
	int i;

	if (strcmp(key, "priority") == 0)
		return F_PRIO;
	for (i = 0; i < F_N; i++)
		if (strcmp(key, field_names[i]) == 0)
			return i;
	return -1;
}

void sl_flow_rule_init(struct sl_flow_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->priority = SL_FLOW_PRIO_DEFAULT;
	r->mode = SL_FLOW_MODE_MAX;
	r->sport_hi = 0xffff;
	r->dport_hi = 0xffff;
}

/* A decimal integer 0..max, nothing else (no sign, no spaces). */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[32], *dash;
	uint64_t a, b;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (!parse_uint(buf, 65535, &a))
		return false;
	b = a;
	if (dash && !parse_uint(dash + 1, 65535, &b))
		return false;
	if (a > b)
		return false;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
}

static int set_prefix(const char *name, const char *s, struct sl_prefix *p,
		      struct sl_err *err)
{
	struct sl_prefix m;
	char buf[64];

	if (sl_prefix_parse(s, p, true) < 0)
		return sl_err_set(err, EINVAL,
				  "flow: %s: \"%s\" is not an address; expected an IPv4 or IPv6 address with an optional /prefix such as 10.0.0.0/8 or fd00::/64",
				  name, s);
	m = *p;
	sl_prefix_mask(&m);
	if (memcmp(m.addr, p->addr, sizeof(m.addr)))
		return sl_err_set(err, EINVAL,
				  "flow: %s: %s has host bits set; expected %s",
				  name, s, sl_prefix_str(&m, buf, sizeof(buf), true));
	return 0;
}

static int set_u32(const char *name, const char *what, const char *s,
		   uint32_t *out, struct sl_err *err)
{
	uint64_t v;

	if (!parse_uint(s, UINT32_MAX, &v))
		return sl_err_set(err, EINVAL,
				  "flow: %s: \"%s\" is not %s; expected " U32_EXPECTED "%s",
				  name, s, what,
				  strcmp(name, "prio") ? "" :
				  " (lower matches first)");
	*out = (uint32_t)v;
	return 0;
}

/* One key with its value as text. */
static int set_field(struct sl_flow_rule *r, int f, const char *v,
		     struct sl_err *err)
{
	switch (f) {
	case F_PROTO:
		if (strcmp(v, "tcp") == 0)
			r->proto = IPPROTO_TCP;
		else if (strcmp(v, "udp") == 0)
			r->proto = IPPROTO_UDP;
		else if (strcmp(v, "icmp") == 0 || strcmp(v, "icmp6") == 0 ||
			 strcmp(v, "icmpv6") == 0)
			r->proto = IPPROTO_ICMP;
		else if (strcmp(v, "any") == 0)
			r->proto = 0;
		else
			return sl_err_set(err, EINVAL,
					  "flow: proto: \"%s\" is not supported; expected tcp, udp, icmp or any",
					  v);
		return 0;
	case F_SRC:
		return set_prefix("src", v, &r->src, err);
	case F_DST:
		return set_prefix("dst", v, &r->dst, err);
	case F_SPORT:
	case F_DPORT:
		if (!parse_ports(v, f == F_SPORT ? &r->sport_lo : &r->dport_lo,
				 f == F_SPORT ? &r->sport_hi : &r->dport_hi))
			return sl_err_set(err, EINVAL,
					  "flow: %s: \"%s\" is not a port or port range; expected " PORT_EXPECTED,
					  field_names[f], v);
		return 0;
	case F_PRIO:
		return set_u32("prio", "a priority", v, &r->priority, err);
	case F_MODE:
		if (strcmp(v, "max") == 0)
			r->mode = SL_FLOW_MODE_MAX;
		else if (strcmp(v, "normal") == 0)
			r->mode = SL_FLOW_MODE_NORMAL;
		else
			return sl_err_set(err, EINVAL,
					  "flow: mode: \"%s\" is not a mode; expected max or normal",
					  v);
		return 0;
	case F_CLASS:
		return set_u32("class", "a class", v, &r->class, err);
	}
	return sl_err_set(err, EINVAL, "flow: internal: field %d", f);
}

static bool ports_any(uint16_t lo, uint16_t hi)
{
	return lo == 0 && hi == 0xffff;
}

int sl_flow_check(const struct sl_flow_rule *r, struct sl_err *err)
{
	const struct sl_prefix *p[2] = { &r->src, &r->dst };
	struct sl_prefix m;
	char buf[64], want[64];
	int i;

	if (r->proto != 0 && r->proto != IPPROTO_ICMP &&
	    r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
		return sl_err_set(err, EINVAL,
				  "flow: proto: protocol %u is not supported; expected tcp, udp, icmp or any",
				  r->proto);
	for (i = 0; i < 2; i++) {
		const char *name = i ? "dst" : "src";

		if (!p[i]->family)
			continue;
		if (p[i]->family != AF_INET && p[i]->family != AF_INET6)
			return sl_err_set(err, EINVAL,
					  "flow: %s: address family %d; expected IPv4 or IPv6",
					  name, p[i]->family);
		if (p[i]->len > sl_prefix_bits(p[i]))
			return sl_err_set(err, EINVAL,
					  "flow: %s: prefix length %u; expected at most %d",
					  name, p[i]->len, sl_prefix_bits(p[i]));
		m = *p[i];
		sl_prefix_mask(&m);
		if (memcmp(m.addr, p[i]->addr, sizeof(m.addr)))
			return sl_err_set(err, EINVAL,
					  "flow: %s: %s has host bits set; expected %s",
					  name,
					  sl_prefix_str(p[i], buf, sizeof(buf), true),
					  sl_prefix_str(&m, want, sizeof(want),
							true));
	}
	if (r->src.family && r->dst.family && r->src.family != r->dst.family)
		return sl_err_set(err, EINVAL,
				  "flow: src is %s but dst is %s; expected addresses of one family",
				  r->src.family == AF_INET ? "IPv4" : "IPv6",
				  r->dst.family == AF_INET ? "IPv4" : "IPv6");
	if (r->sport_lo > r->sport_hi || r->dport_lo > r->dport_hi)
		return sl_err_set(err, EINVAL,
				  "flow: %s: range %u-%u is empty; expected lo <= hi",
				  r->sport_lo > r->sport_hi ? "sport" : "dport",
				  r->sport_lo > r->sport_hi ? r->sport_lo : r->dport_lo,
				  r->sport_lo > r->sport_hi ? r->sport_hi : r->dport_hi);
	if (r->proto == IPPROTO_ICMP &&
	    (!ports_any(r->sport_lo, r->sport_hi) ||
	     !ports_any(r->dport_lo, r->dport_hi)))
		return sl_err_set(err, EINVAL,
				  "flow: %s: ICMP has no ports; expected ports only with proto tcp, udp or any",
				  ports_any(r->sport_lo, r->sport_hi) ? "dport" :
									"sport");
	if (r->mode != SL_FLOW_MODE_MAX && r->mode != SL_FLOW_MODE_NORMAL)
		return sl_err_set(err, EINVAL,
				  "flow: mode %u; expected max (%u) or normal (%u)",
				  r->mode, SL_FLOW_MODE_MAX, SL_FLOW_MODE_NORMAL);
	return 0;
}

int sl_flow_parse(const char *spec, struct sl_flow_rule *out,
		  struct sl_err *err)
{
	struct sl_flow_rule r;
	char *copy, *save = NULL, *key, *val;
	bool seen[F_N] = { false };
	int f, ret = 0;

	sl_flow_rule_init(&r);
	copy = strdup(spec ? spec : "");
	if (!copy)
		return sl_err_set(err, ENOMEM, "flow: out of memory");
	for (key = strtok_r(copy, " \t\n", &save); key;
	     key = strtok_r(NULL, " \t\n", &save)) {
		f = field_of(key);
		if (f < 0) {
			ret = sl_err_set(err, EINVAL,
					 "flow: \"%s\" is not a field; expected " FLOW_KEYS,
					 key);
			goto out;
		}
		if (seen[f]) {
			ret = sl_err_set(err, EINVAL,
					 "flow: %s given twice; expected each field at most once",
					 field_names[f]);
			goto out;
		}
		seen[f] = true;
		val = strtok_r(NULL, " \t\n", &save);
		if (!val) {
			ret = sl_err_set(err, EINVAL,
					 "flow: %s: missing value after \"%s\"",
					 field_names[f], key);
			goto out;
		}
		ret = set_field(&r, f, val, err);
		if (ret)
			goto out;
	}
	ret = sl_flow_check(&r, err);
	if (!ret)
		*out = r;
out:
	free(copy);
	return ret;
}

static const char *json_type_noun(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a fractional number";
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "something else";
}

int sl_flow_parse_json(struct json_object *o, struct sl_flow_rule *out,
		       struct sl_err *err)
{
	struct sl_flow_rule r;
	bool seen[F_N] = { false };
	char num[32];
	int f, ret;

	sl_flow_rule_init(&r);
	if (!o || !json_object_is_type(o, json_type_object))
		return sl_err_set(err, EINVAL,
				  "flow: expected a JSON object with any of " FLOW_KEYS ", got %s",
				  o ? json_type_noun(o) : "nothing");
	json_object_object_foreach(o, key, v) {
		const char *text;

		f = field_of(key);
		if (f < 0)
			return sl_err_set(err, EINVAL,
					  "flow: \"%s\" is not a field; expected " FLOW_KEYS,
					  key);
		if (seen[f])
			return sl_err_set(err, EINVAL,
					  "flow: %s given twice (as \"prio\" and \"priority\"); expected it once",
					  field_names[f]);
		seen[f] = true;
		switch (f) {
		case F_SPORT:
		case F_DPORT:
		case F_PRIO:
		case F_CLASS:
			if (json_object_is_type(v, json_type_int)) {
				int64_t n = json_object_get_int64(v);

				if (n < 0) {
					/* let the text check word it */
					snprintf(num, sizeof(num), "%lld",
						 (long long)n);
				} else {
					snprintf(num, sizeof(num), "%llu",
						 (unsigned long long)n);
				}
				text = num;
				break;
			}
			if ((f == F_SPORT || f == F_DPORT) &&
			    json_object_is_type(v, json_type_string)) {
				text = json_object_get_string(v);
				break;
			}
			return sl_err_set(err, EINVAL,
					  "flow: %s: got %s; expected %s",
					  field_names[f], json_type_noun(v),
					  f == F_SPORT || f == F_DPORT ?
					  "a port number or a \"lo-hi\" string such as \"1000-2000\"" :
					  U32_EXPECTED);
		default:
			if (!json_object_is_type(v, json_type_string))
				return sl_err_set(err, EINVAL,
						  "flow: %s: got %s; expected a string",
						  field_names[f],
						  json_type_noun(v));
			text = json_object_get_string(v);
		}
		ret = set_field(&r, f, text, err);
		if (ret)
			return ret;
	}
	ret = sl_flow_check(&r, err);
	if (!ret)
		*out = r;
	return ret;
}

static void add_ports(char *buf, size_t len, size_t *off, const char *name,
		      uint16_t lo, uint16_t hi)
{
	int n;

	const char *sep = *off ? " " : "";

	if (ports_any(lo, hi) || *off >= len)
		return;
	if (lo == hi)
		n = snprintf(buf + *off, len - *off, "%s%s %u", sep, name, lo);
	else
		n = snprintf(buf + *off, len - *off, "%s%s %u-%u", sep, name,
			     lo, hi);
	if (n > 0)
		*off += (size_t)n;
}

const char *sl_flow_format(const struct sl_flow_rule *r, char *buf,
			   size_t len)
{
	char a[64];
	size_t off = 0;
	int n;

#define PUT(...)                                                        \
	do {                                                            \
		if (off < len) {                                        \
			n = snprintf(buf + off, len - off, "%s",        \
				     off ? " " : "");                   \
			if (n > 0)                                      \
				off += (size_t)n;                       \
		}                                                       \
		if (off < len) {                                        \
			n = snprintf(buf + off, len - off, __VA_ARGS__); \
			if (n > 0)                                      \
				off += (size_t)n;                       \
		}                                                       \
	} while (0)

	if (!len)
		return buf;
	buf[0] = '\0';
	if (r->proto)
		PUT("proto %s", r->proto == IPPROTO_TCP ? "tcp" :
				 r->proto == IPPROTO_UDP ? "udp" :
				 r->proto == IPPROTO_ICMP ? "icmp" : "?");
	if (r->src.family)
		PUT("src %s", sl_prefix_str(&r->src, a, sizeof(a), true));
	if (r->dst.family)
		PUT("dst %s", sl_prefix_str(&r->dst, a, sizeof(a), true));
	add_ports(buf, len, &off, "sport", r->sport_lo, r->sport_hi);
	add_ports(buf, len, &off, "dport", r->dport_lo, r->dport_hi);
	if (r->priority != SL_FLOW_PRIO_DEFAULT)
		PUT("prio %u", r->priority);
	if (r->mode != SL_FLOW_MODE_MAX)
		PUT("mode normal");
	if (r->class)
		PUT("class %u", r->class);
#undef PUT
	return buf;
}
