#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
mininet_topo.py - the Mininet side of bench/bringup.

Builds in Mininet 2.3 the same graph as a sluice topology file (the output
of `sluicectl gen`), times net.build()+net.start() and net.stop(), and
prints one JSON line:

    {"up": S, "down": S, "freed": S, "nodes": N, "links": L, "mode": M,
     "mem_used_kb": K, "mem_kernel_kb": K, "mem_slab_kb": K, ...}

"freed" is the time from the start of net.stop() until the kernel has
freed the network namespaces (see ns_unnamed()); the mem_* fields are the
growth of used memory (MemTotal - MemAvailable), of the kernel's (Slab +
Percpu + VmallocUsed) and of Slab alone between before
build() and a settled, running network, page cache dropped both times.

Reading the sluice file rather than generating the graph again is what
makes both sides build the same graph: same nodes, same links, same order.

Modes:
  hosts  every node (sluice host or router) is a Mininet Host: a network
         namespace with a shell in it, one veth pair per link. This is the
         like-for-like comparison: sluice also makes one namespace per node
         and one veth pair per link (plus the fabric ports).
  lxbr   sluice routers become Mininet LinuxBridge switches (root
         namespace, brctl, spanning tree on) and sluice hosts Mininet
         hosts: what `mn --switch lxbr --controller none` builds. Spanning
         tree is on because a fat-tree has loops; without it the first
         broadcast (IPv6 router solicitations) would loop forever.

Mininet does less than sluice: it gives an address to each host's first
interface only and installs no routes; and more: a bash process per node.

Node names are replaced by mb<kind><index> (mbh3, mbr17, mbs17) so that
interface names stay within 15 characters and so that anything this
script may leave behind is recognisable as its own (see cleanup()).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, '/usr/lib/python3/dist-packages')

import mininet.net  # noqa: E402
from mininet.log import setLogLevel  # noqa: E402
from mininet.net import Mininet  # noqa: E402
from mininet.node import Host  # noqa: E402
from mininet.nodelib import LinuxBridge  # noqa: E402
from mininet.topo import Topo  # noqa: E402
from mininet.util import rlimitTestAndSet  # noqa: E402
from resource import RLIMIT_NOFILE, RLIMIT_NPROC  # noqa: E402

OWN = re.compile(r'^mb[hrs][0-9]+(-eth[0-9]+)?$')


def own_limits():
    """Mininet.init() calls fixLimits(), which raises the process limits
    and also rewrites host-wide sysctls (TCP buffers, ARP and route table
    sizes). Other people use this machine at the same time: keep the
    per-process limits, leave the sysctls alone."""
    rlimitTestAndSet(RLIMIT_NPROC, 8192)
    rlimitTestAndSet(RLIMIT_NOFILE, 16384)


mininet.net.fixLimits = own_limits


class FromSluice(Topo):
    "The graph of a sluice topology file."

    def build(self, spec=None, mode='hosts'):
        names = {}
        for i, nd in enumerate(spec['nodes']):
            router = nd.get('kind', 'host') == 'router'
            if router and mode == 'lxbr':
                names[nd['name']] = self.addSwitch(
                    'mbs%d' % i, cls=LinuxBridge, stp=True)
            else:
                names[nd['name']] = self.addHost(
                    'mb%s%d' % ('r' if router else 'h', i))
        for lk in spec['links']:
            a, b = lk['endpoints'][:2]
            self.addLink(names[a], names[b])


def ns_unnamed():
    """Network namespaces the kernel holds that have no name in
    /run/netns: those of processes (Mininet's hosts) and those being torn
    down, which the kernel does asynchronously (a workqueue). Named ones
    are left out so that other people's tests creating and deleting named
    namespaces meanwhile do not count. The kernel's count is the active
    objects of the net_namespace slab cache, after a shrink so that
    objects freed into per-CPU slabs do not count."""
    try:
        named = len(os.listdir('/run/netns'))
    except OSError:
        named = 0
    try:
        with open('/sys/kernel/slab/net_namespace/shrink', 'w') as f:
            f.write('1')
        with open('/proc/slabinfo', encoding='ascii') as f:
            for line in f:
                if line.startswith('net_namespace '):
                    return int(line.split()[1]) - named
    except OSError:
        pass
    return None


