// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * main.c - sluicectl's entry point: global options, the command table and
 * the help texts. The commands themselves live in cmd_*.c, one file per
 * group; the table here is the single list of what sluicectl can do, so
 * `sluicectl --help`, `help COMMAND` and dispatch cannot disagree.
 */
#include <stdlib.h>
#include <string.h>

#include "sluicectl.h"

static const struct ctl_cmd commands[] = {
	{ "up", cmd_up, "up FILE [--name NAME] [--no-start]\n"
	  "--controller URL up FILE [--name NAME] [--host HOST] [--timeout S] [--no-wait]",
	  "bring a topology up from a file ('-' for stdin)",
	  "Reads the topology FILE ('-' reads standard input), checks it, and asks\n"
	  "sluiced to build it: one network namespace per node, one emulated wire\n"
	  "per link. The file is checked here first: an invalid file is reported\n"
	  "(file, field, what was expected) and nothing else happens.\n"
	  "\n"
	  "When no sluiced is running, one is started in the background\n"
	  "(`sluiced --daemonize`, the sluiced next to sluicectl or else the one in\n"
	  "PATH) and its log goes to $SLUICE_RUNDIR/sluiced.log.\n"
	  "\n"
	  "While a large topology comes up, a progress line is shown on a terminal\n"
	  "(with -v also when standard error is not a terminal). At the end a\n"
	  "summary is printed: \"demo: 3 nodes, 2 links up in 0.04 s\".\n"
	  "\n"
	  "Options:\n"
	  "  -n, --name NAME   use NAME as the topology's name instead of the file's\n"
	  "                    (1-23 letters, digits, '-', '_', starting with a letter)\n"
	  "      --no-start    fail instead of starting sluiced when none is running\n"
	  "\n"
	  "With --controller URL (or $SLUICE_CONTROLLER), the checked file goes to\n"
	  "sluice-controller, which places it on a connected host; sluicectl then\n"
	  "waits until that host has it up (or refused it) and prints\n"
	  "\"demo: 3 nodes, 2 links up on host h1 in 0.31 s\".\n"
	  "      --host HOST   place it on HOST (default: the controller's choice)\n"
	  "      --timeout S   give up waiting after S seconds (default 60)\n"
	  "      --no-wait     return once the controller accepted it (\"applying\")\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl up examples/demo.json\n"
	  "  sluicectl up examples/demo.json --name demo2\n"
	  "  sluicectl gen fat-tree 4 | sluicectl up -\n"
	  "  sluicectl --controller http://ctl:7700 up examples/demo.json\n",
	  NULL },
	{ "down", cmd_down, "down [NAME | --all]\n--controller URL down NAME | --all",
	  "tear a topology down (idempotent)",
	  "Removes the topology NAME (or the only one that is up when NAME is\n"
	  "omitted, or every topology with --all) with all its namespaces,\n"
	  "interfaces and programs, and prints what was removed. A topology that\n"
	  "is not up is not an error, and neither is a daemon that is not running:\n"
	  "there is nothing to remove then.\n"
	  "\n"
	  "Options:\n"
	  "  -a, --all   remove every topology\n"
	  "\n"
	  "With --controller URL, the controller marks the topology down and sends\n"
	  "a teardown to the hosts that carry it; NAME (or --all) is required, and a\n"
	  "name the controller does not know is an error (exit status 1).\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl down demo\n"
	  "  sluicectl down --all\n"
	  "  sluicectl --controller http://ctl:7700 down demo\n",
	  NULL },
	{ "list", cmd_list, "list", "list the topologies that are up",
	  "Prints one line per topology: NAME NODES LINKS STATE AGE.\n"
	  "\n"
	  "With --controller URL, lists the controller's topologies (every one not\n"
	  "down): NAME STATE HOST NODES LINKS ERROR, STATE being applying, up or\n"
	  "failed.\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl list\n"
	  "  sluicectl --json list | jq -r '.topologies[].name'\n"
	  "  sluicectl --controller http://ctl:7700 list\n",
	  NULL },
	{ "nodes", cmd_nodes, "nodes [NAME]", "list the nodes of topologies",
	  "Prints one line per node of topology NAME (default: every topology):\n"
	  "TOPOLOGY NODE KIND ADDRESS INTERFACES. ADDRESS is the node's stable\n"
	  "address (on its loopback; what its name resolves to inside the\n"
	  "topology); INTERFACES lists each interface and the node at its other\n"
	  "end, as eth0->r1.\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl nodes\n"
	  "  sluicectl nodes demo\n",
	  NULL },
	{ "links", cmd_links, "links [NAME]", "list the links of topologies",
	  "Prints one line per link of topology NAME (default: every topology):\n"
	  "TOPOLOGY A B A-IF B-IF MTU STATE POLICY. A-IF and B-IF are the\n"
	  "interfaces inside nodes A and B; POLICY is the link's shaping, per\n"
	  "direction when the two differ (up is A to B), or '-' for none.\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl links\n"
	  "  sluicectl --json links demo\n",
	  NULL },
	{ "status", cmd_status, "status", "show whether sluiced runs, and how",
	  "Prints sluiced's version, process id, uptime, socket, state\n"
	  "directory and topologies. Exits with status 1 and prints\n"
	  "\"sluiced is not running\" when no daemon answers.\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl status\n"
	  "  sluicectl status >/dev/null && echo running\n",
	  NULL },
	{ "exec", cmd_exec, "exec NODE [--] [COMMAND [ARGS...]]",
	  "run a command inside a node",
	  "Runs COMMAND (default: $SHELL, else /bin/sh) inside NODE: in the node's\n"
	  "network namespace, with a /sys of that namespace and the topology's\n"
	  "hosts file as /etc/hosts, so node names resolve. Standard input, output\n"
	  "and error are the command's; the exit status is the command's own\n"
	  "(127 when it cannot be found, 126 when it cannot be run). NODE is\n"
	  "'node', or 'topology:node' when several topologies are up. Everything\n"
	  "after NODE belongs to COMMAND; '--' may separate them. SLUICE_NODE\n"
	  "(topology:node) and SLUICE_TOPOLOGY are set in its environment.\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl exec h1\n"
	  "  sluicectl exec h1 ip -br addr\n"
	  "  sluicectl exec demo:h2 -- iperf3 -s -D\n"
	  "  sluicectl exec h1 iperf3 -c h2 -t 5\n",
	  NULL },
	{ "ping", cmd_ping, "ping A B [-c COUNT] [-i INTERVAL] [-6]",
	  "ping node B from node A",
	  "Runs `ping -c COUNT -i INTERVAL ADDRESS` inside node A, where ADDRESS is\n"
	  "node B's address (IPv4, or IPv6 with -6). The exit status is ping's:\n"
	  "0 when replies came back. B is looked up in A's topology unless given\n"
	  "as 'topology:node'.\n"
	  "\n"
	  "Options:\n"
	  "  -c, --count COUNT        number of pings (default 3)\n"
	  "  -i, --interval SECONDS   time between pings (default 0.2)\n"
	  "  -6, --ipv6               ping B's IPv6 address (dual-stack topologies)\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl ping h1 h2\n"
	  "  sluicectl ping -c 10 -i 0.01 demo:h1 h3\n",
	  NULL },
	{ "shell", cmd_shell,
	  "shell [--rate R] [--delay T] [--loss P] [--up-OPT V] [--down-OPT V]... [--no-nat-out] [--] [COMMAND [ARGS...]]",
	  "run a command behind an emulated link to the host (like mm-link)",
	  "Runs COMMAND (default: $SHELL, interactive) in a network namespace whose\n"
	  "traffic to the host crosses one emulated link, as mahimahi's mm-link and\n"
	  "mm-delay do. sluicectl brings up a topology sh<pid> of two nodes, shell\n"
	  "and gw (starting sluiced when none runs), joins gw to the host with a\n"
	  "veth pair (slsh<pid> on the host's side, a /31 out of 100.64.0.0/10) and\n"
	  "masquerades the shell's traffic there, so the host answers it; beyond\n"
	  "the host the traffic goes through NAT too, as with mm-link. When\n"
	  "COMMAND ends, or sluicectl gets INT, TERM or HUP, everything is removed\n"
	  "and sluicectl exits with COMMAND's status (128+N when killed by signal N).\n"
	  "Inside, SLUICE_SHELL=1 and SLUICE_HOST_ADDR (the host's address on the\n"
	  "uplink) are set, and node names resolve as with exec.\n"
	  "\n"
	  "Link options. Each also exists as --up-OPT (from the shell towards the\n"
	  "host) and --down-OPT (towards the shell), which win over the plain form;\n"
	  "a direction's own --up-trace replaces a shared --rate, and vice versa.\n"
	  "mm-link's --uplink-OPT and --downlink-OPT spellings work too.\n"
	  "      --rate RATE        capacity, e.g. 12mbit\n"
	  "      --trace FILE       capacity from a mahimahi trace (one 1500-byte\n"
	  "                         opportunity a line); it repeats at its end\n"
	  "      --trace-once       play the trace once, then deliver nothing\n"
	  "      --delay TIME       one-way delay, e.g. 20ms\n"
	  "      --jitter TIME      jitter around the delay (uniform)\n"
	  "      --loss FRACTION    random loss, e.g. 0.5%\n"
	  "      --queue SIZE|TYPE  the queue behind the rate or trace: a size (100pkt,\n"
	  "                         64kb, unlimited) or droptail, drophead, infinite,\n"
	  "                         codel, pie, red\n"
	  "      --aqm TYPE         the queue's type alone, e.g. codel\n"
	  "      --queue-args ARGS  mm-link's queue arguments: packets=N, bytes=N,\n"
	  "                         target=MS, interval=MS, or any parameter of the\n"
	  "                         queue cell (see 'sluicectl cells codel')\n"
	  "      --seed N           seed of the random cells (loss, jitter)\n"
	  "      --policy JSON      a whole direction policy (docs/cells.md); the\n"
	  "                         options above add to it\n"
	  "\n"
	  "Options:\n"
	  "  -n, --name NAME   the topology's name (default sh<pid>)\n"
	  "      --no-nat-out  reach the host only: no NAT beyond it (by default the\n"
	  "                    uplink is masqueraded in the host's namespace, nft\n"
	  "                    table sluice_<name>, and ip_forward turned on while\n"
	  "                    any shell needs it; both are undone at the end)\n"
	  "      --nat-out     the default, said explicitly: without nft it is an\n"
	  "                    error instead of a warning\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl shell --rate 12mbit --delay 20ms --loss 0.5%\n"
	  "  sluicectl shell --delay 25ms -- sh -c 'ping -c 5 $SLUICE_HOST_ADDR'\n"
	  "  sluicectl shell --up-trace TMobile-LTE-short.up \\\n"
	  "      --down-trace TMobile-LTE-short.down --down-aqm codel\n"
	  "  sluicectl shell --delay 50ms -- curl -sI https://example.org\n"
	  "  sluicectl shell --no-nat-out --rate 10mbit -- sh -c 'iperf3 -c $SLUICE_HOST_ADDR'\n",
	  NULL },
	{ "link", cmd_link, "link set A B up|down|SETTING... [--name TOPO]",
	  "change a link at run time",
	  "Changes the link between nodes A and B at run time, with one or more\n"
	  "of the settings listed below.\n"
	  "\n"
	  "Options:\n"
	  "  -n, --name TOPO   the topology (needed when several are up and A, B\n"
	  "                    are not given as 'topology:node')\n"
	  "\n"
	  "With --controller URL, the policy settings become one 'policy set' at\n"
	  "the controller (the same REST call): they replace the direction's\n"
	  "policy there, and up/down are not available.\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl link set h1 r1 down\n"
	  "  sluicectl link set h1 r1 up --name demo\n"
	  "  sluicectl --controller http://ctl:7700 link set r1 h2 rate 10mbit\n",
	  cmd_link_help },
	{ "cells", cmd_cells, "cells [NAME]",
	  "list the cells a policy can use, with their parameters",
	  "Lists the cells of the policy engine: what each does, and each\n"
	  "parameter with its unit and default. With NAME, only that cell.\n"
	  "A link's policy uses them by shorthand keys ({\"delay\": \"10ms\"}) or\n"
	  "as an explicit list ({\"cells\": [{\"type\": \"codel\"}, ...]}).\n"
	  "No daemon is needed. See docs/cells.md.\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl cells\n"
	  "  sluicectl cells codel\n"
	  "  sluicectl --json cells\n",
	  NULL },
	{ "relay", cmd_relay,
	  "relay add --from NODE:PORT --to NODE:PORT [--via A,B] | add --socks5 NODE:PORT | del ID | list",
	  "run TCP relays on nodes, spliced in the kernel",
	  "Runs TCP relays on nodes (max mode L4): each relay accepts, connects\n"
	  "onward and joins the two sockets in the kernel with splice(2), so the\n"
	  "bytes never reach user space. A chain --from A:P --to D:Q --via B,C puts\n"
	  "a relay in A listening on port P (connect to A:P or 127.0.0.1:P from A),\n"
	  "one in B and one in C, the last forwarding to D:Q. --socks5 NODE:PORT\n"
	  "runs a SOCKS5 front (RFC 1928 CONNECT, no authentication) on NODE.\n"
	  "Relayed bytes skip the link policies on the way (see docs/relay.md).\n"
	  "Chains stop with their topology; a restarted sluiced takes them back.\n"
	  "\n"
	  "With --controller URL, a chain is a relay row at the controller: add\n"
	  "stores it (and returns then; the controller starts it on the host of\n"
	  "the first node, which records an error event if it cannot), list shows\n"
	  "the rows (ID TOPOLOGY RELAY MODE ENABLED HOST VERSION), del ID deletes\n"
	  "the row of that id, and its host stops the chain. --name defaults to\n"
	  "the controller's one topology that has the node.\n"
	  "\n"
	  "Options:\n"
	  "  --from NODE:PORT   the entry relay and its port\n"
	  "  --to NODE:PORT     where the chain ends\n"
	  "  --via A,B          relays in between, in order\n"
	  "  --socks5 NODE:PORT a SOCKS5 front instead of a static chain\n"
	  "  --mode M           splice (default, measured faster) or sockmap\n"
	  "  -n, --name TOPO    the topology (needed when several are up)\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl relay add --from h1:9000 --to h2:5201 --via r1,r2\n"
	  "  sluicectl exec h1 -- iperf3 -c 127.0.0.1 -p 9000\n"
	  "  sluicectl relay add --socks5 h1:1080\n"
	  "  sluicectl relay list\n"
	  "  sluicectl relay del 0\n"
	  "  sluicectl --controller http://ctl:7700 relay add --from h1:9000 --to h2:5201 --via r1\n"
	  "  sluicectl --controller http://ctl:7700 relay list\n",
	  NULL },
	{ "flow", cmd_flow, "flow add RULE... | del ID | list [--name TOPO]",
	  "manage the flow table (per-flow mode and class)",
	  "Manages the flow table of a topology: rules that pick, per packet, the\n"
	  "mode (max: kept in the kernel; normal: the user-space dataplane) and a\n"
	  "class (the packet's mark) of the traffic crossing its links. The rule\n"
	  "with the lowest priority number that matches wins; at most 64 rules.\n"
	  "\n"
	  "A rule is pairs of words, each optional:\n"
	  "  proto tcp|udp|icmp|any   src PREFIX   dst PREFIX\n"
	  "  sport PORTS   dport PORTS (5201 or 1000-2000)\n"
	  "  prio N   mode max|normal   class N\n"
	  "\n"
	  "Options:\n"
	  "  -n, --name TOPO   the topology (needed when several are up)\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl flow add proto tcp dport 5201 mode max class 1\n"
	  "  sluicectl flow list\n"
	  "  sluicectl flow del 0\n",
	  NULL },
	{ "gen", cmd_gen, "gen KIND [ARGS...] [--name NAME]",
	  "print a generated topology (no daemon needed)",
	  "Generates a topology of the given KIND and prints it as a topology file\n"
	  "(JSON) on standard output, to be saved, edited or piped into\n"
	  "`sluicectl up -`. The generators and their arguments are listed below.\n"
	  "\n"
	  "Options:\n"
	  "  -n, --name NAME   the topology's name (default: the generator's)\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl gen linear 4 > line.json\n"
	  "  sluicectl gen fat-tree 4 --name ft | sluicectl up -\n",
	  cmd_gen_help },
	{ "stats", cmd_remote, "stats [--name TOPO] [--cells] [A B] | --controller URL stats [TOPOLOGY]",
	  "show the links' counters (and the cells' queues)",
	  "Without a controller: the local sluiced's counters of every link\n"
	  "direction, from wherever it runs: TOPOLOGY DIRECTION MODE PACKETS BYTES\n"
	  "DROPS QUEUE. MODE is max (kernel fabric and shaper) or normal (the\n"
	  "user-space dataplane). With --cells, or for one link A B, each cell of\n"
	  "a normal-mode direction too: packets in and out, drops, queue length\n"
	  "and sojourn time.\n"
	  "\n"
	  "With a controller: the latest counters the hosts reported to it, one\n"
	  "line per link direction: TOPOLOGY A B DIR HOST PACKETS BYTES DROPS QLEN\n"
	  "RATE PPS AGE. Counters are cumulative since the link came up; RATE and\n"
	  "PPS are over the last two reports; AGE is how old the report is. Only\n"
	  "links of TOPOLOGY when given. Needs --controller or $SLUICE_CONTROLLER.\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl stats\n"
	  "  sluicectl stats h1 r1\n"
	  "  sluicectl --controller http://ctl:7700 stats\n"
	  "  sluicectl --controller http://ctl:7700 --json stats demo\n",
	  NULL },
	{ "hosts", cmd_remote, "--controller URL hosts",
	  "list the hosts known to the controller",
	  "Prints one line per host registered at the controller (sluice-controller\n"
	  "add-host): HOST STATE VERSION CONNECTED LAST-SEEN CAPABILITIES. STATE is\n"
	  "online while its sluiced is connected; CONNECTED is how long it has been,\n"
	  "LAST-SEEN how long ago the host last said something. Needs --controller\n"
	  "or $SLUICE_CONTROLLER.\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl --controller http://ctl:7700 hosts\n",
	  NULL },
	{ "policy", cmd_remote,
	  "--controller URL policy set TOPOLOGY A B [--dir up|down|both] POLICY_JSON",
	  "set a link's policy at the controller",
	  "Stores POLICY_JSON as the runtime policy of the link A-B of TOPOLOGY at\n"
	  "the controller, which pushes it to the host that carries the link at\n"
	  "once (the same path as a script writing the row). POLICY_JSON is one\n"
	  "direction's policy, the keys of docs/topology.md (rate, delay, jitter,\n"
	  "loss, queue, policer, burst, ...), checked here first; 'none' removes\n"
	  "the runtime policy (the link is unshaped). Up is A to B, in whichever\n"
	  "order the file names the nodes. Needs --controller or $SLUICE_CONTROLLER.\n"
	  "\n"
	  "Options:\n"
	  "  -d, --dir DIR   up (A to B), down (B to A) or both (default)\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl --controller http://ctl:7700 policy set demo r1 h2 '{\"rate\": \"5mbit\"}'\n"
	  "  sluicectl --controller http://ctl:7700 policy set demo h1 r1 --dir up \\\n"
	  "      '{\"rate\": \"10mbit\", \"loss\": \"1%\"}'\n"
	  "  sluicectl --controller http://ctl:7700 policy set demo r1 h2 none\n",
	  NULL },
	{ "help", cmd_help, "help [COMMAND]", "show help for sluicectl or a command",
	  "Prints the list of commands, or the help of COMMAND (the same as\n"
	  "`sluicectl COMMAND --help`).\n"
	  "\n"
	  "Examples:\n"
	  "  sluicectl help up\n",
	  NULL },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct ctl_cmd *ctl_find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void ctl_print_commands(FILE *f)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
}

