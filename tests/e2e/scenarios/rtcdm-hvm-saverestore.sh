#!/bin/sh
# e2e-timeout: 600
#
# rtcdm as an HVM domain's device model (device_model_override, qemu-xen
# protocol), our guest as firmware.  Xen's vRTC serves registers 0-13;
# rtcdm serves the CMOS NVRAM and follows the guest's clock through Xen's
# TIMEOFFSET notifications.  Checked: xl create succeeds (libxl saw
# "running" and got its QMP answers), the guest's NVRAM writes read back
# from rtcdm, the guest's one-year step reaches rtcdm and xenstore, xl save
# writes an EMULATOR_CONTEXT that `rtcdm-ctx dump` shows with that offset
# and the NVRAM bytes, and xl restore gives both back to the running guest.
. /e2e/lib.sh

NAME=e2e-rtcdm-hvm
IMG=$E2E_SAVE/rtcdm-hvm.img
DMLOG=/var/log/xen/qemu-dm-$NAME.log
cat >"$E2E_RUN/hvm.cfg" <<EOF
name = "$NAME"
type = "hvm"
firmware_override = "/e2e/guest/guest-hvm-setyear.elf"
device_model_version = "qemu-xen"
device_model_override = "/e2e/bin/rtcdm"
memory = 32
vcpus = 1
tsc_mode = "native"
vga = "none"
vnc = 0
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "preserve"
EOF
[ -x /e2e/bin/rtcdm ] || fail "rtcdm is not in this build"
mkdir -p /var/lib/xen/rtcdm

# The guest's offset: its time minus dom0's, on a report newer than $2.
guest_offset() { # DOMID AFTER_N
	expect_guest "$1" "^n=([0-9]+) " 60 "a report line"
	_n=$(field "$LINE" n)
	while [ "$_n" -le "$2" ]; do
		sleep 1
		expect_guest "$1" "^n=([0-9]+) " 60 "a report line"
		_n=$(field "$LINE" n)
	done
	_now=$(date +%s)
	_t=$(field "$LINE" time)
	[ "$_t" = invalid ] && fail "guest d$1 reports an invalid time: $LINE"
	SEEN_N=$_n
	SEEN_OFFSET=$(($(epoch "$_t") - _now))
	log "guest d$1 n=$_n time=$_t -> offset $SEEN_OFFSET"
}
check_near() { # WHAT GOT WANT
	[ "$2" -ge $(($3 - 6)) ] && [ "$2" -le $(($3 + 2)) ] ||
		fail "$1: got $2 s, want $3 s (-6..+2)"
	log "ok: $1 = $2 (want $3)"
}
# xenstore_offset DOMID WANT — wait (20 s) for rtcdm's published offset.
xenstore_offset() {
	_p=/local/domain/0/device-model/$1/rtc/timeoffset
	_end=$(($(date +%s) + 20))
	while :; do
		_v=$(timeout -s KILL 10 xenstore-read "$_p" 2>/dev/null)
		[ "$_v" = "$2" ] && break
		[ "$(date +%s)" -ge "$_end" ] && fail "xenstore $_p: got '$_v', want '$2'"
		sleep 2
	done
	log "ok: xenstore $_p = $2"
}

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q 'running: platform xen' "$DMLOG" || fail "rtcdm did not report running on platform xen"
grep -q 'HVM mode' "$DMLOG" || fail "rtcdm did not choose HVM mode"

expect_guest "$id" '^ready' 150 "ready line"
expect_guest "$id" '^regs ' 5 "regs line"
check "reset registers from Xen's vRTC (A B D, CMOS present)" \
	"$(field "$LINE" a) $(field "$LINE" b) $(field "$LINE" d) $(field "$LINE" cmos)" "26 02 80 1"
expect_guest "$id" '^nvram ' 5 "nvram line"
check "NVRAM 0x41 write/read (rtcdm's CMOS)" "$LINE" "nvram index=41 wrote=a5 read=a5 wrote=3c read=3c"
expect_guest "$id" '^set mode=bcd ' 5 "BCD set line"
case $LINE in *" ok") ;; *) fail "BCD year set: $LINE" ;; esac
want=$(($(epoch "$(field "$LINE" to)") - $(epoch "$(field "$LINE" from)")))
case $want in
31536000 | 31622400) log "guest moved its RTC by $want s" ;;
*) fail "guest's year step is $want s, not 365 or 366 days" ;;
esac
expect_guest "$id" '^periodic ' 10 "periodic line"

grep -q "hypervisor reports a guest clock change of +$want s" "$DMLOG" ||
	fail "rtcdm did not follow Xen's TIMEOFFSET of +$want s"
xenstore_offset "$id" "$want"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before save" "$SEEN_OFFSET" "$want"
n_before=$SEEN_N

# ---- save -------------------------------------------------------------------------
run 300 xl save "$id" "$IMG"
rc=$?
[ $rc -eq 137 ] && testbed "xl save did not return within 300 s"
[ $rc -eq 0 ] || fail "xl save exited $rc: $(tail -n 1 "$OUT")"
[ -n "$(domid "$NAME")" ] && fail "domain $NAME still exists after xl save"
run 180 rtcdm-ctx dump "$IMG" || fail "rtcdm-ctx dump exited $?: $(tail -n 1 "$OUT")"
grep -q '^EMULATOR_CONTEXT at byte [0-9]*: emulator id 2, [0-9]* bytes, rtcdm image$' "$OUT" ||
	fail "no rtcdm image in EMULATOR_CONTEXT: $(grep EMULATOR_CONTEXT "$OUT")"
grep -Eq "^  seconds +$want " "$OUT" || fail "rtcdm-ctx dump: OFFSET record is not $want s: $(grep -A1 'OFFSET' "$OUT" | tr '\n' ' ')"
grep -Eq "^  rtc_offset +$want s" "$OUT" || fail "rtcdm-ctx dump: Xen's RTC record offset is not $want s"
grep -Eq '^  3e: [0-9a-f]{2} [0-9a-f]{2} 5a 3c ' "$OUT" ||
	fail "rtcdm-ctx dump: NVRAM 0x40/0x41 are not 5a 3c: $(grep '^  3e:' "$OUT")"
log "ok: EMULATOR_CONTEXT holds offset $want and NVRAM 5a 3c"

# ---- restore ------------------------------------------------------------------------
mark_log
run 240 xl restore "$IMG"
rc=$?
[ $rc -eq 137 ] && testbed "xl restore did not return within 240 s"
id=$(domid "$NAME")
[ -n "$id" ] || fail "xl restore (exit $rc) left no domain: $(tail -n 1 "$OUT")"
grep -q 'restored device state from -incoming' "$DMLOG" || fail "rtcdm did not load the incoming state"
guest_offset "$id" "$n_before"
check_near "guest clock minus dom0 clock after restore" "$SEEN_OFFSET" "$want"
guest_lines "$id" | grep -q '^boot ' && fail "the restored guest booted again"
check "NVRAM after restore (marker, scratch)" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
xenstore_offset "$id" "$want"

destroy "$id"
pass
