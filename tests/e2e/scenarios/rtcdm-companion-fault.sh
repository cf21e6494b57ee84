#!/bin/sh
# e2e-timeout: 600
#
# Companion mode, kill -9 of rtcdm's serving part (the "rtcdm-rtc" process
# that runs rtcdm's ioreq server) while the guest reads its NVRAM back to
# back (guest variant setyear-poll): the guest keeps running.  The serving
# part is stopped (SIGSTOP) first, so that the guest's vCPU certainly waits
# on it when it dies.  rtcdm (the process libxl knows) sees the
# end, answers any vCPU request still pending on the dead server, destroys
# it, so that QEMU's server answers 0x70-0x71 again, and gives QEMU's CMOS
# the guest's NVRAM as the serving part last reported it.  Checked: the
# guest's report lines go on with its clock (Xen's vRTC) and its NVRAM (now
# QEMU's CMOS); rtcdm and QEMU still run; xl save still works (QEMU's stream
# alone) and xl restore gives the guest back under a new rtcdm; xl destroy
# ends everything.
. /e2e/lib.sh

NAME=e2e-companion-fault
IMG=$E2E_SAVE/companion-fault.img
DMLOG=/var/log/xen/qemu-dm-$NAME.log
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear-poll "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--companion" ]'
require rtcdm

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
companion_rtc_pid
grep -q "rtcdm's RTC runs in process $RTC_PID\$" "$DMLOG" ||
	fail "rtcdm's log does not name its serving part $RTC_PID"
log "rtcdm $DM_PID, its QEMU $QEMU_PID, its serving part $RTC_PID"

year_step "$id" 150
want=$STEP
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0 2
check_near "guest clock minus dom0 clock before the fault" "$SEEN_OFFSET" "$want" 10
check "NVRAM marker and scratch before the fault" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"

polls_before=$(field "$LINE" polls)
[ "$(field "$LINE" odd)" = 0 ] || fail "the guest read other values than its scratch byte: $LINE"

# ---- the fault: the guest's vCPU waits on the stopped serving part, which then dies ----
kill -STOP "$RTC_PID"
sleep 2
kill -9 "$RTC_PID"
end=$(($(date +%s) + 30))
until grep -q "ports 0x70-0x71 fall back to QEMU" "$DMLOG"; do
	[ "$(date +%s)" -ge "$end" ] && fail "rtcdm did not fall back to QEMU: $(tail -n 5 "$DMLOG" | tr '\n' ' ')"
	sleep 1
done
grep -q "rtcdm's RTC (process $RTC_PID) ended unexpectedly (signal 9)" "$DMLOG" ||
	fail "rtcdm's log does not say its serving part was killed"
grep -Eq "ioreq server [1-7] disabled and destroyed, 1 waiting vCPU request answered" "$DMLOG" ||
	fail "rtcdm did not answer the guest's waiting access and destroy its server: $(grep -i 'rescue\|ioreq server' "$DMLOG" | tail -n 3 | tr '\n' ' ')"
log "ok: $(grep -Eo "ioreq server [0-9]+ disabled and destroyed.*" "$DMLOG")"
log "ok: $(grep -o "QEMU's CMOS brought up to date for.*" "$DMLOG")"
n_fault=$SEEN_N
guest_offset "$id" "$((n_fault + 2))" 3
check_near "guest clock minus dom0 clock after the fault" "$SEEN_OFFSET" "$want" 10
check "NVRAM marker and scratch after the fault (QEMU's CMOS)" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
polls_after=$(field "$LINE" polls)
[ "$polls_after" -gt "$polls_before" ] || fail "the guest stopped reading its NVRAM: polls $polls_before -> $polls_after"
# The one access that was waiting got an absent device's answer: a read 0xff, or an index
# write dropped (then the next read found QEMU's index where rtcdm's last write into QEMU's
# CMOS left it); every other read gives 3c.
odd=$(field "$LINE" odd)
[ "$odd" -le 1 ] || fail "the guest read $odd values other than its scratch byte after the fault"
log "ok: reads of the guest that did not give its scratch byte: $odd (at most the one in flight)"
log "ok: the guest read its NVRAM $((polls_after - polls_before)) more times after the fault"
running_pid "$DM_PID" || fail "rtcdm (pid $DM_PID) ended with its serving part"
running_pid "$QEMU_PID" || fail "QEMU (pid $QEMU_PID) ended with rtcdm's serving part"
n_before=$SEEN_N

# ---- libxl still manages the domain -----------------------------------------------------
xl_save "$id" "$IMG"
grep -q "saved: QEMU's device state alone" "$DMLOG" ||
	fail "rtcdm's log does not say the save is QEMU's alone: $(tail -n 3 "$DMLOG" | tr '\n' ' ')"
xl_restore "$IMG" "$NAME"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
grep -q "incoming: a stock qemu-xen context, no rtcdm part" "$DMLOG" ||
	fail "the new rtcdm did not take the context for a stock one"
guest_offset "$id" "$n_before" 2
check_near "guest clock minus dom0 clock after save and restore" "$SEEN_OFFSET" "$want" 10
check "NVRAM after save and restore (rtcdm again)" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
destroy "$id"
companion_gone
pass