static void command_names(char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < N_COMMANDS && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      commands[i].name);
}

static void print_main_help(void)
{
	ctl_print_usage(stdout, NULL);
	printf("\n"
	       "sluicectl controls sluice, a network emulator: it brings emulated\n"
	       "topologies up and down through the sluiced daemon, runs programs\n"
	       "inside their nodes, and changes links while they run.\n"
	       "\n"
	       "Commands:\n");
	ctl_print_commands(stdout);
	printf("\n"
	       "Global options (before or after the command):\n"
	       "      --socket PATH   sluiced's socket (default: $SLUICE_SOCKET, else\n"
	       "                      $SLUICE_RUNDIR/sluiced.sock, else %s)\n"
	       "      --controller URL  talk to sluice-controller at URL (http[s]://HOST:PORT,\n"
	       "                      default $SLUICE_CONTROLLER) instead of the local\n"
	       "                      sluiced: up, down, list, link set, stats, hosts, policy\n"
	       "      --token TOKEN   the controller's API token (default $SLUICE_TOKEN)\n"
	       "      --cacert FILE   https: the CA bundle to check the controller with\n"
	       "      --insecure      https: accept any certificate (tests only)\n"
	       "      --json          print results as JSON (the daemon's result object)\n"
	       "  -q, --quiet         print no summaries, progress or notices\n"
	       "  -v, --verbose       say more (progress lines even without a terminal)\n"
	       "  -h, --help          show this help, or a command's with COMMAND --help\n"
	       "  -V, --version       show the version\n"
	       "\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage or invalid input;\n"
	       "exec and ping exit with their command's status. Through a controller:\n"
	       "0 for HTTP 2xx, 2 for 400, 1 for anything else.\n"
	       "\n"
	       "Example:\n"
	       "  sluicectl gen linear 3 --name demo > demo.json\n"
	       "  sluicectl up demo.json\n"
	       "  sluicectl ping h1 h2\n"
	       "  sluicectl down demo\n"
	       "  export SLUICE_CONTROLLER=http://ctl:7700 SLUICE_TOKEN=...\n"
	       "  sluicectl up demo.json && sluicectl hosts && sluicectl stats demo\n"
	       "\n"
	       "See sluicectl(8) and docs/cli.md.\n",
	       SL_API_SOCKET_DEFAULT);
}

