#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what sluice needs on Debian 12 (idempotent): build tools and
# libraries, the tools the tests and benchmarks run, and the BPF toolchain.
set -euo pipefail
PKGS=(
	build-essential pkg-config clang llvm bpftool
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev
	libnl-3-dev libnl-route-3-dev libmnl-dev libjson-c-dev
	libwebsockets-dev libpq-dev libcmocka-dev
	iproute2 iputils-ping iperf3 ethtool procps curl openssl
	systemd groff-base man-db tcpdump tshark nftables
	# controller: database, steering scripts, browser test of the web UI
	libssl-dev postgresql python3-psycopg2 chromium chromium-driver
	# promtool (check metrics on the controller's /metrics): ~19 MB
	prometheus
	# relay tests and benchmark peers
	haproxy socat
)
# Benchmarks compare with Mininet (Linux-bridge switches, no controller).
BENCH_PKGS=(mininet bridge-utils)
if [ "${1:-}" = "--bench" ]; then PKGS+=("${BENCH_PKGS[@]}"); fi

if [ "$(id -u)" -ne 0 ]; then
	echo "tools/deps.sh: run as root (it uses apt-get)" >&2
	exit 1
fi
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The web UI is built with npm; Node.js may come from elsewhere (its own
# npm), and Debian's npm package conflicts with such a node: add the pair
# only when there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then
	for p in nodejs npm; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
fi
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/sluice-deps.log 2>&1 || {
	tail -30 /tmp/sluice-deps.log >&2
	echo "deps: apt-get install failed (full log: /tmp/sluice-deps.log)" >&2
	exit 1
}
echo "deps: done"
