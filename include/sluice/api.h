/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * api.h - the local API between sluicectl (and scripts) and sluiced.
 *
 * Transport: a SOCK_STREAM Unix socket, mode 0600 (root only), default
 * SL_API_SOCKET_DEFAULT, overridden by $SLUICE_SOCKET or --socket.
 * Framing: one JSON object per line ("\n"-terminated, no newline inside),
 * at most SL_API_LINE_MAX bytes. A client sends one request and reads
 * responses until the final one; it may then send another request.
 *
 * Request:   {"v": 1, "cmd": "<command>", ...arguments}
 * Progress:  {"v": 1, "progress": {"phase": "links", "done": 120, "total": 999}}
 *            (zero or more, only for long commands)
 * Final:     {"v": 1, "ok": true, "result": {...}}
 *        or  {"v": 1, "ok": false, "code": "<code>", "error": "<message>"}
 *
 * Error codes: "invalid" (bad request or topology: sluicectl exits 2),
 * "notfound", "exists", "busy", "internal" (exit 1).
 *
 * Commands and arguments (topology "name" optional when only one is up;
 * a node may be given as "node" or "topo:node"):
 *  up        {"topology": "<JSON text>", "source": "file name"}
 *            -> {"name", "nodes", "links", "seconds"}
 *  down      {"name"} or {"all": true}  -> {"removed": ["name", ...]}
 *            (idempotent: a name that is not up is not an error)
 *  list      {} -> {"topologies": [{"name", "nodes", "links", "state",
 *                   "created" (unix seconds)}]}
 *  nodes     {"name"?} -> {"nodes": [{"topology", "name", "kind", "netns",
 *                   "addresses": ["10.0.0.1/32", ...], "interfaces": [
 *                   {"name": "eth0", "peer": "r1", "addresses": [...],
 *                    "port": "h1-eth0", "mtu": 1500, "state": "up"}]}]}
 *  links     {"name"?} -> {"links": [{"topology", "a", "b", "a_if", "b_if",
 *                   "mtu", "state": "up"|"down", "policy": {"up":…, "down":…}}]}
 *  link_set  {"name"?, "a", "b", "state": "up"|"down"} -> {}
 *  resolve   {"node": "h1" | "topo:h1"} -> {"topology", "node", "netns",
 *                   "hosts": "/run/sluice/<topo>/hosts", "address", "address6"}
 *  topology  {"name"?} -> {"topology": <resolved topology JSON object>}
 *  status    {} -> {"version", "pid", "uptime", "rundir", "topologies"}
 */
#ifndef SLUICE_API_H
#define SLUICE_API_H

#define SL_API_VERSION 1
#define SL_API_LINE_MAX (64u << 20) /* a topology of 100k links fits */
#define SL_RUNDIR_DEFAULT "/run/sluice"
#define SL_API_SOCKET_NAME "sluiced.sock"
#define SL_API_SOCKET_DEFAULT SL_RUNDIR_DEFAULT "/" SL_API_SOCKET_NAME

#endif
