# linux-guest.sh — helpers for the scenarios with the Linux HVM test guest
# (busybox sh, inside dom0, sourced after lib.sh): Debian's kernel and our
# initramfs (tests/e2e/linux/init), commands through the disk's first sector,
# answers as "RTCL" lines on the serial console file.  A scenario sets SER (the
# serial file), DISK (the disk image), SEQ (0 for a new guest) and id (its domid).

BOOT_SECS=240 # xl create to the guest's ready line (measured 32-55 s)

# linux_guest_files — the guest's kernel and initramfs and QEMU's option ROM are in dom0.
linux_guest_files() {
	for _f in vmlinuz initrd.gz; do
		[ -f "/e2e/linux/$_f" ] || fail "no /e2e/linux/$_f in dom0 (tests/e2e/mkinitramfs)"
	done
	[ -f /usr/share/qemu/linuxboot.bin ] ||
		fail "no /usr/share/qemu/linuxboot.bin for QEMU's direct kernel boot"
}

# linux_cfg FILE NAME UUID SERIAL DISK [LINE...] — the Linux guest's HVM config.
linux_cfg() {
	_f=$1 _n=$2 _u=$3 _s=$4 _d=$5
	shift 5
	{
		cat <<EOF
name = "$_n"
uuid = "$_u"
type = "hvm"
memory = 128
vcpus = 1
tsc_mode = "native"
kernel = "/e2e/linux/vmlinuz"
ramdisk = "/e2e/linux/initrd.gz"
cmdline = "console=ttyS0,115200 nopv quiet"
device_model_version = "qemu-xen"
xen_platform_pci = 0
vga = "none"
vnc = 0
serial = "file:$_s"
disk = [ "format=raw,vdev=hda,access=rw,backendtype=qdisk,target=$_d" ]
on_poweroff = "destroy"
on_reboot = "restart"
on_crash = "preserve"
EOF
		printf '%s\n' "$@"
	} >"$_f"
}

# ---- the guest's serial console and its commands ---------------------------------

# serial_lines — the guest's "RTCL" lines in the current serial file, without the prefix.
serial_lines() { grep -a 'RTCL ' "$SER" 2>/dev/null | sed 's/.*RTCL //' | tr -d '\r'; }

# lwait ERE SECS WHAT — LINE: the latest serial line matching ERE; fail after SECS
# (a test-bed failure if the guest printed nothing at all).
lwait() {
	_end=$(($(date +%s) + $2))
	while :; do
		LINE=$(serial_lines | grep -E -- "$1" | tail -n 1)
		[ -n "$LINE" ] && return 0
		if [ "$(date +%s)" -ge $_end ]; then
			# hvmloader's and SeaBIOS's lines are in Xen's console ring
			xen_sync
			log "--- Xen's console ring, d${id:-?}:"
			grep -a "(d${id:-?})" "$XENLOG" | tail -n 30 | tr -d '\r' | sed "s/^/[$E2E_NAME]   /"
			log "--- $SER:"
			tail -n 20 "$SER" 2>/dev/null | tr -d '\r' | sed "s/^/[$E2E_NAME]   /"
			[ -s "$SER" ] || testbed "no serial output from the Linux guest within $2 s (waiting for $3)"
			fail "no $3 from the Linux guest within $2 s (last line: $(serial_lines | tail -n 1))"
		fi
		sleep 2
	done
}

SEQ=0
# ask VERB ARGS... — write "cmd SEQ VERB ARGS" into the guest's disk, wait for its
# "VERB seq=SEQ" line (LINE) and "done seq=SEQ" (within ASK_SECS, default 90 s);
# T0, T1: dom0's clock before the command and after the answer.
ask() {
	SEQ=$((SEQ + 1))
	T0=$(date +%s)
	printf 'cmd %s %s\n' "$SEQ" "$*" | dd of="$DISK" bs=512 count=1 conv=notrunc,sync 2>/dev/null ||
		fail "cannot write the command into $DISK"
	lwait "^done seq=$SEQ\$" "${ASK_SECS:-90}" "answer to '$*'"
	lwait "^$1 seq=$SEQ " 1 "'$1' line"
	T1=$(date +%s)
	log "guest: $LINE"
}

# ask_report — `ask report`, asked again (twice at most) while the guest's
# hwclock -r printed no time ("hwclock=invalid"), with hwclock's text logged:
# seen once under TCG with stock qemu-xen and Xen's vRTC, right after the guest
# stepped its clock.  A wrong time is never asked again: LINE is the last
# report, and its value is what the caller checks.
ask_report() {
	_tries=1
	ask report
	while [ "$(field "$LINE" hwclock)" = invalid ] && [ $_tries -lt 3 ]; do
		log "guest: hwclock -r printed no time ($(serial_lines | grep -a '^hwclock-r' | tail -n 1)); asking again"
		_tries=$((_tries + 1))
		ask report
	done
}

