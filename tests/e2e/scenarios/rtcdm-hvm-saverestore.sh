#!/bin/sh
# e2e-timeout: 600
#
# rtcdm as an HVM domain's device model in RTC-only mode (device_model_override,
# qemu-xen protocol, device_model_args_hvm = [ "--rtc-only" ]), our guest as
# firmware.  Xen's vRTC serves registers 0-13;
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
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--rtc-only" ]'
require rtcdm rtcdm-ctx
# The package ships the state directory (rtcdm-hvm-reboot removes it to see rtcdm make it).
check "state directory mode and owner" "$(stat -c '%a %u' /var/lib/xen/rtcdm 2>&1)" "700 0"

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q 'info: RTC-only mode (--rtc-only)$' "$DMLOG" || fail "rtcdm did not choose RTC-only mode for --rtc-only"
grep -q 'companion mode\|QEMU [0-9.]* ready' "$DMLOG" && fail "rtcdm started QEMU in RTC-only mode"
grep -q 'running: platform xen' "$DMLOG" || fail "rtcdm did not report running on platform xen"
grep -q 'HVM mode' "$DMLOG" || fail "rtcdm did not choose HVM mode"

expect_guest "$id" '^ready' 150 "ready line"
reset_regs "$id" "reset registers from Xen's vRTC (A B D, CMOS present)"
expect_guest "$id" '^nvram ' 5 "nvram line"
check "NVRAM 0x41 write/read (rtcdm's CMOS)" "$LINE" "nvram index=41 wrote=a5 read=a5 wrote=3c read=3c"
year_step "$id" 5
want=$STEP
expect_guest "$id" '^periodic ' 10 "periodic line"

grep -q "hypervisor reports a guest clock change of +$want s" "$DMLOG" ||
	fail "rtcdm did not follow Xen's TIMEOFFSET of +$want s"
xenstore_offset "$id" "$want"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before save" "$SEEN_OFFSET" "$want"
n_before=$SEEN_N

# ---- save -------------------------------------------------------------------------
xl_save "$id" "$IMG"
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
xl_restore "$IMG" "$NAME"
id=$DOMID
grep -q 'restored device state from -incoming' "$DMLOG" || fail "rtcdm did not load the incoming state"
guest_offset "$id" "$n_before"
check_near "guest clock minus dom0 clock after restore" "$SEEN_OFFSET" "$want"
guest_lines "$id" | grep -q '^boot ' && fail "the restored guest booted again"
check "NVRAM after restore (marker, scratch)" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
xenstore_offset "$id" "$want"

destroy "$id"
pass
