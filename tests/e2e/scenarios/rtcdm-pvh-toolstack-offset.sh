#!/bin/sh
# e2e-timeout: 300
#
# rtcdm on a PVH domain whose config sets rtc_timeoffset = 3600: libxl gives
# Xen the offset (settimeoffset) before the guest runs, and no domctl reads
# it back.  rtcdm finds it in the domain's PV wallclock: the domain is
# paused and its guest has not placed its shared_info page yet, so rtcdm
# places the page for the time of one read (and removes it), sees
# wallclock - host wallclock = 3600 s, and takes it as the toolstack's.
# The guest (probe variant: it does not move its clock) then reads dom0's
# clock + 3600 s from the RTC, and its own PV wallclock (its shared_info,
# placed at its own frame) is the host's + 3600 s, as rtcdm-ctx wallclock
# shows from dom0.  rtcdm-attach --no-unpause starts rtcdm and leaves the
# domain paused, so that the page can be seen removed before the guest runs.
. /e2e/lib.sh

NAME=e2e-rtcdm-pvh-ts
TS=3600
DMLOG=$E2E_RUN/rtcdm.log
pvh_cfg "$E2E_RUN/pvh.cfg" "$NAME" probe "rtc_timeoffset = $TS"
require rtcdm rtcdm-ctx rtcdm-attach

create_paused "$E2E_RUN/pvh.cfg" "$NAME"
id=$DOMID

attach_rtcdm "$id" "$id" --log "$DMLOG" --no-unpause
case $ATTACHED in *"; domain left paused") ;; *) fail "rtcdm-attach --no-unpause: $ATTACHED" ;; esac
grep -q "offset $TS s (set by the toolstack)" "$DMLOG" ||
	dm_fail "rtcdm did not find the toolstack's $TS s in the PV wallclock: $(grep 'PV wallclock' "$DMLOG")"
grep -q "giving Xen the guest's offset" "$DMLOG" && dm_fail "rtcdm overrode the toolstack's offset"
run 30 rtcdm-ctx wallclock --domid "$id"
grep -q 'has not placed its shared_info page' "$OUT" ||
	fail "rtcdm left the shared_info page placed in the paused domain: $(grep pv_wallclock "$OUT")"

run 60 xl unpause "$id" || fail "xl unpause $id failed (exit $?)"
expect_guest "$id" '^shinfo ' 120 "shinfo line"
check "shared_info placed by the guest itself" "$(field "$LINE" rc)" 0
expect_guest "$id" '^ready' 150 "ready line"
reset_regs "$id" "reset registers (A B D, CMOS present)"

# The guest's RTC: dom0's clock + the toolstack's offset (latest report).
expect_guest "$id" '^n=2 ' 30 "second report line"
guest_offset "$id" 1
check_near "guest clock minus dom0 clock" "$SEEN_OFFSET" "$TS"

# Its PV wallclock: the host's + the same offset, from both sides.
run 30 rtcdm-ctx wallclock --domid "$id" || fail "rtcdm-ctx wallclock failed: $(tr '\n' ' ' <"$OUT")"
check "PV wallclock offset (rtcdm-ctx wallclock)" \
	"$(sed -n 's/^offset=\(-*[0-9]*\) .*/\1/p' "$OUT")" "$TS"
host_wc=$(sed -n 's/^host_wallclock sec=\([0-9]*\) .*/\1/p' "$OUT")
guest_wallclock "$id" "$host_wc" "$TS" "guest's PV wallclock minus the host wallclock"

stop_rtcdm "$id"
destroy "$id"
pass
