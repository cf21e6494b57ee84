#!/bin/sh
# e2e-timeout: 540
#
# rtcdm as an HVM domain's device model with rtc_timeoffset = 3600 in the
# domain's config: the toolstack's offset wins over the guest's, as in Xen.
# libxl gives Xen the offset at creation (settimeoffset: rtcdm reads it in
# Xen's RTC record and calls it the toolstack's); the guest then moves its
# clock a year forward, which Xen and rtcdm follow; xl save writes that
# offset; xl restore gives Xen the config's 3600 s again before the saved
# context loads, so Xen discards the guest's saved offset, and rtcdm
# follows Xen: the restored guest reads dom0's clock + 3600 s, xenstore and
# Xen's RTC record say 3600.
. /e2e/lib.sh

NAME=e2e-rtcdm-tsoff
IMG=$E2E_SAVE/rtcdm-tsoff.img
DMLOG=/var/log/xen/qemu-dm-$NAME.log
TS=3600
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--rtc-only" ]' \
	"rtc_timeoffset = $TS"
require rtcdm

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q 'HVM mode' "$DMLOG" || fail "rtcdm did not choose HVM mode"
grep -q "Xen's RTC record: offset $TS s (set by the toolstack)" "$DMLOG" ||
	fail "rtcdm did not see the toolstack's $TS s in Xen's RTC record: $(grep "RTC record" "$DMLOG")"

year_step "$id" 150
step=$STEP
expect_guest "$id" '^ready' 60 "ready line"
grep -q "hypervisor reports a guest clock change of +$step s" "$DMLOG" ||
	fail "rtcdm did not follow Xen's TIMEOFFSET of +$step s"
before=$((TS + step))
xen_offset "$id"
check "Xen's RTC record before save (toolstack + guest step)" "$XEN_OFFSET" "$before"
xenstore_offset "$id" "$before"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before save" "$SEEN_OFFSET" "$before"
n_before=$SEEN_N

xl_save "$id" "$IMG"
run 180 rtcdm-ctx dump "$IMG" || fail "rtcdm-ctx dump exited $?: $(tail -n 1 "$OUT")"
grep -Eq "^  rtc_offset +$before s" "$OUT" || fail "rtcdm-ctx dump: Xen's RTC record offset is not $before s"
log "ok: the image holds the guest's offset $before s"

xl_restore "$IMG" "$NAME"
id=$DOMID
grep -q "Xen's RTC record: offset $TS s (restored domain)" "$DMLOG" ||
	fail "rtcdm did not find the toolstack's $TS s in Xen's record after restore: $(grep "RTC record\|time offset" "$DMLOG" | tail -n 3)"
xen_offset "$id"
check "Xen's RTC record after restore (the toolstack's offset)" "$XEN_OFFSET" "$TS"
guest_offset "$id" "$n_before"
check_near "guest clock minus dom0 clock after restore" "$SEEN_OFFSET" "$TS"
guest_lines "$id" | grep -q '^boot ' && fail "the restored guest booted again"
xenstore_offset "$id" "$TS"

destroy "$id"
pass