# within WHAT GOT LO HI — LO <= GOT <= HI.
within() {
	[ "$2" -ge "$3" ] 2>/dev/null && [ "$2" -le "$4" ] ||
		fail "$1: got '$2', want $3..$4"
	log "ok: $1 = $2 (in $3..$4)"
}

# guest_clock WHAT EPOCH OFFSET LO HI — the guest's clock EPOCH minus OFFSET lies
# within dom0's clock LO-2 .. HI+2 (LO, HI: dom0's clock before the guest read it
# and after dom0 saw the answer; 2 s: the RTC and dom0's `date` count whole
# seconds, and dom0's clock and Xen's wallclock may stand a second apart).
guest_clock() {
	within "$1 minus $3 s, against dom0's clock" "$(($2 - $3))" $(($4 - 2)) $(($5 + 2))
}

# boot_wait T0 — wait for the ready line of a boot started after T0 and check its
# boot line: BOOT_ID, BOOT_HC (the kernel's hctosys), BOOT_HW (hwclock -r), BOOT_NV.
boot_wait() {
	lwait '^ready ' "$BOOT_SECS" "ready line"
	_t1=$(date +%s)
	log "guest ready $((_t1 - $1)) s after xl create"
	lwait '^hctosys ' 1 "hctosys line"
	log "guest: $LINE"
	lwait '^boot ' 1 "boot line"
	log "guest: $LINE"
	BOOT_ID=$(field "$LINE" id)
	BOOT_HC=$(field "$LINE" hctosys)
	BOOT_HW=$(field "$LINE" hwclock)
	BOOT_NV=$(field "$LINE" nv)
	BOOT_T1=$_t1
	[ "$BOOT_HC" = none ] && fail "the kernel did not set the system clock from the RTC (no rtc_cmos 'setting system clock' line)"
	lwait '^hwclock-r ' 1 "hwclock -r line"
	log "guest: $LINE"
}

# rtcdm_serves DOMID — rtcdm (chosen by --companion) is the domain's device model with
# Debian's qemu-xen as its child, and its ioreq server serves 0x70-0x71 ahead of QEMU's.
rtcdm_serves() {
	companion_pids "$1"
	grep -q 'info: companion mode (--companion)$' "$DMLOG" ||
		dm_fail "rtcdm did not log companion mode chosen by --companion"
	grep -q 'QEMU 7\.2\.[0-9]* ready' "$DMLOG" || dm_fail "rtcdm did not see QEMU ready"
	served_by_rtcdm
}

# linux_boot KIND NAME UUID — a fresh Linux guest NAME booted to its ready line, with
# stock qemu-xen (KIND=stock) or rtcdm in companion mode (KIND=rtcdm; its battery file
# UUID.cmos removed first, and rtcdm checked to serve the RTC ports): sets KIND, NAME,
# UUID, DMLOG, SER, DISK, SEQ=0, id, t0 (before xl create) and boot_wait's BOOT_*.
# The kernel's and hwclock's RTC time at boot must be dom0's clock (offset 0).
linux_boot() {
	KIND=$1 NAME=$2 UUID=$3
	DMLOG=/var/log/xen/qemu-dm-$NAME.log
	SER=$E2E_RUN/serial-$KIND.log
	DISK=$E2E_RUN/disk-$KIND.img
	SEQ=0
	if [ "$KIND" = rtcdm ]; then
		rm -f "/var/lib/xen/rtcdm/$UUID.cmos"
		set -- "device_model_override = \"$RTCDM\"" 'device_model_args_hvm = [ "--companion" ]'
	else
		set --
	fi
	dd if=/dev/zero of="$DISK" bs=1024 count=1024 2>/dev/null || fail "cannot create $DISK"
	linux_cfg "$E2E_RUN/$KIND.cfg" "$NAME" "$UUID" "$SER" "$DISK" "$@"
	log "==== $KIND: $(if [ "$KIND" = rtcdm ]; then echo "rtcdm --companion"; else echo "stock qemu-xen"; fi)"
	t0=$(date +%s)
	create "$E2E_RUN/$KIND.cfg" "$NAME"
	id=$DOMID
	[ "$KIND" = rtcdm ] && rtcdm_serves "$id"
	boot_wait "$t0"
	guest_clock "$KIND: kernel's RTC time at boot (hctosys)" "$BOOT_HC" 0 "$t0" "$BOOT_T1"
	guest_clock "$KIND: hwclock -r at boot" "$BOOT_HW" 0 "$t0" "$BOOT_T1"
}
