#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make kernel-test: run tcpfsm on another kernel than the host's.
#
# Boots Debian 12's packaged Linux 6.1 (linux-image-6.1.0-N-amd64, fetched
# with `apt-get download` and unpacked here, never installed on the host)
# under qemu-system-x86_64 with software emulation (TCG: no KVM needed), from
# a minimal busybox initramfs holding a static tcpfsm and the static test
# driver (tests/kernel/driver.c). The driver prints PASS/FAIL lines and a
# final "N passed, N failed" on the serial console; this script exits 0 only
# if that line says 0 failed.
#
# Everything goes to $KT_OUT (build/kernel-test): the kernel package, the
# static binaries (their own OUTPUT dir, not build/), the initramfs and
# console.log, the guest's serial output.
#
# Environment:
#   KT_OUT          output dir (default build/kernel-test)
#   KT_KERNEL_PKG   kernel package (default: what linux-image-amd64 depends
#                   on, e.g. linux-image-6.1.0-56-amd64)
#   KT_TIMEOUT      seconds before qemu is killed (default 900)
#   KT_SMP          guest CPUs (default 2: per-CPU ring buffers need >1 to mean much)
#   KT_APPEND       extra kernel command line
#   KT_REV          build tcpfsm from this git revision (git archive) instead
#                   of the work tree, e.g. KT_REV=HEAD
#   KT_SRC          build tcpfsm from this source tree instead of the work tree
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=${KT_OUT:-build/kernel-test}
TIMEOUT=${KT_TIMEOUT:-900}
SMP=${KT_SMP:-2}
export DEBIAN_FRONTEND=noninteractive

log() { printf 'kernel-test: %s\n' "$*"; }
die() { printf 'kernel-test: %s\n' "$*" >&2; exit 1; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# --- packages ---------------------------------------------------------------
# The build's own (scripts/deps.sh), then what a static build and the VM add:
# the static archives behind libmicrohttpd.a (gnutls and friends; p11-kit has
# none: tests/kernel/p11kit-stubs.c), json-c for the driver, qemu, busybox.
./scripts/deps.sh
KT_PKGS="qemu-system-x86 busybox-static libjson-c-dev libgnutls28-dev nettle-dev libgmp-dev
libtasn1-6-dev libidn2-dev libunistring-dev libc6-dev"
missing=""
for p in $KT_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages:$missing (run as root, or apt-get install them)"
	log "installing$missing"
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# --- the kernel ---------------------------------------------------------------
pkg=${KT_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-6\.1\.0-[0-9]+-amd64$/ { print $2; exit }')
	if [ -z "$pkg" ]; then
		apt-get update -qq
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-6\.1\.0-[0-9]+-amd64$/ { print $2; exit }')
	fi
	[ -n "$pkg" ] || die "cannot find Debian's linux-image-6.1.0-*-amd64 (apt-cache depends linux-image-amd64)"
fi
kdir=$OUT/kernel/$pkg
first() { [ -e "$1" ] && printf '%s' "$1"; }
vmlinuz=$(first "$kdir"/boot/vmlinuz-* || true)
if [ -z "$vmlinuz" ]; then
	log "fetching $pkg (unpacked into $kdir, not installed)"
	rm -rf "$kdir" "$OUT"/"$pkg"_*.deb
	mkdir -p "$kdir"
	(cd "$OUT" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null)
	deb=$(first "$OUT"/"$pkg"_*.deb) || die "apt-get download $pkg fetched nothing"
	# only /boot: the kernel image (and its config, for the record); the
	# guest needs no module
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir" ./boot
	rm -f "$deb"
	vmlinuz=$(first "$kdir"/boot/vmlinuz-*) || die "no vmlinuz in $pkg"
fi
kver=${vmlinuz##*/vmlinuz-}
log "kernel $kver ($pkg)"

# --- static binaries ----------------------------------------------------------
static=$OUT/static
src=.
if [ -n "${KT_REV:-}" ]; then
	src=$OUT/src
	rm -rf "$src"
	mkdir -p "$src"
	git archive --format=tar "$KT_REV" | tar -x -C "$src"
	log "tcpfsm from git revision $KT_REV ($(git rev-parse --short "$KT_REV"))"
	static=$OUT/static-rev
elif [ -n "${KT_SRC:-}" ]; then
	src=$KT_SRC
	log "tcpfsm from $src"
	static=$OUT/static-src
else
	log "tcpfsm from the work tree"
fi
mkdir -p "$static"
cc -O2 -Wall -c tests/kernel/p11kit-stubs.c -o "$static/p11kit-stubs.o"
# The app's own objects, built as usual into $static (not build/), linked
# with -static against the Debian -dev packages' archives.
if ! make --no-print-directory -C "$src" OUTPUT="$static" LDFLAGS=-static \
	LDLIBS_BPF="-lbpf -lelf -lz -lmicrohttpd -lncursesw -ltinfo -lgnutls -lhogweed \
-lnettle -lgmp -ltasn1 -lidn2 -lunistring -lpthread $static/p11kit-stubs.o" \
	"$static/tcpfsm" > "$static/build.log" 2>&1; then
	cat "$static/build.log"
	die "the static tcpfsm did not build"
fi
# (glibc warns that getpwuid_r, used by gnutls only, wants NSS at run time)
grep -v -e 'requires at runtime the shared libraries' -e '_gnutls_find_config_path' \
	"$static/build.log" || true
cc -static -O2 -g -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
	tests/kernel/driver.c -ljson-c -o "$static/driver"

# --- initramfs ----------------------------------------------------------------
root=$OUT/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp /bin/busybox "$root/bin/busybox"
strip --strip-debug -o "$root/bin/tcpfsm" "$static/tcpfsm"
strip --strip-debug -o "$root/bin/driver" "$static/driver"
install -m 0755 tests/kernel/init "$root/init"
# the kernel opens /dev/console before init mounts devtmpfs
[ "$(id -u)" -eq 0 ] && mknod -m 600 "$root/dev/console" c 5 1
initrd=$OUT/initramfs.cpio.gz
(cd "$root" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 > "$initrd"
log "initramfs $(du -h "$initrd" | cut -f1)"

# --- boot ---------------------------------------------------------------------
console=$OUT/console.log
log "booting $kver under qemu (TCG, $SMP CPUs, 1 GiB), timeout ${TIMEOUT}s"
start=$(date +%s.%N)
set +e
# -nic none: the guest has loopback only
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 1G -smp "$SMP" -nographic -no-reboot \
	-nic none -kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=4 ${KT_APPEND:-}" </dev/null |
	tr -d '\r' | tee "$console"
qrc=${PIPESTATUS[0]}
set -e
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$console" | tail -n1 || true)
if [ "$qrc" -eq 124 ]; then
	log "TIMEOUT after ${TIMEOUT}s (serial output in $console)"
	exit 1
fi
if [ -z "$summary" ]; then
	log "no result from the guest (qemu exit $qrc; serial output in $console)"
	exit 1
fi
log "$kver: $summary; boot+test ${secs}s wall (qemu TCG, $SMP CPUs)"
case "$summary" in
*" 0 failed"*) exit 0 ;;
*) exit 1 ;;
esac
