#!/bin/sh
# Runs the internal/kernels tests on an emulated AVX-512 CPU, for machines without one: Bochs 2.7 (model
# corei7_skylake_x) boots a Linux kernel whose initramfs holds only the test binary as /init.
# Needs root and Debian's apt; takes about 5 minutes. Extra arguments go to the test binary.
#
#	sh ops/asm/_gen/bochs_avx512.sh -test.run=Gather -test.v
#
# Linux 6.1 turns XSAVE off on Bochs 2.7 (its CPUID leaf 0xD sizes disagree), which would leave
# no AVX at all, so the kernel is Debian 11's 5.10, which only warns. Expect the odd spurious
# AVX2 failure in the emulator: it loses upper YMM halves across a context switch now and then.
set -eu
pkg=$(cd "$(dirname "$0")/../../../internal/kernels" && pwd)
work=$(mktemp -d)
args=${*:--test.v}

apt-get install -y --no-install-recommends bochs bochs-term bochsbios vgabios isolinux \
	syslinux-common xorriso cpio util-linux >/dev/null

# The kernel, from bullseye, through a private apt configuration (the system's is untouched).
apt="-o APT::Sandbox::User=root -o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main" >"$work/sources.list"
apt-get $apt update >/dev/null
kpkg=$(apt-cache $apt search '^linux-image-5.10.*-cloud-amd64-unsigned$' | sort -V | tail -1 | cut -d' ' -f1)
(cd "$work" && apt-get $apt download "$kpkg" >/dev/null 2>&1)
dpkg-deb -x "$work"/linux-image-*.deb "$work/k"

mkdir -p "$work/root/dev" "$work/iso/isolinux"
(cd "$pkg" && CGO_ENABLED=0 go test -c -o "$work/root/init" .)
mknod "$work/root/dev/console" c 5 1
(cd "$work/root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$work/iso/initrd.gz")
cp "$work"/k/boot/vmlinuz-* "$work/iso/vmlinuz"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/iso/isolinux/"
cat >"$work/iso/isolinux/isolinux.cfg" <<EOF
DEFAULT t
PROMPT 0
LABEL t
  KERNEL /vmlinuz
  APPEND initrd=/initrd.gz console=ttyS0 loglevel=3 mitigations=off lpj=2000000 no_timer_check tsc=reliable -- $args
EOF
xorriso -as mkisofs -quiet -o "$work/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$work/iso" 2>/dev/null
cat >"$work/bochsrc" <<EOF
megs: 768
cpu: model=corei7_skylake_x, count=1, ips=400000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$work/serial.txt
display_library: term
log: $work/bochs.log
clock: sync=none
EOF
echo c >"$work/dbg.rc" # Debian's bochs stops in its debugger first: continue

# The term display needs a terminal: script(1) provides one.
setsid script -qfc "bochs -q -f $work/bochsrc -rc $work/dbg.rc" /dev/null </dev/null >/dev/null 2>&1 &
bx=$!
status=2
for _ in $(seq 180); do
	sleep 5
	if grep -aq -e '^--- FAIL' -e '^FAIL' "$work/serial.txt" 2>/dev/null; then status=1; break; fi
	if grep -aq '^PASS' "$work/serial.txt" 2>/dev/null; then status=0; break; fi
done
kill -- -"$bx" 2>/dev/null || true
sleep 1
tr -d '\r' <"$work/serial.txt" | grep -av '^\[ *[0-9.]*\]' || true
echo "bochs_avx512: status $status (0 pass, 1 fail, 2 no result), output in $work"
exit $status
