#!/bin/sh
# e2e-timeout: 480
#
# Companion mode across xl destroy + xl create (a power cycle), with the
# domain's memory changed between the two lives: rtcdm's battery-backed
# CMOS gives the guest its clock and NVRAM back, while QEMU's configuration
# bytes for the new boot (the memory size at 0x34-0x35) win over what the
# battery kept.
#
# First life (32 MiB): the guest writes NVRAM 0x41 = 3c and its marker
# 0x40 = 5a and moves its clock a year forward; rtcdm publishes the offset in
# xenstore and keeps /var/lib/xen/rtcdm/<uuid>.cmos.  Second life (48 MiB,
# same UUID): rtcdm loads the battery file, QEMU's new size reaches the
# guest through rtcdm, the guest finds its marker (skips the step), its
# scratch byte and a clock a year ahead of dom0's.
. /e2e/lib.sh

NAME=e2e-companion-battery
UUID=7c3a9e10-2b4d-4f6e-8a1c-5d7e9f0a1b2c
STATE=/var/lib/xen/rtcdm
BAT=$STATE/$UUID.cmos
DMLOG=/var/log/xen/qemu-dm-$NAME.log
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--companion" ]' "uuid = \"$UUID\""
require rtcdm rtcdm-ctx
rm -f "$BAT"

# ---- first life, 32 MiB ---------------------------------------------------------------
create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
qemu_mem_bytes
first_mem=$MEM_BYTES
guest_mem_bytes "$id"
check "memory size the guest reads through rtcdm, first life" "$GUEST_MEM" "$first_mem"
year_step "$id" 150
want=$STEP
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock, first life" "$SEEN_OFFSET" "$want" 10
check "NVRAM marker and scratch, first life" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
xenstore_offset "$id" "$want"

destroy "$id"
for _i in 1 2 3 4 5 6 7 8 9 10; do
	[ -f "$BAT" ] && ! running_pid "$DM_PID" && break
	sleep 1
done
running_pid "$DM_PID" && fail "rtcdm (pid $DM_PID) still runs 10 s after xl destroy"
[ -f "$BAT" ] || fail "no battery file $BAT after xl destroy: $(ls -la "$STATE" 2>&1 | tr '\n' ' ')"
battery_file "$BAT" "$want"

# ---- second life, 48 MiB, same UUID -------------------------------------------------------
sed -i 's/^memory = 32$/memory = 48/' "$E2E_RUN/hvm.cfg"
grep -q '^memory = 48$' "$E2E_RUN/hvm.cfg" || fail "the config's memory was not changed"
create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
qemu_mem_bytes
[ "$MEM_BYTES" = "$first_mem" ] && fail "QEMU's memory size did not change ($MEM_BYTES)"
grep -q "restored the battery-backed CMOS from $BAT" "$DMLOG" ||
	fail "rtcdm did not load $BAT: $(grep -i 'battery\|time offset' "$DMLOG" | tail -n 3 | tr '\n' ' ')"
grep -q "NVRAM from QEMU's CMOS (its configuration bytes) and the battery file (the rest): .* (memory above 16 MiB 0x34-0x35 = $MEM_BYTES)" "$DMLOG" ||
	fail "rtcdm did not merge QEMU's new size into the battery's NVRAM: $(grep "QEMU's CMOS" "$DMLOG" | tr '\n' ' ')"
guest_mem_bytes "$id"
check "memory size the guest reads through rtcdm, second life (the new size)" "$GUEST_MEM" "$MEM_BYTES"
expect_guest "$id" '^set skipped marker=5a' 150 "set skipped line (NVRAM marker kept)"
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock after the power cycle" "$SEEN_OFFSET" "$want" 10
check "NVRAM marker and scratch after the power cycle" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
xen_offset "$id"
check "Xen's RTC record of the new domain" "$XEN_OFFSET" "$want"
xenstore_offset "$id" "$want"

destroy "$id"
rm -f "$BAT"
pass
