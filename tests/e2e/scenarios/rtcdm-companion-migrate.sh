#!/bin/sh
# e2e-timeout: 720
#
# xl migrate of companion-mode HVM domains within the test-bed host
# (`xl migrate -s "" NAME "xl migrate-receive"`: the receiving side runs in
# dom0 as NAME--incoming, its rtcdm logs to qemu-dm-NAME--incoming.log).
#
# 1. A setyear guest moves its clock a year forward and writes NVRAM.  A
#    migration whose receiver is killed half-way through the memory fails:
#    the source domain runs on under its own name with the same rtcdm, its
#    clock (guest, Xen's record, xenstore) and NVRAM.
# 2. The same domain migrates: the receiving rtcdm finds its part after
#    QEMU's stream in the migration's device-model context and logs the
#    offset as the image's; the guest counts on (no new boot) with its clock
#    and NVRAM; Xen's record and xenstore hold the offset.
# 3. A probe guest with rtc_timeoffset = 3600 migrates: the receiving rtcdm
#    keeps the toolstack's offset (the image's `set` flag).
# On HVM Xen's vRTC owns registers 0-13 and its record carries whole seconds;
# hvm-migrate-phase measures the sub-second phase the guest sees.
. /e2e/lib.sh

NAME=e2e-comp-mig
NAME_TS=e2e-comp-migts
TS=3600
CUT=8388608
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\""
hvm_cfg "$E2E_RUN/hvm-ts.cfg" "$NAME_TS" probe "device_model_override = \"$RTCDM\"" \
	"rtc_timeoffset = $TS"
require rtcdm

# receiver-cut: xl migrate-receive gets the first CUT bytes of the stream, then SIGKILL;
# the half-built NAME--incoming it leaves is destroyed.
cat >"$E2E_RUN/receiver-cut" <<RECV
#!/bin/sh
rm -f "$E2E_RUN/receiver-cut.fifo"
mkfifo "$E2E_RUN/receiver-cut.fifo" || exit 1
xl migrate-receive <"$E2E_RUN/receiver-cut.fifo" &
r=\$!
exec 3>"$E2E_RUN/receiver-cut.fifo"
head -c $CUT >&3
kill -KILL \$r
echo "receiver \$r killed after $CUT bytes" >&2
exec 3>&-
wait \$r
xl destroy "$NAME--incoming" </dev/null >/dev/null 2>&1
exit 1
RECV

# companion_migrate_ok NAME WHAT — migrate_ok, then the receiving side is companion mode
# and its rtcdm found its part after QEMU's stream.
companion_migrate_ok() {
	migrate_ok "$1" "$2"
	companion_pids "$id"
	served_by_rtcdm
	grep -q "incoming: QEMU's stream ([0-9]* bytes), then rtcdm's image" "$DMLOG" ||
		dm_fail "the receiving rtcdm did not find its part of the migration's context"
}

# ---- 1. a migration whose receiver is killed -------------------------------------------------
DMLOG=/var/log/xen/qemu-dm-$NAME.log
create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
src_pid=$DM_PID
year_step "$id" 150
want=$STEP
expect_guest "$id" '^ready' 60 "ready line"
xenstore_offset "$id" "$want"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before migrating" "$SEEN_OFFSET" "$want" 10
migrate "$NAME" "sh $E2E_RUN/receiver-cut" 300
[ $MIG_RC -ne 0 ] || fail "xl migrate succeeded although its receiver was killed"
grep -q "killed after $CUT bytes" "$OUT" || testbed "the receiver was not killed: $(tail -n 3 "$OUT" | tr '\n' ' ')"
[ -n "$(domid "$NAME--incoming")" ] && fail "$NAME--incoming is still there"
check "the source domain keeps its id" "$(domid "$NAME")" "$id"
check "the source's device model is still rtcdm pid $src_pid" \
	"$(xenstore-read "/local/domain/$id/image/device-model-pid" 2>/dev/null)" "$src_pid"
xen_offset "$id"
check "Xen's RTC record after the failed migration" "$XEN_OFFSET" "$want"
guest_offset "$id" "$SEEN_N" 2
check_near "guest clock minus dom0 clock after the failed migration" "$SEEN_OFFSET" "$want" 10
check "NVRAM after the failed migration" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
n_before=$SEEN_N

# ---- 2. the migration --------------------------------------------------------------------
companion_migrate_ok "$NAME" "companion-mode migration"
grep -Eq "time offset: offset $want s from the image \(.*\) \[image\]" "$DMLOG" ||
	dm_fail "the receiving rtcdm did not take the offset $want s from the image: $(grep 'time offset:' "$DMLOG" | tail -n 1)"
log "ok: receiving rtcdm: $(grep -o 'time offset: .*' "$DMLOG" | tail -n 1)"
xen_offset "$id"
check "Xen's RTC record after the migration" "$XEN_OFFSET" "$want"
xenstore_offset "$id" "$want"
guest_offset "$id" "$n_before" 2
check_near "guest clock minus dom0 clock after the migration" "$SEEN_OFFSET" "$want" 10
check "NVRAM after the migration (marker, scratch)" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
guest_lines "$id" | grep -q '^boot ' && fail "the migrated guest booted again"
destroy "$id"

# ---- 3. the toolstack's offset and its flag ------------------------------------------------
DMLOG=/var/log/xen/qemu-dm-$NAME_TS.log
create "$E2E_RUN/hvm-ts.cfg" "$NAME_TS"
id=$DOMID
expect_guest "$id" '^ready' 150 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before migrating" "$SEEN_OFFSET" "$TS" 10
n_before=$SEEN_N
companion_migrate_ok "$NAME_TS" "companion-mode migration with rtc_timeoffset"
grep -Eq "time offset: offset $TS s from the image, set by the toolstack before the save \(.*\) \[toolstack\]" "$DMLOG" ||
	dm_fail "the receiving rtcdm did not keep the toolstack's $TS s: $(grep 'time offset:' "$DMLOG" | tail -n 1)"
log "ok: receiving rtcdm: $(grep -o 'time offset: .*' "$DMLOG" | tail -n 1)"
xen_offset "$id"
check "Xen's RTC record after the migration" "$XEN_OFFSET" "$TS"
guest_offset "$id" "$n_before"
check_near "guest clock minus dom0 clock after the migration" "$SEEN_OFFSET" "$TS" 10
destroy "$id"
pass