int cmd_help(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv)
{
	const struct ctl_cmd *target;
	char *hargv[3];
	int o;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "", NULL)) != -1) {
		if (o != CTL_OPT_HELP)
			return CTL_EXIT_USAGE;
		ctl_print_help(cmd);
		return CTL_EXIT_OK;
	}
	if (optind >= argc) {
		print_main_help();
		return CTL_EXIT_OK;
	}
	if (argc - optind > 1)
		return ctl_usage_error(cmd,
				       "unexpected argument '%s': expected one COMMAND",
				       argv[optind + 1]);
	target = ctl_find_cmd(argv[optind]);
	if (!target)
		return ctl_usage_error(cmd,
				       "unknown command '%s': expected one of the commands in 'sluicectl --help'",
				       argv[optind]);
	/* through the command itself, so extra help (gen's list) appears */
	hargv[0] = (char *)target->name;
	hargv[1] = "--help";
	hargv[2] = NULL;
	return target->run(ctl, target, 2, hargv);
}

enum {
	OPT_JSON = 0x100,
	OPT_SOCKET,
	OPT_CONTROLLER,
	OPT_TOKEN,
	OPT_CACERT,
	OPT_INSECURE,
};

/*
 * $SLUICE_CONTROLLER sends the commands that can go to a controller
 * there; a --socket names the local daemon and wins over the variable.
 * Commands that act on this host's nodes (exec, ping, nodes, links,
 * status) stay local then, but refuse an explicit --controller, which
 * would otherwise be ignored in silence.
 */
