// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * topo.c - construction of the topology model (include/sluice/topo.h).
 *
 * Parsers and generators build a model only through these calls, so the
 * invariants on ep[].ifidx and the nodes' link lists hold by construction.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <sluice/topo.h>

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return 0;
}

struct sl_topo *sl_topo_new(const char *name)
{
	struct sl_topo *t = calloc(1, sizeof(*t));

	if (t && name)
		snprintf(t->name, sizeof(t->name), "%s", name);
	return t;
}

void sl_topo_free(struct sl_topo *t)
{
	uint32_t i;

	if (!t)
		return;
	for (i = 0; i < t->n_nodes; i++)
		free(t->nodes[i].links);
	for (i = 0; i < t->n_links; i++) {
		free(t->links[i].policy[0]);
		free(t->links[i].policy[1]);
	}
	free(t->nodes);
	free(t->links);
	free(t->flows);
	free(t->source);
	free(t);
}

int sl_topo_add_node(struct sl_topo *t, const char *name,
		     enum sl_node_kind kind)
{
	struct sl_node *n;

	if (t->n_nodes >= SL_NODES_MAX)
		return -E2BIG;
	if (grow((void **)&t->nodes, &t->cap_nodes, t->n_nodes + 1,
		 sizeof(*t->nodes)))
		return -ENOMEM;
	n = &t->nodes[t->n_nodes];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->kind = kind;
	return (int)t->n_nodes++;
}

int sl_topo_add_link(struct sl_topo *t, uint32_t a, uint32_t b, uint32_t mtu)
{
	uint32_t ends[2] = { a, b };
	struct sl_link *l;
	int i;

	if (a >= t->n_nodes || b >= t->n_nodes)
		return -ENOENT;
	if (a == b) /* a self-link is never valid (and would append twice) */
		return -EINVAL;
	if (grow((void **)&t->links, &t->cap_links, t->n_links + 1,
		 sizeof(*t->links)))
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		struct sl_node *n = &t->nodes[ends[i]];

		if (grow((void **)&n->links, &n->cap_links, n->n_links + 1,
			 sizeof(*n->links)))
			return -ENOMEM;
	}
	l = &t->links[t->n_links];
	memset(l, 0, sizeof(*l));
	l->mtu = mtu ? mtu : SL_MTU_DEFAULT;
	for (i = 0; i < 2; i++) {
		struct sl_node *n = &t->nodes[ends[i]];

		l->ep[i].node = ends[i];
		l->ep[i].ifidx = n->n_links;
		n->links[n->n_links++] = t->n_links;
	}
	return (int)t->n_links++;
}

int sl_topo_find_node(const struct sl_topo *t, const char *name)
{
	uint32_t i;

	for (i = 0; i < t->n_nodes; i++)
		if (!strcmp(t->nodes[i].name, name))
			return (int)i;
	return -1;
}

int sl_topo_find_link(const struct sl_topo *t, uint32_t a, uint32_t b)
{
	const struct sl_node *n;
	uint32_t i;

	if (a >= t->n_nodes)
		return -1;
	n = &t->nodes[a];
	for (i = 0; i < n->n_links; i++) {
		const struct sl_link *l = &t->links[n->links[i]];

		if ((l->ep[0].node == a && l->ep[1].node == b) ||
		    (l->ep[1].node == a && l->ep[0].node == b))
			return (int)n->links[i];
	}
	return -1;
}

const struct sl_endpoint *sl_link_peer(const struct sl_link *l, uint32_t n)
{
	return l->ep[0].node == n ? &l->ep[1] : &l->ep[0];
}

const char *sl_node_kind_name(enum sl_node_kind k)
{
	return k == SL_NODE_ROUTER ? "router" : "host";
}
