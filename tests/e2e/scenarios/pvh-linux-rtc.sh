#!/bin/sh
# e2e-timeout: 600
#
# A PVH Linux guest (the test bed's Debian kernel, dom0's, as `kernel=`; a
# busybox root of our own, tests/e2e/pvh-linux/, as `ramdisk=`) with rtcdm
# attached by rtcdm-attach as its whole RTC: does the guest's own kernel
# drive the CMOS RTC rtcdm emulates at ports 0x70-0x71?  Booted twice, with
# the default command line and with acpi=off; the guest reports on its
# console (xenconsoled's log in dom0) what the kernel made of the RTC
# (rtc_cmos lines, the platform device, PNP0B00 devices, /dev/rtc0,
# `hwclock -r`, IRQ 8) and reads the CMOS through /dev/port, around the
# kernel, to show the ports are served.  Both boots are collected first, then
# checked.  docs/testbed.md ("A PVH Linux guest and the CMOS RTC") explains,
# with the kernel's functions, why the kernel binds no RTC in either case:
#   default   libxl's FADT says "CMOS RTC not present" and its DSDT has no
#             PNP0B00, so arch/x86/kernel/rtc.c registers no rtc_cmos device;
#   acpi=off  the device is registered, but rtc_cmos's probe needs IRQ 8,
#             which a PVH guest without a legacy PIC cannot have.
. /e2e/lib.sh

NAME=e2e-pvh-linux
DMLOG=/var/log/xen/rtcdm-$NAME.log
CONLOG=/var/log/xen/console/guest-$NAME.log
require rtcdm rtcdm-attach
for f in vmlinuz initrd.gz; do
	[ -s "/e2e/pvh-linux/$f" ] || testbed "no /e2e/pvh-linux/$f in dom0 (tests/e2e/pvh-linux/mkroot)"
done

# guest_boot VARIANT CMDLINE-EXTRA — create the guest paused, attach rtcdm, let it
# boot and report, stop rtcdm and destroy the guest; its "PVHL" lines (prefix removed)
# go to $E2E_RUN/VARIANT.lines.
guest_boot() {
	_v=$1
	: >"$DMLOG"
	: >"$CONLOG"
	cat >"$E2E_RUN/$_v.cfg" <<CFG
name = "$NAME"
type = "pvh"
kernel = "/e2e/pvh-linux/vmlinuz"
ramdisk = "/e2e/pvh-linux/initrd.gz"
cmdline = "console=hvc0 rdinit=/init loglevel=4${2:+ $2}"
memory = 256
vcpus = 1
tsc_mode = "native"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "preserve"
CFG
	create_paused "$E2E_RUN/$_v.cfg" "$NAME"
	ID=$DOMID
	attach_rtcdm "$ID" "$NAME"
	_t0=$(date +%s)
	_end=$((_t0 + 240))
	until grep -aq '^PVHL end' "$CONLOG" 2>/dev/null; do
		if [ "$(date +%s)" -ge $_end ]; then
			log "--- $CONLOG (last 30 lines)"
			tail -n 30 "$CONLOG" 2>/dev/null | tr -d '\r' | sed "s/^/[$E2E_NAME]   /"
			[ -s "$CONLOG" ] || testbed "$_v: no console output from the guest d$ID in 240 s"
			fail "$_v: the guest d$ID did not report within 240 s"
		fi
		sleep 2
	done
	log "$_v: the guest reported $(($(date +%s) - _t0)) s after it was unpaused"
	tr -d '\r' <"$CONLOG" | sed -n 's/^PVHL //p' >"$E2E_RUN/$_v.lines"
	sed "s/^/[$E2E_NAME]   $_v: /" "$E2E_RUN/$_v.lines"
	stop_rtcdm "$ID"
	destroy "$ID"
}

# g KEY — the guest's line "KEY rest" (rest only; $G is the variant's lines); empty if none.
g() { sed -n "s/^$1 //p" "$G" | head -n 1; }
# kmsg TEXT — the guest kernel's first line containing TEXT (fixed string), empty if none.
kmsg() { sed -n 's/^dmesg //p' "$G" | grep -F -- "$1" | head -n 1; }
# kmsg_is WHAT TEXT — the kernel logged a line containing TEXT.
kmsg_is() {
	[ -n "$(kmsg "$2")" ] || fail "$1: no kernel line with '$2'"
	log "ok: $1: $(kmsg "$2")"
}

