// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_validate.c - every way a topology is rejected, with the exact
 * message: "<source>: <json path>: <problem>; expected <what>". Inputs are
 * files (through sl_topo_parse) and, for checks a file cannot reach, models
 * built directly (through sl_topo_validate).
 *
 * The JSON below is written with ' for " to stay readable; quote() swaps
 * them before parsing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/topo.h>

#define NAME_RULE "1 to 31 letters, digits, '_' or '-', starting with a letter"
#define TOPO_RULE "1 to 23 letters, digits, '_' or '-', starting with a letter"
#define N3 "'nodes': [{'name': 'h1'}, {'name': 'r1'}, {'name': 'h2'}]"
#define OVERLAP "expected node addresses and link subnets that do not overlap"
#define NOT_DUAL \
	"but the topology is not dual-stack; expected \"ipv6\": true at the top level, or no IPv6 addresses"

struct bad {
	const char *json;
	const char *msg;
};

static const struct bad bad_files[] = {
	/* syntax and the top level */
	{ "{'name': 'x',}",
	  "t.json:1:14: invalid JSON: unexpected character; expected strict JSON (no comments, no trailing commas)" },
	{ "{'name': 'x',\n 'nodes': [{'name': 'a'}]\n}\n// end",
	  "t.json:4:1: invalid JSON: unexpected character; expected strict JSON (no comments, no trailing commas)" },
	{ "{'name': 'x', 'nodes': [",
	  "t.json:1:25: invalid JSON: unexpected end of the text; expected a complete JSON object" },
	{ "[1, 2]",
	  "t.json: (top level): got an array; expected an object with \"name\" and \"nodes\"" },
	{ "{'name': 'x', " N3 ", 'linkz': []}",
	  "t.json: linkz: unknown key; expected one of name, ipv6, pool, pool6, nodes, links, flows, socket_redirect" },
	{ "{" N3 "}",
	  "t.json: name: missing; expected the topology name, " TOPO_RULE },
	{ "{'name': 5, " N3 "}",
	  "t.json: name: got an integer; expected the topology name, " TOPO_RULE },
	{ "{'name': 'abcdefghijklmnopqrstuvwx', " N3 "}",
	  "t.json: name: \"abcdefghijklmnopqrstuvwx\" is too long (24 characters); expected " TOPO_RULE },
	{ "{'name': 'my topo', " N3 "}",
	  "t.json: name: \"my topo\" has a space at position 3; expected " TOPO_RULE },
	{ "{'name': 'x', 'ipv6': 'yes', " N3 "}",
	  "t.json: ipv6: got a string; expected true or false" },
	{ "{'name': 'x'}",
	  "t.json: nodes: missing; expected an array of nodes such as [{\"name\": \"h1\"}]" },
	{ "{'name': 'x', 'nodes': []}",
	  "t.json: nodes: the array is empty; expected at least one node" },
	{ "{'name': 'x', 'nodes': {'h1': {}}}",
	  "t.json: nodes: got an object; expected an array of nodes such as [{\"name\": \"h1\"}]" },
	{ "{'name': 'x', " N3 ", 'links': {}}",
	  "t.json: links: got an object; expected an array of links such as [{\"endpoints\": [\"h1\", \"r1\"]}]" },

	/* pools */
	{ "{'name': 'x', 'pool': '10.0.0.1/16', " N3 "}",
	  "t.json: pool: 10.0.0.1/16 is not a network address (host bits set); expected 10.0.0.0/16" },
	{ "{'name': 'x', 'pool': '10.0.0.0/31', " N3 "}",
	  "t.json: pool: the length /31 of 10.0.0.0/31 is out of range; expected an IPv4 network with a length from 8 to 30 such as 10.0.0.0/16" },
	{ "{'name': 'x', 'pool': '10.0.0.0', " N3 "}",
	  "t.json: pool: \"10.0.0.0\" has no prefix length; expected an IPv4 network such as 10.0.0.0/16" },
	{ "{'name': 'x', 'pool': 'fd00::/64', " N3 "}",
	  "t.json: pool: \"fd00::/64\" is an IPv6 address; expected an IPv4 network such as 10.0.0.0/16" },
	{ "{'name': 'x', 'pool6': 'fd00::/64', " N3 "}",
	  "t.json: pool6: an IPv6 pool but the topology is not dual-stack; expected \"ipv6\": true at the top level, or no \"pool6\"" },
	{ "{'name': 'x', 'ipv6': true, 'pool6': 'fd00::/8', " N3 "}",
	  "t.json: pool6: the length /8 of fd00::/8 is out of range; expected an IPv6 network with a length from 16 to 120 such as fd5c:1::/64" },

	/* nodes */
	{ "{'name': 'x', 'nodes': [{'name': 'h1'}, {'name': 'r1'}, {'nmae': 'h2'}]}",
	  "t.json: nodes[2].nmae: unknown key; expected one of name, kind, addresses" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'my key': 1}]}",
	  "t.json: nodes[0].\"my key\": unknown key; expected one of name, kind, addresses" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'a\\u0022b\\\\': 1}]}",
	  "t.json: nodes[0].\"a\\\"b\\\\\": unknown key; expected one of name, kind, addresses" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij': 1}]}",
	  "t.json: nodes[0].\"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv...\": unknown key; expected one of name, kind, addresses" },
	{ "{'name': 'x', 'nodes': ['h1']}",
	  "t.json: nodes[0]: got a string; expected an object with a \"name\" such as {\"name\": \"h1\"}" },
	{ "{'name': 'x', 'nodes': [{'kind': 'host'}]}",
	  "t.json: nodes[0].name: missing; expected the node name such as \"h1\"" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1'}, {'name': '1h'}]}",
	  "t.json: nodes[1].name: \"1h\" does not start with a letter; expected " NAME_RULE },
	{ "{'name': 'x', 'nodes': [{'name': ''}]}",
	  "t.json: nodes[0].name: the name is empty; expected " NAME_RULE },
	{ "{'name': 'x', 'nodes': [{'name': 'abcdefghijklmnopqrstuvwxyz012345'}]}",
	  "t.json: nodes[0].name: \"abcdefghijklmnopqrstuvwxyz012345\" is too long (32 characters); expected " NAME_RULE },
	{ "{'name': 'x', 'nodes': [{'name': 'h.1'}]}",
	  "t.json: nodes[0].name: \"h.1\" has a bad character '.' at position 2; expected " NAME_RULE },
	{ "{'name': 'x', 'nodes': [{'name': 'h\\u00e91'}]}",
	  "t.json: nodes[0].name: \"h\\xc3\\xa91\" has a bad character (byte 0xc3) at position 2; expected " NAME_RULE },
	{ "{'name': 'x', 'nodes': [{'name': 'h\\u0000x'}]}",
	  "t.json: nodes[0].name: the string contains a NUL character; expected the node name as a string such as \"h1\"" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1'}, {'name': 'r1'}, {'name': 'h2'}, {'name': 'x'}, {'name': 'h1'}]}",
	  "t.json: nodes[4].name: duplicate name \"h1\" (also nodes[0]); expected a name no other node has" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'kind': 'switch'}]}",
	  "t.json: nodes[0].kind: \"switch\" is not a node kind; expected \"host\" or \"router\"" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'addresses': '10.9.0.1'}]}",
	  "t.json: nodes[0].addresses: got a string; expected an array of at most one IPv4 and one IPv6 address" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'addresses': ['10.0.0.300']}]}",
	  "t.json: nodes[0].addresses[0]: \"10.0.0.300\" is not an address; expected an IPv4 or IPv6 address such as 10.9.0.1 or fd00::1, optionally with /len" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'addresses': ['10.9.0.1', '10.9.0.2']}]}",
	  "t.json: nodes[0].addresses[1]: a second IPv4 address 10.9.0.2/32 (the first is addresses[0]); expected at most one IPv4 and one IPv6 address per node" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'addresses': ['fd00::1']}]}",
	  "t.json: nodes[0].addresses[0]: an IPv6 address " NOT_DUAL },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'addresses': ['10.9.0.0/24']}]}",
	  "t.json: nodes[0].addresses: 10.9.0.0/24 is the network address of its subnet; expected a host address such as 10.9.0.1/24" },
	{ "{'name': 'x', 'nodes': [{'name': 'h1', 'addresses': ['10.9.0.1']}, {'name': 'h2', 'addresses': ['10.9.0.1/32']}]}",
	  "t.json: nodes[1].addresses: address 10.9.0.1/32 overlaps address 10.9.0.1/32 of nodes[0]; " OVERLAP },
	{ "{'name': 'x', 'ipv6': true, 'nodes': [{'name': 'h1', 'addresses': ['fd00::1/64']}, {'name': 'h2', 'addresses': ['fd00::2']}]}",
	  "t.json: nodes[1].addresses: address fd00::2/128 overlaps address fd00::1/64 of nodes[0]; " OVERLAP },

	/* links: shape and endpoints */
	{ "{'name': 'x', " N3 ", 'links': [['h1', 'r1']]}",
	  "t.json: links[0]: got an array; expected an object with \"endpoints\" such as {\"endpoints\": [\"h1\", \"r1\"]}" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'rate': '1mbit'}]}",
	  "t.json: links[0].rate: unknown key; expected one of endpoints, mtu, mode, policy" },
	{ "{'name': 'x', " N3 ", 'links': [{'mtu': 1500}]}",
	  "t.json: links[0].endpoints: missing; expected an array of the 2 nodes the link joins, such as [\"h1\", \"r1\"]" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': 'h1-r1'}]}",
	  "t.json: links[0].endpoints: got a string; expected an array of exactly 2 endpoints such as [\"h1\", \"r1\"]" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1', 'h2']}]}",
	  "t.json: links[0].endpoints: 3 endpoints; expected an array of exactly 2 endpoints such as [\"h1\", \"r1\"]" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1']}, {'endpoints': ['r1', 'h2']},"
	  " {'endpoints': [{'node': 'h2'}, 'h1']}, {'endpoints': ['h1', 'h9']}]}",
	  "t.json: links[3].endpoints[1]: unknown node \"h9\"; expected the name of a node in \"nodes\"" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'H1'}, 'r1']}]}",
	  "t.json: links[0].endpoints[0].node: unknown node \"H1\"; expected the name of a node in \"nodes\"" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [1, 'r1']}]}",
	  "t.json: links[0].endpoints[0]: got an integer; expected a node name, or an object {\"node\": ..., \"address\": ..., \"address6\": ...}" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'address': '10.1.0.1/24'}, 'r1']}]}",
	  "t.json: links[0].endpoints[0].node: missing; expected the name of a node in \"nodes\"" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'addr': '10.1.0.1/24'}, 'r1']}]}",
	  "t.json: links[0].endpoints[0].addr: unknown key; expected one of node, address, address6" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1']}, {'endpoints': ['r1', 'r1']}]}",
	  "t.json: links[1].endpoints: both endpoints are node \"r1\"; expected two different nodes" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1']}, {'endpoints': ['r1', 'h2']}, {'endpoints': ['r1', 'h1']}]}",
	  "t.json: links[2].endpoints: duplicate link between \"r1\" and \"h1\" (also links[0]); expected at most one link between two nodes" },

	/* links: mtu and mode */
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'mtu': 70000}]}",
	  "t.json: links[0].mtu: 70000 is out of range; expected an integer from 68 to 65535" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'mtu': -1}]}",
	  "t.json: links[0].mtu: -1 is out of range; expected an integer from 68 to 65535" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'mtu': '1500'}]}",
	  "t.json: links[0].mtu: got a string; expected an integer from 68 to 65535" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'mtu': 1500.5}]}",
	  "t.json: links[0].mtu: got a number; expected an integer from 68 to 65535" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'mode': 'fast'}]}",
	  "t.json: links[0].mode: \"fast\" is not a mode; expected \"auto\", \"max\" or \"normal\"" },

	/* links: addresses */
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': 'fd00::1/64'}, 'r1']}]}",
	  "t.json: links[0].endpoints[0].address: \"fd00::1/64\" is an IPv6 address; expected an IPv4 address with its prefix length such as 10.1.0.1/24" },
	{ "{'name': 'x', 'ipv6': true, " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address6': '10.1.0.1/24'}, 'r1']}]}",
	  "t.json: links[0].endpoints[0].address6: \"10.1.0.1/24\" is an IPv4 address; expected an IPv6 address with its prefix length such as fd00:1::1/64" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.1'}, 'r1']}]}",
	  "t.json: links[0].endpoints[0].address: \"10.1.0.1\" has no prefix length; expected an IPv4 address with its prefix length such as 10.1.0.1/24" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': 'ten'}, 'r1']}]}",
	  "t.json: links[0].endpoints[0].address: \"ten\" is not an address; expected an IPv4 address with its prefix length such as 10.1.0.1/24" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address6': 'fd00::1/64'}, 'r1']}]}",
	  "t.json: links[0].endpoints[0].address6: an IPv6 address " NOT_DUAL },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.1/24'}, 'r1']}]}",
	  "t.json: links[0].endpoints[1]: no \"address\" while endpoints[0] has 10.1.0.1/24; expected an IPv4 address on both endpoints of a link or on neither" },
	{ "{'name': 'x', 'ipv6': true, " N3 ", 'links': [{'endpoints': ['h1', {'node': 'r1', 'address6': 'fd00::1/64'}]}]}",
	  "t.json: links[0].endpoints[0]: no \"address6\" while endpoints[1] has fd00::1/64; expected an IPv6 address on both endpoints of a link or on neither" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.1/24'}, {'node': 'r1', 'address': '10.2.0.2/24'}]}]}",
	  "t.json: links[0].endpoints[1].address: 10.2.0.2/24 is not in the subnet 10.1.0.0/24 of endpoints[0]; expected an address in the same subnet as the other endpoint" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.1/24'}, {'node': 'r1', 'address': '10.1.0.2/25'}]}]}",
	  "t.json: links[0].endpoints[1].address: 10.1.0.2/25 is not in the subnet 10.1.0.0/24 of endpoints[0]; expected an address in the same subnet as the other endpoint" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.1/24'}, {'node': 'r1', 'address': '10.1.0.1/24'}]}]}",
	  "t.json: links[0].endpoints[1].address: 10.1.0.1/24 is also the address of endpoints[0]; expected a different address in the same subnet" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.0/24'}, {'node': 'r1', 'address': '10.1.0.1/24'}]}]}",
	  "t.json: links[0].endpoints[0].address: 10.1.0.0/24 is the network address of its subnet; expected a host address such as 10.1.0.1/24" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.1/24'}, {'node': 'r1', 'address': '10.1.0.255/24'}]}]}",
	  "t.json: links[0].endpoints[1].address: 10.1.0.255/24 is the broadcast address of its subnet; expected a host address such as 10.1.0.1/24" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.1/24'}, {'node': 'r1', 'address': '10.1.0.2/24'}]},"
	  " {'endpoints': [{'node': 'r1', 'address': '10.1.0.129/25'}, {'node': 'h2', 'address': '10.1.0.130/25'}]}]}",
	  "t.json: links[1].endpoints[0].address: subnet 10.1.0.128/25 overlaps subnet 10.1.0.0/24 of links[0]; " OVERLAP },
	{ "{'name': 'x', 'nodes': [{'name': 'h1'}, {'name': 'r1', 'addresses': ['10.1.0.5']}],"
	  " 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.1/24'}, {'node': 'r1', 'address': '10.1.0.2/24'}]}]}",
	  "t.json: links[0].endpoints[0].address: subnet 10.1.0.0/24 overlaps address 10.1.0.5/32 of nodes[1]; " OVERLAP },
	{ "{'name': 'x', 'pool': '10.0.0.0/16', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.0.0.1/8'}, {'node': 'r1', 'address': '10.0.0.2/8'}]}]}",
	  "t.json: links[0].endpoints[0].address: subnet 10.0.0.0/8 covers the whole pool 10.0.0.0/16; expected addresses inside the pool or outside it" },

	/* policies */
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1']}, {'endpoints': ['r1', 'h2']},"
	  " {'endpoints': ['h1', 'h2'], 'policy': {'up': {'rate': 'fast'}}}]}",
	  "t.json: links[2].policy.up.rate: \"fast\" is not a rate; expected a number with a unit such as 10mbit, 1gbit" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': '10mbit'}]}",
	  "t.json: links[0].policy: got a string; expected an object with any of rate, delay, jitter, loss, queue, policer, burst, seed, cells, or with \"up\" and/or \"down\"" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'bandwidth': '10mbit'}}]}",
	  "t.json: links[0].policy: unknown key \"bandwidth\"; expected one of loss, loss_trace, duplicate, corrupt, policer, rate, burst, queue, trace, trace_once, delay, jitter, distribution, reorder, gap, delay_trace, capture, seed or cells" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'up': {}, 'rate': '10mbit'}}]}",
	  "t.json: links[0].policy.rate: unknown key; expected one of up, down (a policy with \"up\" or \"down\" has nothing else)" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'down': {'rat': '10mbit'}}}]}",
	  "t.json: links[0].policy.down: unknown key \"rat\"; expected one of loss, loss_trace, duplicate, corrupt, policer, rate, burst, queue, trace, trace_once, delay, jitter, distribution, reorder, gap, delay_trace, capture, seed or cells" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'up': '10mbit'}}]}",
	  "t.json: links[0].policy.up: got a string; expected an object with any of rate, delay, jitter, loss, queue, policer, burst, seed, cells" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'rate': 10000000}}]}",
	  "t.json: links[0].policy.rate: got an integer; expected a string: a number with a unit such as 10mbit, 1gbit" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'delay': '10'}}]}",
	  "t.json: links[0].policy.delay: \"10\" is not a time; expected a number with a unit such as 10ms, 250us, 1s" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'jitter': '-1ms'}}]}",
	  "t.json: links[0].policy.jitter: \"-1ms\" is not a time; expected a number with a unit such as 10ms, 250us, 1s" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'loss': '150%'}}]}",
	  "t.json: links[0].policy.loss: \"150%\" is not a fraction; expected a percentage from 0% to 100% such as 1% or 0.5%, or a fraction from 0 to 1 such as 0.01" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'queue': '0pkt'}}]}",
	  "t.json: links[0].policy.queue: \"0pkt\" is not a queue size; expected a size such as 100pkt, 1500b or 64kb (k = 1024)" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'cells': {'type': 'delay'}}}]}",
	  "t.json: links[0].policy.cells: got an object; expected an array of cells, each an object with a \"type\"" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'down': {'cells': [{'type': 'delay'}, {'ms': 5}]}}}]}",
	  "t.json: links[0].policy.down.cells[1].type: missing; expected the cell type as a string such as \"delay\"" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'cells': ['delay']}}]}",
	  "t.json: links[0].policy.cells[0]: got a string; expected an object with a \"type\" such as \"delay\"" },
	{ "{'name': 'x', " N3 ", 'links': [{'endpoints': ['h1', 'r1'], 'policy': {'cells': [{'type': 7}]}}]}",
	  "t.json: links[0].policy.cells[0].type: got an integer; expected the cell type as a string such as \"delay\"" },
};

