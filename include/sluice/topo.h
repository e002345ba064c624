/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * topo.h - the topology model of sluice.
 *
 * A topology is a set of nodes (each one network namespace) joined by links
 * (each one emulated wire). The model is plain data: parsers fill it,
 * generators build it, the addressing and routing passes annotate it, and the
 * bring-up turns it into kernel objects. Nothing in here touches the kernel.
 *
 * Invariants once sl_topo_validate() returned 0:
 *  - node names are unique, 1..SL_NAME_MAX-1 chars of [A-Za-z0-9_-], first a
 *    letter; the topology name follows the same rule within SL_TOPO_NAME_MAX.
 *  - every link joins two different existing nodes; no two links join the
 *    same pair of nodes.
 *  - ep[i].ifidx is the position of the link among the node's links, in file
 *    order, so the node-side interface is "eth<ifidx>".
 *  - ep[i].ifname / ep[i].port are filled and unique (see ifname.h).
 */
#ifndef SLUICE_TOPO_H
#define SLUICE_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/err.h>

#define SL_NAME_MAX 32      /* node name, with the NUL */
#define SL_TOPO_NAME_MAX 24 /* topology name, with the NUL */
#define SL_IFNAME_MAX 16    /* IFNAMSIZ, with the NUL */
#define SL_MTU_MIN 68
#define SL_MTU_MAX 65535
#define SL_MTU_DEFAULT 1500
#define SL_NODES_MAX 65536

enum sl_node_kind {
	SL_NODE_HOST = 0, /* does not forward; routes never transit it */
	SL_NODE_ROUTER,   /* forwards */
};