static int route(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		 char **argv)
{
	const char *env = getenv("SLUICE_CONTROLLER");

	if (!ctl->token && getenv("SLUICE_TOKEN") && *getenv("SLUICE_TOKEN"))
		ctl->token = getenv("SLUICE_TOKEN");
	if (!ctl->controller && !ctl->socket && env && *env) {
		ctl->controller = env;
		ctl->controller_env = true;
	}
	if (ctl_remote_wanted(ctl, cmd, argc, argv))
		return cmd_remote(ctl, cmd, argc, argv);
	if (ctl->controller && !ctl->controller_env &&
	    strcmp(cmd->name, "help") && strcmp(cmd->name, "gen"))
		return ctl_usage_error(NULL,
				       "'%s' works with this host's sluiced only: run it without --controller (through a controller: up, down, list, link set, stats, hosts, policy)",
				       cmd->name);
	return cmd->run(ctl, cmd, argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "controller", required_argument, NULL, OPT_CONTROLLER },
		{ "token", required_argument, NULL, OPT_TOKEN },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { 0 };
	const struct ctl_cmd *cmd;
	char names[256];
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:qvhV", opts, NULL)) != -1) {
		switch (o) {
		case OPT_SOCKET:
			ctl.socket = optarg;
			break;
		case OPT_CONTROLLER:
			ctl.controller = optarg;
			break;
		case OPT_TOKEN:
			ctl.token = optarg;
			break;
		case OPT_CACERT:
			ctl.cacert = optarg;
			break;
		case OPT_INSECURE:
			ctl.insecure = true;
			break;
		case OPT_JSON:
			ctl.json = true;
			break;
		case 'q':
			ctl.quiet = true;
			break;
		case 'v':
			ctl.verbose++;
			break;
		case 'h':
			print_main_help();
			return CTL_EXIT_OK;
		case 'V':
			printf("sluicectl %s\n", SLUICE_VERSION);
			return CTL_EXIT_OK;
		case ':':
			return ctl_usage_error(NULL,
					       "option '%s' needs an argument",
					       argv[optind - 1]);
		default:
			if (optopt && strncmp(argv[optind - 1], "--", 2))
				return ctl_usage_error(NULL,
						       "unknown option '-%c'",
						       optopt);
			return ctl_usage_error(NULL, "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	command_names(names, sizeof(names));
	if (optind >= argc)
		return ctl_usage_error(NULL,
				       "missing COMMAND: expected one of %s",
				       names);
	cmd = ctl_find_cmd(argv[optind]);
	if (!cmd)
		return ctl_usage_error(NULL,
				       "unknown command '%s': expected one of %s",
				       argv[optind], names);
	return route(&ctl, cmd, argc - optind, argv + optind);
}
