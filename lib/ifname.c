// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifname.c - interface and namespace names (include/sluice/addr.h).
 *
 * Linux caps interface names at IFNAMSIZ-1 = 15 characters, while node names
 * may be up to 31. Names must stay predictable (a user types them into
 * tcpdump), so a long node name is cut and tagged with a short hash of the
 * whole name instead of being numbered in creation order: the same node
 * always gets the same port name, whatever else is in the file. A collision
 * of two tagged names is possible in principle and is reported, not
 * resolved, so that names never depend on the rest of the topology.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/addr.h>

/* Four digits of ifidx keep at least two characters of the node name in a
 * shortened port name: 2 + "~" + 4 hex + "-eth" + 4 = 15. */
#define SL_LINKS_PER_NODE_MAX 9999

void sl_ifname_node(uint32_t ifidx, char out[SL_IFNAME_MAX])
{
	snprintf(out, SL_IFNAME_MAX, "eth%u", ifidx);
}

/* 32-bit FNV-1a, folded to 16 bits so that four hex digits carry it all. */
static uint16_t name_hash16(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return (uint16_t)((h >> 16) ^ (h & 0xffff));
}

void sl_ifname_port(const char *node, uint32_t ifidx, char out[SL_IFNAME_MAX])
{
	char suffix[SL_IFNAME_MAX + 8], buf[64];
	size_t nlen = strlen(node), keep;
	int slen;

	slen = snprintf(suffix, sizeof(suffix), "-eth%u", ifidx);
	if (nlen + (size_t)slen <= SL_IFNAME_MAX - 1) {
		memcpy(out, node, nlen);
		memcpy(out + nlen, suffix, (size_t)slen + 1);
		return;
	}
	/* "~xxxx" takes 5; whatever is left of the 15 is the cut name. */
	keep = SL_IFNAME_MAX - 1 > (size_t)slen + 5 ?
		       SL_IFNAME_MAX - 1 - (size_t)slen - 5 : 0;
	if (keep > nlen)
		keep = nlen;
	/* Only an ifidx beyond SL_LINKS_PER_NODE_MAX can overflow; cut it. */
	snprintf(buf, sizeof(buf), "%.*s~%04x%s", (int)keep, node,
		 name_hash16(node), suffix);
	buf[SL_IFNAME_MAX - 1] = '\0';
	memcpy(out, buf, SL_IFNAME_MAX);
}

struct port_ref {
	const char *name;
	uint32_t link;
	uint32_t ep;
};

/* By name, then by position, so the reported pair is the first one in the
 * file and the later one is blamed. */
static int port_ref_cmp(const void *a, const void *b)
{
	const struct port_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->link != y->link)
		return x->link < y->link ? -1 : 1;
	return (int)x->ep - (int)y->ep;
}

static const char *topo_source(const struct sl_topo *t)
{
	return t->source ? t->source : "<topology>";
}

int sl_ifnames_assign(struct sl_topo *t, struct sl_err *err)
{
	struct port_ref *refs = NULL;
	size_t n = 0, i;
	uint32_t l;
	int ret = 0;

	for (i = 0; i < t->n_nodes; i++) {
		if (t->nodes[i].n_links > SL_LINKS_PER_NODE_MAX)
			return sl_err_set(err, EINVAL,
					  "%s: nodes[%zu]: node \"%s\" has %u links; expected at most %u",
					  topo_source(t), i, t->nodes[i].name,
					  t->nodes[i].n_links,
					  SL_LINKS_PER_NODE_MAX);
	}
	if (t->n_links) {
		refs = calloc((size_t)t->n_links * 2, sizeof(*refs));
		if (!refs)
			return sl_err_set(err, ENOMEM, "%s: out of memory",
					  topo_source(t));
	}
	for (l = 0; l < t->n_links; l++) {
		struct sl_link *lk = &t->links[l];
		int e;

		for (e = 0; e < 2; e++) {
			struct sl_endpoint *ep = &lk->ep[e];

			sl_ifname_node(ep->ifidx, ep->ifname);
			sl_ifname_port(t->nodes[ep->node].name, ep->ifidx,
				       ep->port);
			refs[n].name = ep->port;
			refs[n].link = l;
			refs[n].ep = (uint32_t)e;
			n++;
		}
	}
	if (n > 1)
		qsort(refs, n, sizeof(*refs), port_ref_cmp);
	/* Among all duplicates, blame the one whose pair comes first in the
	 * file, so the message does not depend on the sort's tie order. */
	{
		const struct port_ref *best = NULL, *best_first = NULL;

		for (i = 1; i < n; i++) {
			if (strcmp(refs[i].name, refs[i - 1].name))
				continue;
			/* refs[i - 1] precedes refs[i] in the file. */
			if (!best || refs[i].link < best->link ||
			    (refs[i].link == best->link &&
			     refs[i].ep < best->ep)) {
				size_t j = i - 1;

				while (j > 0 &&
				       !strcmp(refs[j - 1].name, refs[i].name))
					j--;
				best = &refs[i];
				best_first = &refs[j];
			}
		}
		if (best)
			ret = sl_err_set(err, EINVAL,
					 "%s: links[%u].endpoints[%u]: interface name \"%s\" also used by links[%u].endpoints[%u]; expected distinct node names that do not collide after shortening",
					 topo_source(t), best->link, best->ep,
					 best->name, best_first->link,
					 best_first->ep);
	}
	free(refs);
	return ret;
}

void sl_netns_node(const char *topo, const char *node, char *out, size_t len)
{
	snprintf(out, len, SL_NETNS_PREFIX "%s.%s", topo, node);
}

void sl_netns_fabric(const char *topo, char *out, size_t len)
{
	snprintf(out, len, SL_NETNS_PREFIX "%s", topo);
}
