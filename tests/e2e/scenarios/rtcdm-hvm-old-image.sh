#!/bin/sh
# e2e-timeout: 540
#
# An image from before Xen 4.14, restored through xl restore with rtcdm as
# the device model: Xen's RTC record has 16 bytes (no rtc_offset) and the
# device model's blob holds no rtcdm records.  Both load with offset 0, as
# Xen loads such a record, and rtcdm's log says why.
#
# The image is made from a real one: the guest moves its clock a year
# forward, xl save writes the image, `rtcdm-ctx xl-older` rewrites Xen's
# RTC record to its 16-byte form and the EMULATOR_CONTEXT blob to HEADER,
# a 16-byte RTC record, END; `rtcdm-ctx dump` must walk the result.  After
# xl restore the same guest (no reboot) reads dom0's clock again.
. /e2e/lib.sh

NAME=e2e-rtcdm-old
IMG=$E2E_SAVE/rtcdm-new.img
OLD=$E2E_SAVE/rtcdm-old.img
DMLOG=/var/log/xen/qemu-dm-$NAME.log
cat >"$E2E_RUN/hvm.cfg" <<CFG
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
CFG
[ -x /e2e/bin/rtcdm ] || fail "rtcdm is not in this build"

guest_offset() { # DOMID AFTER_N -> SEEN_OFFSET, SEEN_N
	expect_guest "$1" "^n=([0-9]+) " 60 "a report line"
	_n=$(field "$LINE" n)
	while [ "$_n" -le "$2" ]; do
		sleep 1
		expect_guest "$1" "^n=([0-9]+) " 60 "a report line"
		_n=$(field "$LINE" n)
	done
	_t=$(field "$LINE" time)
	[ "$_t" = invalid ] && fail "guest d$1 reports an invalid time: $LINE"
	SEEN_N=$_n
	SEEN_OFFSET=$(($(epoch "$_t") - $(date +%s)))
	log "guest d$1 n=$_n time=$_t -> offset $SEEN_OFFSET"
}
check_near() { # WHAT GOT WANT
	[ "$2" -ge $(($3 - 6)) ] && [ "$2" -le $(($3 + 2)) ] ||
		fail "$1: got $2 s, want $3 s (-6..+2)"
	log "ok: $1 = $2 (want $3)"
}

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
expect_guest "$id" '^set mode=bcd ' 150 "BCD set line"
case $LINE in *" ok") ;; *) fail "BCD year set: $LINE" ;; esac
want=$(($(epoch "$(field "$LINE" to)") - $(epoch "$(field "$LINE" from)")))
case $want in
31536000 | 31622400) log "guest moved its RTC by $want s" ;;
*) fail "guest's year step is $want s, not 365 or 366 days" ;;
esac
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before save" "$SEEN_OFFSET" "$want"
n_before=$SEEN_N

run 300 xl save "$id" "$IMG"
rc=$?
[ $rc -eq 137 ] && testbed "xl save did not return within 300 s"
[ $rc -eq 0 ] || fail "xl save exited $rc: $(tail -n 1 "$OUT")"

# ---- make it an older image ----------------------------------------------------------
run 120 rtcdm-ctx xl-older "$IMG" "$OLD" || fail "rtcdm-ctx xl-older exited $?: $(tail -n 1 "$OUT")"
rm -f "$IMG"
run 180 rtcdm-ctx dump "$OLD" || fail "rtcdm-ctx dump of the older image exited $?: $(tail -n 1 "$OUT")"
grep -q '^Xen RTC record (HVM_CONTEXT) at byte [0-9]*, length 16$' "$OUT" ||
	fail "older image: Xen's RTC record is not 16 bytes: $(grep 'Xen RTC record' "$OUT")"
grep -q '^  rtc_offset  none (16-byte record from before Xen 4.14: loads as 0)$' "$OUT" ||
	fail "older image: rtc_offset line: $(grep rtc_offset "$OUT" | head -n 1)"
grep -q '^EMULATOR_CONTEXT at byte [0-9]*: emulator id [0-9]*, 64 bytes, rtcdm image$' "$OUT" ||
	fail "older image: EMULATOR_CONTEXT: $(grep EMULATOR_CONTEXT "$OUT")"
grep -q 'OFFSET\|NVRAM' "$OUT" && fail "older image still has rtcdm records: $(grep 'OFFSET\|NVRAM' "$OUT" | head -n 2)"
log "ok: the image now has a 16-byte Xen RTC record and a 64-byte emulator image without rtcdm records"

# ---- restore it -----------------------------------------------------------------------
mark_log
run 240 xl restore "$OLD"
rc=$?
[ $rc -eq 137 ] && testbed "xl restore did not return within 240 s"
id=$(domid "$NAME")
[ -n "$id" ] || fail "xl restore (exit $rc) left no domain: $(tail -n 1 "$OUT")"
grep -q 'restored device state from -incoming' "$DMLOG" || fail "rtcdm did not load the incoming state"
grep -q 'time offset: offset 0 s from the image (old 16-byte RTC record without offset: offset 0) \[image\]' "$DMLOG" ||
	fail "rtcdm's log does not say the old image loads with offset 0: $(grep 'time offset:' "$DMLOG" | tail -n 1)"
grep -q "Xen's RTC record: offset 0 s (restored domain)" "$DMLOG" ||
	fail "Xen did not load the 16-byte record with offset 0: $(grep "RTC record" "$DMLOG" | tail -n 1)"
run 30 rtc-record "$id" || fail "rtc-record $id failed: $(cat "$OUT")"
check "Xen's RTC record after restore" "$(sed -n 's/^rtc_offset=\(-*[0-9]*\) .*/\1/p' "$OUT")" 0
guest_offset "$id" "$n_before"
check_near "guest clock minus dom0 clock after restoring the older image" "$SEEN_OFFSET" 0
guest_lines "$id" | grep -q '^boot ' && fail "the restored guest booted again"

destroy "$id"
pass
