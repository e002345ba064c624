#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Provisioning of a sluice VM (vagrant/Vagrantfile), run as root inside it:
# the Debian packages (tools/deps.sh), the build (make), the programs,
# man pages, unit and configuration installed (make install), and, for a
# multi-VM testbed, the other VMs by name in /etc/hosts. Idempotent: a
# second `vagrant provision` rebuilds what changed.
#   SLUICE_SRC    the repository inside the VM (default /home/vagrant/sluice)
#   SLUICE_HOSTS  "IP NAME" lines of every VM (empty for one VM)
set -euo pipefail
src=${SLUICE_SRC:-/home/vagrant/sluice}
[ -f "$src/Makefile" ] || { echo "provision.sh: no sluice repository at $src" >&2; exit 1; }
cd "$src"

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
./tools/deps.sh
make -j"$(nproc)"
make install
chown -R "${SUDO_UID:-1000}:${SUDO_GID:-1000}" "$src" 2>/dev/null || true

if [ -n "${SLUICE_HOSTS:-}" ]; then
	# one block, replaced on every run
	sed -i '/^# sluice testbed begin$/,/^# sluice testbed end$/d' /etc/hosts
	{ echo "# sluice testbed begin"; echo "$SLUICE_HOSTS"; echo "# sluice testbed end"; } >>/etc/hosts
fi
echo "provision.sh: sluice built in $src and installed; try: sudo make -C $src demo"