/* ' -> " so the cases above parse as JSON */
static char *quote(const char *s)
{
	char *d = strdup(s), *p;

	assert_non_null(d);
	for (p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static void test_bad_files(void **state)
{
	size_t i, n = sizeof(bad_files) / sizeof(bad_files[0]);
	struct sl_topo *t;
	struct sl_err err;
	char *text;
	int ret;

	(void)state;
	assert_true(n >= 30);
	for (i = 0; i < n; i++) {
		text = quote(bad_files[i].json);
		t = (struct sl_topo *)&err; /* must be reset to NULL */
		memset(&err, 0, sizeof(err));
		ret = sl_topo_parse(text, strlen(text), "t.json", &t, &err);
		free(text);
		if (ret != -EINVAL || strcmp(err.msg, bad_files[i].msg))
			fail_msg("case %zu: ret %d\n   got: %s\nwanted: %s", i,
				 ret, err.msg, bad_files[i].msg);
		assert_null(t);
	}
}

static void test_too_many_nodes(void **state)
{
	size_t n = SL_NODES_MAX + 1, i, cap = n * 24 + 64, len = 0;
	char *text = malloc(cap);
	struct sl_topo *t = NULL;
	struct sl_err err;

	(void)state;
	assert_non_null(text);
	len += (size_t)snprintf(text, cap, "{\"name\": \"big\", \"nodes\": [");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"%s{\"name\":\"n%zu\"}", i ? "," : "",
					i);
	len += (size_t)snprintf(text + len, cap - len, "]}");
	assert_int_equal(sl_topo_parse(text, len, "big.json", &t, &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    "big.json: nodes: 65537 nodes; expected at most 65536");
	assert_null(t);

	/* exactly the maximum is fine (and fast: names are hashed) */
	len = (size_t)(strrchr(text, ',') - text);
	memcpy(text + len, "]}", 3);
	len += 2;
	assert_int_equal(sl_topo_parse(text, len, "big.json", &t, &err), 0);
	assert_int_equal(t->n_nodes, SL_NODES_MAX);
	sl_topo_free(t);
	free(text);
}

/* Models built directly, as a generator or a later edit could. */
static struct sl_topo *model(void)
{
	struct sl_topo *t = sl_topo_new("m");

	assert_non_null(t);
	t->source = strdup("<model>");
	assert_int_equal(sl_topo_add_node(t, "a", SL_NODE_ROUTER), 0);
	assert_int_equal(sl_topo_add_node(t, "b", SL_NODE_HOST), 1);
	assert_int_equal(sl_topo_add_link(t, 0, 1, 0), 0);
	return t;
}

static void expect_invalid(struct sl_topo *t, const char *msg)
{
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_topo_validate(t, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	sl_topo_free(t);
}

static void test_bad_models(void **state)
{
	struct sl_err err = { { 0 } };
	struct sl_topo *t;

	(void)state;
	t = model();
	assert_int_equal(sl_topo_validate(t, &err), 0);
	assert_string_equal(t->links[0].ep[1].port, "b-eth0");
	sl_topo_free(t);

	t = model();
	snprintf(t->name, sizeof(t->name), "9lives");
	expect_invalid(t, "<model>: name: \"9lives\" does not start with a letter; expected " TOPO_RULE);

	t = model();
	t->links[0].mtu = 0;
	expect_invalid(t, "<model>: links[0].mtu: 0 is out of range; expected an integer from 68 to 65535");

	t = model();
	t->links[0].mode = (enum sl_link_mode)7;
	expect_invalid(t, "<model>: links[0].mode: 7 is not a mode; expected \"auto\", \"max\" or \"normal\"");

	t = model();
	t->nodes[1].kind = (enum sl_node_kind)5;
	expect_invalid(t, "<model>: nodes[1].kind: 5 is not a node kind; expected \"host\" or \"router\"");

	/* A self-link cannot even be built: the model refuses it. */
	t = model();
	assert_int_equal(sl_topo_add_link(t, 1, 1, 1500), -EINVAL);
	assert_int_equal(t->n_links, 1);
	sl_topo_free(t);

	t = model();
	assert_int_equal(sl_topo_add_link(t, 1, 0, 1500), 1);
	expect_invalid(t, "<model>: links[1].endpoints: duplicate link between \"b\" and \"a\" (also links[0]); expected at most one link between two nodes");

	t = model();
	assert_int_equal(sl_topo_add_node(t, "a", SL_NODE_HOST), 2);
	expect_invalid(t, "<model>: nodes[2].name: duplicate name \"a\" (also nodes[0]); expected a name no other node has");

	/* an address of the wrong family in a slot */
	t = model();
	sl_prefix_parse("fd00::1", &t->nodes[0].lo4, true);
	expect_invalid(t, "<model>: nodes[0].addresses: fd00::1/128 is not an IPv4 address; expected an IPv4 address");

	t = model();
	sl_prefix_parse("fd00::/64", &t->pool4, false);
	expect_invalid(t, "<model>: pool: fd00::/64 is not an IPv4 network; expected an IPv4 network such as 10.0.0.0/16");

	/* no source: a placeholder still says where */
	t = model();
	free(t->source);
	t->source = NULL;
	t->links[0].mtu = 65536;
	expect_invalid(t, "<topology>: links[0].mtu: 65536 is out of range; expected an integer from 68 to 65535");

	/* an empty model */
	t = sl_topo_new("empty");
	expect_invalid(t, "<topology>: nodes: there are no nodes; expected at least one node");
}

/* Addresses that touch but do not overlap, and pools with addresses
 * inside, are fine. */
static void test_good_edges(void **state)
{
	static const char *const good[] = {
		"{'name': 'x', 'pool': '10.0.0.0/16', 'nodes': [{'name': 'h1', 'addresses': ['10.0.0.1']}, {'name': 'r1', 'addresses': ['10.1.0.1']}],"
		" 'links': [{'endpoints': [{'node': 'h1', 'address': '10.0.1.1/24'}, {'node': 'r1', 'address': '10.0.1.2/24'}]}]}",
		"{'name': 'x', " N3 ", 'links': [{'endpoints': [{'node': 'h1', 'address': '10.1.0.1/25'}, {'node': 'r1', 'address': '10.1.0.126/25'}]},"
		" {'endpoints': [{'node': 'r1', 'address': '10.1.0.129/25'}, {'node': 'h2', 'address': '10.1.0.254/25'}]}]}",
		"{'name': 'x', 'ipv6': true, 'nodes': [{'name': 'h1', 'addresses': ['fd00::1', '10.0.0.1']}, {'name': 'h2', 'addresses': ['fd00::2']}]}",
		"{'name': 'x', 'ipv6': false, 'nodes': [{'name': 'a-b_C9'}]}",
	};
	struct sl_err err = { { 0 } };
	struct sl_topo *t;
	size_t i;
	char *text;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		text = quote(good[i]);
		t = NULL;
		if (sl_topo_parse(text, strlen(text), "t.json", &t, &err))
			fail_msg("case %zu: %s", i, err.msg);
		free(text);
		sl_topo_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_bad_models),
		cmocka_unit_test(test_good_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