def wait_freed(before, n, timeout=30.0):
    """Seconds until all but 5% of our n namespaces are freed, counting
    from `before` (ns_unnamed() while they were alive), or None."""
    if before is None:
        return None
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        cur = ns_unnamed()
        if cur is None:
            return None
        if before - cur >= n * 95 // 100:
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def meminfo():
    """Used (MemTotal - MemAvailable), kernel (Slab + Percpu +
    VmallocUsed) and Slab in kB, page cache dropped."""
    subprocess.run(['sync'], check=False)
    with open('/proc/sys/vm/drop_caches', 'w') as f:
        f.write('3')
    time.sleep(0.5)
    m = {}
    with open('/proc/meminfo', encoding='ascii') as f:
        for line in f:
            k, v = line.split(':', 1)
            m[k] = int(v.split()[0])
    return (m['MemTotal'] - m['MemAvailable'],
            m['Slab'] + m.get('Percpu', 0) + m.get('VmallocUsed', 0),
            m['Slab'])


def root_links():
    out = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True,
                         text=True, check=False).stdout
    found = []
    for line in out.splitlines():
        parts = line.split(':', 2)
        if len(parts) < 2:
            continue
        name = parts[1].strip().split('@')[0]
        if OWN.match(name):
            found.append(name)
    return found


def cleanup(net):
    """Removes what this script made, and only that: Mininet's own
    stop(), then the shells it spawned (by pid), then interfaces and
    bridges in the root namespace named like ours. This is instead of
    `mn -c`, which kills every process called ping or controller on the
    machine and deletes every *-ethN link and /tmp/*.log."""
    if net is not None:
        try:
            net.stop()
        except Exception as e:  # pylint: disable=broad-except
            print('mininet_topo: net.stop() failed: %s' % e, file=sys.stderr)
        for node in net.hosts + net.switches:
            shell = getattr(node, 'shell', None)
            if shell is not None and shell.poll() is None:
                try:
                    os.kill(shell.pid, signal.SIGKILL)
                    shell.wait()
                except OSError:
                    pass
    for name in root_links():
        subprocess.run(['ip', 'link', 'del', name], capture_output=True,
                       check=False)
    return root_links()


def on_signal(signum, _frame):
    "SIGTERM and SIGHUP end us through the finally: clauses, as Ctrl-C does."
    raise SystemExit(128 + signum)


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('topology', nargs='?',
                    help='sluice topology file (JSON)')
    ap.add_argument('--mode', choices=('hosts', 'lxbr'), default='hosts')
    ap.add_argument('--mem', action='store_true',
                    help='measure memory growth (drops the page cache)')
    ap.add_argument('--settle', type=float, default=2.0,
                    help='seconds to wait before measuring memory (2)')
    ap.add_argument('--cleanup-only', action='store_true',
                    help='remove leftovers of an earlier run and exit')
    args = ap.parse_args()
    setLogLevel('warning')

    if args.cleanup_only:
        left = cleanup(None)
        if left:
            print('mininet_topo: could not remove %s' % ' '.join(left),
                  file=sys.stderr)
            return 1
        return 0
    if not args.topology:
        ap.error('a topology file is required')

    with open(args.topology, encoding='utf-8') as f:
        spec = json.load(f)
    topo = FromSluice(spec=spec, mode=args.mode)
    net = None
    res = {'mode': args.mode, 'nodes': len(spec['nodes']),
           'links': len(spec['links'])}
    try:
        net = Mininet(topo=topo, build=False, controller=None,
                      switch=LinuxBridge, host=Host, waitConnected=False)
        if args.mem:
            used0, kern0, slab0 = meminfo()
        t0 = time.monotonic()
        net.build()
        t1 = time.monotonic()
        net.start()
        t2 = time.monotonic()
        res['build'] = t1 - t0
        res['up'] = t2 - t0
        res['hosts'] = len(net.hosts)
        res['switches'] = len(net.switches)
        if args.mem:
            time.sleep(args.settle)
            used1, kern1, slab1 = meminfo()
            res['mem_used_kb'] = used1 - used0
            res['mem_kernel_kb'] = kern1 - kern0
            res['mem_slab_kb'] = slab1 - slab0
        before = ns_unnamed()
        t0 = time.monotonic()
        net.stop()
        res['down'] = time.monotonic() - t0
        net = None
        freed = wait_freed(before, res['hosts'])
        res['freed'] = None if freed is None else res['down'] + freed
    finally:
        left = cleanup(net)
    if left:
        print('mininet_topo: left behind: %s' % ' '.join(left),
              file=sys.stderr)
        return 1
    print(json.dumps(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())