/* An address with its prefix length. AF_INET uses bytes 0..3 of addr. */
struct sl_prefix {
	int family; /* 0 (unset), AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t len;
};

/* Direction of a link: SL_DIR_UP is ep[0] -> ep[1], SL_DIR_DOWN the reverse. */
enum sl_dir {
	SL_DIR_UP = 0,
	SL_DIR_DOWN = 1,
};

struct sl_endpoint {
	uint32_t node;  /* index into topo->nodes */
	uint32_t ifidx; /* eth<ifidx> inside the node */
	char ifname[SL_IFNAME_MAX]; /* node side, "eth0" */
	char port[SL_IFNAME_MAX];   /* fabric side, e.g. "h1-eth0" */
	struct sl_prefix addr4;     /* family 0 until assigned */
	struct sl_prefix addr6;
	bool user_addr4; /* given in the file (not auto-assigned) */
	bool user_addr6;
};

/* How a link is carried (max-mode issue): the kernel path, the user-space
 * dataplane, or whichever the policy allows (auto, the default). */
enum sl_link_mode {
	SL_MODE_AUTO = 0,
	SL_MODE_MAX,
	SL_MODE_NORMAL,
};

struct sl_link {
	struct sl_endpoint ep[2];
	uint32_t mtu;
	enum sl_link_mode mode;
	/*
	 * Policy per direction as JSON text (an object), NULL when the
	 * direction is unshaped. Later stages (cells, max mode) interpret it;
	 * the parser only checks its shape.
	 */
	char *policy[2];
	bool down; /* administratively down (runtime state) */
};

struct sl_node {
	char name[SL_NAME_MAX];
	enum sl_node_kind kind;
	struct sl_prefix lo4; /* the node's stable address, on lo */
	struct sl_prefix lo6;
	bool user_lo4;
	bool user_lo6;
	uint32_t *links;  /* link indices, in ifidx order */
	uint32_t n_links;
	uint32_t cap_links;
};

struct sl_topo {
	char name[SL_TOPO_NAME_MAX];
	char *source;       /* file name used in messages ("<stdin>", ...) */
	bool ipv6;          /* dual-stack */
	/* L4 max mode: TCP between two nodes joined in the socket layer,
	 * skipping every hop and every link policy on the way (opt-in). */
	bool socket_redirect;
	struct sl_prefix pool4; /* family 0: choose automatically */
	struct sl_prefix pool6;
	struct sl_node *nodes;
	uint32_t n_nodes;
	uint32_t cap_nodes;
	struct sl_link *links;
	uint32_t n_links;
	uint32_t cap_links;
	/* Flow table rules declared in the file (include/sluice/flow.h), as
	 * the JSON text of an array of rule objects; NULL when none. */
	char *flows;
};

/* lib/topo.c: construction. Ownership: sl_topo_new() -> sl_topo_free(). */
struct sl_topo *sl_topo_new(const char *name);
void sl_topo_free(struct sl_topo *t);
/* Appends a node; returns its index or a negative errno. */
int sl_topo_add_node(struct sl_topo *t, const char *name,
		     enum sl_node_kind kind);
/* Appends a link a <-> b (node indices); fills ep[].node and ep[].ifidx and
 * the nodes' link lists. Returns the link index or a negative errno
 * (-EINVAL for a == b). */
int sl_topo_add_link(struct sl_topo *t, uint32_t a, uint32_t b, uint32_t mtu);
/* Index of the node called name, or -1. */
int sl_topo_find_node(const struct sl_topo *t, const char *name);
/* Index of the link between nodes a and b, or -1. */
int sl_topo_find_link(const struct sl_topo *t, uint32_t a, uint32_t b);
/* The endpoint of link l on the other side from node n. */
const struct sl_endpoint *sl_link_peer(const struct sl_link *l, uint32_t n);
const char *sl_node_kind_name(enum sl_node_kind k);

/*
 * Semantic checks that any source of a model needs (file or generator):
 * names, duplicate and self links, MTU, address overlaps, interface names.
 * Fills err with "<source>: <json path>: <what was expected>".
 */
int sl_topo_validate(struct sl_topo *t, struct sl_err *err);

/* lib/topo_json.c: the file format (docs/topology.md). */
/* Parses and validates; on error returns -EINVAL (or -errno for I/O) and
 * err names the source, the JSON path and what was expected. */
int sl_topo_parse(const char *text, size_t len, const char *source,
		  struct sl_topo **out, struct sl_err *err);
int sl_topo_load(const char *path, struct sl_topo **out, struct sl_err *err);
/* JSON text of the model (malloc'ed). With resolved, assigned addresses and
 * pools are written out too, so parsing the text gives the same network. */
char *sl_topo_to_json(const struct sl_topo *t, bool resolved);

/* lib/gen.c: generators. kind is one of linear, ring, star, tree, dumbbell,
 * fat-tree, torus, random; args are its integer (or float) parameters as
 * strings, as given on the command line. */
int sl_topo_generate(const char *kind, int argc, char *const argv[],
		     struct sl_topo **out, struct sl_err *err);
/* One line of usage per generator, for --help. */
extern const char *const sl_gen_usage;

/* lib/prefix.c: addresses. */
/* Parses "10.0.0.1/24", "fd00::1/64"; without "/len" the full length is
 * taken when allow_bare. Returns 0 or -EINVAL. */
int sl_prefix_parse(const char *s, struct sl_prefix *p, bool allow_bare);
/* "10.0.0.1/24" into buf (at least 64 bytes); with_len false omits "/len". */
const char *sl_prefix_str(const struct sl_prefix *p, char *buf, size_t len,
			  bool with_len);
bool sl_prefix_overlap(const struct sl_prefix *a, const struct sl_prefix *b);
bool sl_prefix_contains(const struct sl_prefix *outer,
			const struct sl_prefix *inner);
/* Clears the host bits. */
void sl_prefix_mask(struct sl_prefix *p);
/* The network address + n (host part), keeping len. */
int sl_prefix_add(const struct sl_prefix *base, uint64_t n,
		  struct sl_prefix *out);
int sl_prefix_bits(const struct sl_prefix *p); /* 32 or 128 */
bool sl_prefix_bit(const struct sl_prefix *p, int i);

#endif
