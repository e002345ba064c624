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
	iproute2 iputils-ping iperf3 ethtool procps
	systemd groff-base man-db
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
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
