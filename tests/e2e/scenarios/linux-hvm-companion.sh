#!/bin/sh
# e2e-timeout: 600
#
# A Linux HVM guest: Debian's kernel (the one dom0 runs) and our initramfs
# (tests/e2e/linux/init, busybox and rtcprobe), booted through hvmloader and
# SeaBIOS by xl's direct kernel boot (kernel=, ramdisk=, cmdline=: QEMU hands
# them over through fw_cfg with its linuxboot.bin option ROM), an IDE disk
# image QEMU serves (dom0 writes the guest's commands into its first sector)
# and the serial console in a file dom0 reads.  The kernel runs with "nopv":
# a plain HVM guest whose clock is the CMOS RTC (rtc_cmos on Xen's vRTC,
# registers 0-13) and whose NVRAM (bytes 14-127, the nvram driver) is the
# device model's.  The same steps run twice in one boot, first with stock
# qemu-xen as device model, then with rtcdm in companion mode
# (device_model_override, device_model_args_hvm = [ "--companion" ]):
#   1. boot: the kernel's "setting system clock" (rtc_cmos) and hwclock -r
#      read dom0's clock (the domain starts with offset 0);
#   2. date -s a time STEP seconds ahead + hwclock --systohc: Xen's RTC offset
#      becomes the step (within 2 s: systohc writes the system clock, which
#      the kernel set from the RTC in whole seconds); with rtcdm, Xen's
#      TIMEOFFSET reaches rtcdm (logged with exactly Xen's offset) and
#      xenstore device-model/<domid>/rtc/timeoffset holds it; hwclock -r reads
#      dom0's clock + that offset;
#   3. NVRAM bytes 0x40-0x47 written through /dev/nvram read back equal;
#   4. an RTC alarm through /sys/class/rtc/rtc0/wakealarm (what rtcwake -m no
#      does) fires within 5 s of its time, and five update interrupts
#      (/dev/rtc0, RTC_UIE_ON) come one a second: IRQ 8 from Xen's vRTC;
#   5. xl save, 15 s saved, xl restore: the same boot of the guest (no new
#      boot id) reads dom0's clock + the offset (not shifted by the time it
#      was saved) and its NVRAM;
#   6. reboot -f in the guest with on_reboot = "restart": the new domain's
#      kernel finds, with rtcdm, the guest's time and NVRAM (the battery-backed
#      CMOS); stock qemu-xen's new domain starts at dom0's clock with QEMU's
#      fresh CMOS.  Both are checked, and logged as "measured:" lines.
. /e2e/lib.sh
. /e2e/linux-guest.sh
require rtcdm rtcdm-ctx rtc-record
linux_guest_files

STEP=86404321 # 1000 days and 4321 s ahead
NVIDX=0x40
NVBYTES="0x5a 0x3c 0x17 0xe9 0x00 0xff 0x81 0x7e" # 0x40 0x41 = the setyear guest's 5a 3c
NVWANT=5a,3c,17,e9,00,ff,81,7e

# nv_bytes FIELD — the bytes of an "nvram:.." or "port-cks-bad:.." value.
nv_bytes() { echo "${1#*:}"; }

# ---- one device model --------------------------------------------------------------