# no_rtc VARIANT — what follows from no RTC driver: no /dev/rtc0, hwclock fails, and the
# CMOS is still there through /dev/port: rtcdm's registers A B D as at power-on (C only
# holds flags: logged) and its NVRAM.
no_rtc() {
	check "$1: /dev/rtc0" "$(g rtc0)" no
	check "$1: open(/dev/rtc0) errno (ENOENT)" "$(g 'dev open')" "err=2"
	check "$1: hwclock -r" "$(g hwclock)" \
		"rc=1 hwclock: can't open '/dev/misc/rtc': No such file or directory"
	_p=$(g port)
	check "$1: registers A B D through /dev/port" "$(echo "$_p" | cut -d' ' -f1,2,4)" \
		"a=26 b=02 d=80"
	log "$1: CMOS through /dev/port: $_p"
	check "$1: NVRAM 0x41 through /dev/port" "$(g 'port nvram')" "index=41 wrote=a5 read=a5"
}

guest_boot default ""
guest_boot acpi-off acpi=off

# ---- 1: the default command line (libxl's ACPI tables) ------------------------------
G=$E2E_RUN/default.lines
check "default: kernel command line" "$(g cmdline)" "console=hvc0 rdinit=/init loglevel=4"
# IAPC_BOOT_ARCH 0x0024: bit 2 "VGA not present", bit 5 "CMOS RTC not present".
check "default: FADT IA-PC boot flags" "$(g fadt)" "iapc_boot_arch=24 00"
check "default: PNP0B00 devices" "$(g pnp0b00)" 0
check "default: rtc_cmos platform device" "$(g platform)" no
# libxl's MADT has PCAT_COMPAT: probe_8259A then assumes a PIC and 16 legacy IRQs.
kmsg_is "default: 16 preallocated legacy IRQs" "preallocated irqs: 16"
[ -z "$(kmsg rtc_cmos)" ] || fail "default: the kernel logged an rtc_cmos line: $(kmsg rtc_cmos)"
log "ok: default: no rtc_cmos line in the kernel log"
no_rtc default

# ---- 2: acpi=off (no FADT, no PNP devices) -----------------------------------------
G=$E2E_RUN/acpi-off.lines
check "acpi-off: kernel command line" "$(g cmdline)" "console=hvc0 rdinit=/init loglevel=4 acpi=off"
grep -q '^fadt none$' "$G" || fail "acpi-off: the guest found an FADT: $(grep '^fadt' "$G")"
check "acpi-off: PNP0B00 devices" "$(g pnp0b00)" 0
check "acpi-off: rtc_cmos platform device" "$(g platform)" yes
kmsg_is "acpi-off: arch/x86/kernel/rtc.c add_rtc_cmos" \
	"rtc_cmos: registered platform RTC device (no PNP device found)"
# No MADT, so no PCAT_COMPAT: probe_8259A reads 0xff at port 0x21 (no PIC for PVH).
kmsg_is "acpi-off: no legacy PIC" "Using NULL legacy PIC"
kmsg_is "acpi-off: no preallocated legacy IRQs" "preallocated irqs: 0"
# rtc_cmos's probe fails in request_irq(8) with EINVAL (kernel/irq/manage.c,
# request_threaded_irq): with no legacy PIC no IRQ 8 descriptor was preallocated
# and nothing ever requested IRQ 8 (none in /proc/interrupts).
err=$(kmsg "rtc_cmos: probe of rtc_cmos failed with error" | sed 's/.* with error //')
check "acpi-off: rtc_cmos probe error (EINVAL from request_irq(8))" "$err" -22
check "acpi-off: IRQ 8 in /proc/interrupts" "$(g irq8)" none
log "ok: acpi-off: rtc_cmos's probe failed with error $err"
no_rtc acpi-off
pass
