# SPDX-License-Identifier: GPL-2.0-or-later
# A chain of network namespaces joined by veth pairs, for the max mode L4
# tests and benchmarks (tests/net/test_relay.sh, bench/maxmode_l4/run):
#
#   P0 --link 0-- P1 --link 1-- ... --link K-1-- PK
#
# built with ip(8) directly, so that these measure the kernel paths and the
# relays alone, without a daemon. Link j is 10.98.j.0/30: P<j> has
# 10.98.j.1 on its "ethr" interface, P<j+1> has 10.98.j.2 on its "ethl" one.
# The ends talk to each other and to every node: each node routes the
# addresses of the nodes left of it via its left neighbour and the others
# via its right neighbour (one /24-per-side route pair is enough because
# link j's subnet is 10.98.j.0/30: nodes left of P<i> hold links < i).
# Source it; every function takes the prefix P and K (the number of links).

chain_ns() { echo "$1$2"; }                 # prefix index
chain_left_addr() { echo "10.98.$(($2 - 1)).2"; }  # address of P<i> on its left link
chain_right_addr() { echo "10.98.$2.1"; }   # address of P<i> on its right link
# An address of node i that every other node reaches.
chain_addr() {
	if [ "$2" -gt 0 ]; then chain_left_addr "$1" "$2"; else chain_right_addr "$1" 0; fi
}

chain_up() { # prefix links
	local p=$1 k=$2 i b
	for i in $(seq 0 "$k"); do
		ip netns add "$p$i" || return 1
		ip -n "$p$i" link set lo up
	done
	for i in $(seq 0 $((k - 1))); do
		ip -n "$p$i" link add ethr type veth peer name ethl netns "$p$((i + 1))" || return 1
		ip -n "$p$i" addr add "10.98.$i.1/30" dev ethr
		ip -n "$p$((i + 1))" addr add "10.98.$i.2/30" dev ethl
		ip -n "$p$i" link set ethr up
		ip -n "$p$((i + 1))" link set ethl up
	done
	for i in $(seq 0 "$k"); do
		ip netns exec "$p$i" sysctl -qw net.ipv4.ip_forward=1
		{
			# links left of node i: 10.98.0.0 .. 10.98.(i-2).*
			if [ "$i" -gt 1 ]; then
				for b in $(seq 0 $((i - 2))); do
					echo "route add 10.98.$b.0/30 via 10.98.$((i - 1)).1"
				done
			fi
			if [ "$i" -lt $((k - 1)) ]; then
				for b in $(seq $((i + 1)) $((k - 1))); do
					echo "route add 10.98.$b.0/30 via 10.98.$i.2"
				done
			fi
		} | ip -n "$p$i" -batch - || return 1
	done
}

chain_down() { # prefix links
	local i
	for i in $(seq 0 "$2"); do
		ip netns del "$1$i" 2>/dev/null
	done
	return 0
}
