#!/bin/sh
# e2e-timeout: 420
#
# rtcdm as an HVM domain's device model across xl destroy + xl create (a
# power cycle): the battery-backed CMOS gives the guest its clock and NVRAM
# back, as a PC's battery would.  Stock Xen starts the new domain at the
# config's offset (0) and QEMU's NVRAM empty.
#
# libxl passes no -uuid: rtcdm takes the domain's UUID from xenstore
# (/local/domain/<domid>/vm) and keeps /var/lib/xen/rtcdm/<uuid>.cmos,
# creating the state directory when it is missing.  The config names a
# fixed UUID, as a domain that keeps its identity across creations does.
#
# First run: the guest writes NVRAM 0x41 = 3c and its "already set" marker
# 0x40 = 5a, and moves its clock a year forward.  After xl destroy and xl
# create, the same guest finds the marker (and skips the step), its NVRAM,
# and a clock a year ahead of dom0's; Xen's RTC record holds that offset
# (rtcdm gave it to the fresh domain).
. /e2e/lib.sh

NAME=e2e-rtcdm-reboot
UUID=5e1f0c2a-7d3b-4e8a-9c61-0b2d4f6a8e10
STATE=/var/lib/xen/rtcdm
BAT=$STATE/$UUID.cmos
DMLOG=/var/log/xen/qemu-dm-$NAME.log
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--rtc-only" ]' \
	"uuid = \"$UUID\""
require rtcdm
# A fresh machine: no state directory yet (rtcdm creates it); put back as
# the package ships it at the end.
rm -rf "$STATE"

# ---- first life -------------------------------------------------------------------
create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q "domain UUID $UUID (from xenstore /local/domain/$id/vm)" "$DMLOG" ||
	fail "rtcdm did not take the UUID from xenstore: $(grep -i uuid "$DMLOG" | head -n 2)"
year_step "$id" 150
want=$STEP
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock, first life" "$SEEN_OFFSET" "$want"
check "NVRAM marker and scratch, first life" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"

destroy "$id"
# rtcdm writes the file within 100 ms of a change and again at exit (SIGHUP).
for _i in 1 2 3 4 5 6 7 8 9 10; do
	[ -f "$BAT" ] && ! pgrep -f "rtcdm.*-xen-domid $id " >/dev/null && break
	sleep 1
done
[ -f "$BAT" ] || fail "no battery file $BAT after xl destroy: $(ls -la "$STATE" 2>&1 | tr '\n' ' ')"
check "state directory mode" "$(stat -c %a "$STATE")" 700
check "battery file mode" "$(stat -c %a "$BAT")" 600
battery_file "$BAT" "$want"

# ---- second life: a new domain, same UUID ----------------------------------------------
create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q "restored the battery-backed CMOS from $BAT" "$DMLOG" ||
	fail "rtcdm did not load $BAT: $(grep -i 'battery\|time offset' "$DMLOG" | tail -n 3)"
grep -q "time offset: offset $want s from the battery-backed CMOS \[battery\]" "$DMLOG" ||
	fail "rtcdm's offset decision: $(grep 'time offset:' "$DMLOG" | tail -n 1)"
expect_guest "$id" '^set skipped marker=5a' 150 "set skipped line (NVRAM marker kept)"
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock after the power cycle" "$SEEN_OFFSET" "$want"
check "NVRAM marker and scratch after the power cycle" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
xen_offset "$id"
check "Xen's RTC record of the new domain" "$XEN_OFFSET" "$want"

destroy "$id"
# Leave the state directory as the package ships it (0700, root, empty)
# for the scenarios that follow.
rm -rf "$STATE"
mkdir -m 0700 "$STATE"
pass