# variant KIND — the whole sequence with stock qemu-xen (KIND=stock) or rtcdm in
# companion mode (KIND=rtcdm).  Leaves R_KIND_* for the summary.
variant() {
	IMG=$E2E_SAVE/linux-$1.img
	# 1. boot
	if [ "$1" = rtcdm ]; then
		linux_boot rtcdm e2e-linux-rtcdm 4c696e75-7800-4000-8000-000000000002
	else
		linux_boot stock e2e-linux-stock 4c696e75-7800-4000-8000-000000000001
	fi
	first_id=$BOOT_ID
	eval "R_${KIND}_BOOT=$((BOOT_T1 - t0))"

	# 2. the guest's own clock
	ask step "$STEP"
	check "$KIND: hwclock --systohc status" "$(field "$LINE" systohc)" 0
	xen_offset "$id"
	off=$XEN_OFFSET
	within "$KIND: Xen's RTC offset after the guest's step of $STEP s" "$off" $((STEP - 2)) $((STEP + 1))
	if [ "$KIND" = rtcdm ]; then
		dm_log_wait 20 "hypervisor reports a guest clock change of +$off s" \
			"rtcdm did not follow Xen's TIMEOFFSET of +$off s"
		log "ok: $(grep -o "hypervisor reports a guest clock change of +$off s.*" "$DMLOG" | tail -n 1)"
		xenstore_offset "$id" "$off"
	fi
	ask_report
	guest_clock "$KIND: hwclock -r after the step" "$(field "$LINE" hwclock)" "$off" "$T0" "$T1"

	# 3. NVRAM
	ask nvram $NVIDX $NVBYTES
	check "$KIND: NVRAM 0x40-0x47 written through /dev/nvram, read back" \
		"$(nv_bytes "$(field "$LINE" read)")" "$NVWANT"

	# 4. IRQ 8: an alarm, update interrupts
	ask alarm 5
	_al=$(field "$LINE" alarm)
	_at=$(field "$LINE" set_at)
	within "$KIND: wakealarm +5 set for" "$((_al - _at))" 4 6
	check "$KIND: wakealarm cleared (the alarm fired)" "$(field "$LINE" left)" ""
	within "$KIND: alarm seen by the guest at (RTC)" "$(field "$LINE" seen_by)" "$_al" $((_al + 5))
	_irq=$(field "$LINE" irq8)
	within "$KIND: IRQ 8 interrupts during the alarm" $((${_irq#*,} - ${_irq%,*})) 1 1000000
	ask uie 5
	# the RTC is read after each read() returns: 4 s apart, 5 if the guest was
	# slow to read it after the first interrupt (TCG)
	within "$KIND: five update interrupts, one a second (RTC after the last - after the first)" \
		$(($(field "$LINE" last) - $(field "$LINE" first))) 4 5
	check "$KIND: read() data flags (RTC_IRQF | RTC_UF)" "$(field "$LINE" flags)" 90
	# Linux's RTC core makes the update interrupts with its alarm, one
	# second ahead each time; an alarm it programs when that second has
	# already begun (a slow moment under TCG) is refused (-ETIME) and the
	# core delivers that update itself, without an interrupt: so at least
	# one IRQ 8, not one per update (4 for 5 updates seen once, with rtcdm)
	_irq=$(field "$LINE" irq8)
	within "$KIND: IRQ 8 interrupts during the update interrupts" $((${_irq#*,} - ${_irq%,*})) 1 1000000

	# 5. save, 15 s saved, restore
	xl_save "$id" "$IMG"
	ts=$(date +%s)
	sleep 15
	mv "$SER" "$E2E_RUN/serial-$KIND-1-until-save.log"
	xl_restore "$IMG" "$NAME"
	id=$DOMID
	log "restored as d$id $(($(date +%s) - ts)) s after the save"
	if [ "$KIND" = rtcdm ]; then
		rtcdm_serves "$id"
		grep -q "incoming: QEMU's stream ([0-9]* bytes), then rtcdm's image" "$DMLOG" ||
			dm_fail "rtcdm did not find its part of the incoming context"
	fi
	ask_report
	check "$KIND: the restored guest runs on (boot id)" "$(field "$LINE" id)" "$first_id"
	guest_clock "$KIND: hwclock -r after save, 15 s saved, restore" "$(field "$LINE" hwclock)" "$off" "$T0" "$T1"
	check "$KIND: NVRAM after restore" "$(nv_bytes "$(field "$LINE" nv)")" "$NVWANT"
	xen_offset "$id"
	check "$KIND: Xen's RTC offset after restore" "$XEN_OFFSET" "$off"
	[ "$KIND" = rtcdm ] && xenstore_offset "$id" "$off"

	# 6. the guest reboots itself
	mv "$SER" "$E2E_RUN/serial-$KIND-2-until-reboot.log" # QEMU writes on into the moved file
	old=$id
	tr0=$(date +%s)
	SEQ=$((SEQ + 1))
	printf 'cmd %s reboot\n' "$SEQ" | dd of="$DISK" bs=512 count=1 conv=notrunc,sync 2>/dev/null
	_end=$(($(date +%s) + 180))
	while id=$(domid "$NAME"); [ -z "$id" ] || [ "$id" = "$old" ]; do
		[ "$(date +%s)" -ge $_end ] && fail "$KIND: no new domain $NAME 180 s after the guest's reboot (d$old: $id)"
		sleep 2
	done
	log "the guest's reboot: d$old -> d$id after $(($(date +%s) - tr0)) s"
	boot_wait "$tr0"
	[ "$BOOT_ID" = "$first_id" ] && fail "$KIND: no new boot after the guest's reboot"
	_nv=$(nv_bytes "$BOOT_NV")
	xen_offset "$id"
	# the kernel read the RTC between the reboot command and the ready line
	log "measured: $KIND: after the guest's own reboot: kernel's RTC time - dom0's clock in $((BOOT_HC - BOOT_T1))..$((BOOT_HC - tr0)) s (the guest had set $off s), NVRAM 0x40-0x47 $BOOT_NV (had $NVWANT), Xen's RTC offset $XEN_OFFSET s"
	if [ "$KIND" = rtcdm ]; then
		rtcdm_serves "$id"
		guest_clock "$KIND: kernel's RTC time after the guest's own reboot (hctosys)" "$BOOT_HC" "$off" "$tr0" "$BOOT_T1"
		guest_clock "$KIND: hwclock -r after the guest's own reboot" "$BOOT_HW" "$off" "$tr0" "$BOOT_T1"
		check "$KIND: NVRAM 0x40-0x47 after the guest's own reboot" "$_nv" "$NVWANT"
		check "$KIND: Xen's RTC offset after the guest's own reboot" "$XEN_OFFSET" "$off"
		xenstore_offset "$id" "$off"
		grep -q "restored the battery-backed CMOS from /var/lib/xen/rtcdm/$UUID.cmos" "$DMLOG" ||
			dm_fail "the new domain's rtcdm did not load the battery file"
		battery_file "/var/lib/xen/rtcdm/$UUID.cmos" "$off"
	else
		# stock qemu-xen: the new domain starts with libxl's rtc_timeoffset (0) and
		# QEMU's fresh CMOS
		guest_clock "$KIND: kernel's RTC time after the guest's own reboot (lost the step)" "$BOOT_HC" 0 "$tr0" "$BOOT_T1"
		check "$KIND: Xen's RTC offset after the guest's own reboot (lost)" "$XEN_OFFSET" 0
		[ "$_nv" = "$NVWANT" ] && fail "$KIND: stock qemu-xen kept the NVRAM across the reboot ($_nv)"
		log "ok: $KIND: NVRAM lost across the guest's own reboot ($_nv)"
	fi
	ask_report
	_hw=$(field "$LINE" hwclock)
	guest_clock "$KIND: hwclock -r in the rebooted guest" "$_hw" \
		"$(if [ "$KIND" = rtcdm ]; then echo "$off"; else echo 0; fi)" "$T0" "$T1"
	eval "R_${KIND}_CLOCK=$((_hw - T1))..$((_hw - T0)) R_${KIND}_NV=$_nv R_${KIND}_OFF=$off"
	log "measured: $KIND: after the guest's own reboot: hwclock -r - dom0's clock in $((_hw - T1))..$((_hw - T0)) s (the guest had set $off s)"
	destroy "$id"
	rm -f "/var/lib/xen/rtcdm/$UUID.cmos" # leave the package's state directory as found
	mv "$SER" "$E2E_RUN/serial-$KIND-3-after-reboot.log"
	for _f in "$E2E_RUN"/serial-$KIND-*.log; do
		log "--- ${_f##*/}"
		grep -a 'RTCL ' "$_f" | tr -d '\r' | sed "s/^/[$E2E_NAME]   /"
	done
}

t_all=$(date +%s)
variant stock
t_stock=$(($(date +%s) - t_all))
variant rtcdm
log "measured: guest's own reboot: hwclock -r - dom0's clock after it: stock qemu-xen $R_stock_CLOCK s (the guest had set $R_stock_OFF s), rtcdm $R_rtcdm_CLOCK s (had set $R_rtcdm_OFF s); NVRAM 0x40-0x47 after it (written $NVWANT): stock $R_stock_NV, rtcdm $R_rtcdm_NV"
log "measured: boot to ready: stock $R_stock_BOOT s, rtcdm $R_rtcdm_BOOT s; stock's steps took $t_stock s, both $(($(date +%s) - t_all)) s"
pass
