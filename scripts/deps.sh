#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Install the Debian packages tcpfsm's build and tests need, if missing.
# --list prints them (for .ci/run).
set -eu

PKGS="clang llvm make gcc pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
libmicrohttpd-dev libcmocka-dev libjson-c-dev iproute2 nftables prometheus curl
python3-yaml systemd util-linux valgrind
libncurses-dev tmux"

if [ "${1:-}" = "--list" ]; then
	echo $PKGS
	exit 0
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing packages:$missing (not a Debian system: install the equivalents by hand)" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root (sudo make ...), or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
