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
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--rtc-only" ]'
require rtcdm

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
year_step "$id" 150
want=$STEP
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before save" "$SEEN_OFFSET" "$want"
n_before=$SEEN_N

xl_save "$id" "$IMG"

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
xl_restore "$OLD" "$NAME"
id=$DOMID
grep -q 'restored device state from -incoming' "$DMLOG" || fail "rtcdm did not load the incoming state"
grep -q 'time offset: offset 0 s from the image (old 16-byte RTC record without offset: offset 0) \[image\]' "$DMLOG" ||
	fail "rtcdm's log does not say the old image loads with offset 0: $(grep 'time offset:' "$DMLOG" | tail -n 1)"
grep -q "Xen's RTC record: offset 0 s (restored domain)" "$DMLOG" ||
	fail "Xen did not load the 16-byte record with offset 0: $(grep "RTC record" "$DMLOG" | tail -n 1)"
xen_offset "$id"
check "Xen's RTC record after restore" "$XEN_OFFSET" 0
guest_offset "$id" "$n_before"
check_near "guest clock minus dom0 clock after restoring the older image" "$SEEN_OFFSET" 0
guest_lines "$id" | grep -q '^boot ' && fail "the restored guest booted again"

destroy "$id"
pass
