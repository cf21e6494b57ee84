#!/bin/sh
# e2e-timeout: 420
#
# rtcdm on a PVH domain (no vRTC in Xen): the whole RTC through the real
# ioreq path.  The domain is created paused and rtcdm-attach does what an
# operator runs: it starts rtcdm, which attaches to the domain as an ioreq
# server for ports 0x70-0x71, waits until it is ready (its log at the
# default place) and unpauses the domain.  The guest must
# see the power-on registers, its NVRAM, a one-year clock step that reads
# back, the update-ended, alarm and periodic flags; Xen's PV wallclock of
# the domain must move by exactly that step, as the guest reads it in its
# own shared_info page (which it places with XENMEM_add_to_physmap) and as
# dom0 reads it through a foreign mapping (rtcdm-ctx wallclock); rtcdm
# must stop cleanly on SIGTERM and destroy its ioreq server.
. /e2e/lib.sh

NAME=e2e-rtcdm-pvh
# rtcdm-attach's default log (started afresh, should the scenario run again).
DMLOG=/var/log/xen/rtcdm-$NAME.log
: >"$DMLOG"
pvh_cfg "$E2E_RUN/pvh.cfg" "$NAME" setyear
require rtcdm rtcdm-ctx rtcdm-attach

# wallclock_offset DOMID -> WC_OFFSET (PV wallclock minus host wallclock, s),
# or WC_OFFSET=unmapped when the guest never placed its shared_info page in
# its memory (the test guest makes no hypercalls): Xen then has no frame a
# foreign mapping can reach, and only the host wallclock can be checked.
wallclock_offset() {
	run 30 rtcdm-ctx wallclock --domid "$1"
	_rc=$?
	grep -q '^domain=[0-9]* type=pvh vrtc=0 ' "$OUT" || fail "not seen as PVH without vRTC: $(head -n 1 "$OUT")"
	grep -q '^xen_rtc none ' "$OUT" || fail "Xen holds an RTC record for a PVH domain: $(grep xen_rtc "$OUT")"
	grep -q '^host_wallclock sec=[0-9]* ' "$OUT" || fail "no host wallclock: $(grep host_wallclock "$OUT")"
	if [ $_rc -ne 0 ] && grep -q 'has not placed its shared_info page' "$OUT"; then
		WC_OFFSET=unmapped
		return 0
	fi
	[ $_rc -eq 0 ] || dm_fail "rtcdm-ctx wallclock --domid $1 failed: $(tr '\n' ' ' <"$OUT")"
	WC_OFFSET=$(sed -n 's/^offset=\(-*[0-9]*\) .*/\1/p' "$OUT")
	[ -n "$WC_OFFSET" ] || dm_fail "rtcdm-ctx wallclock printed no offset: $(tr '\n' ' ' <"$OUT")"
}

# ---- create paused, rtcdm-attach (rtcdm, then unpause) ----------------------------
create_paused "$E2E_RUN/pvh.cfg" "$NAME"
id=$DOMID

wallclock_offset "$id"
[ "$WC_OFFSET" = unmapped ] || check "PV wallclock offset before the guest runs" "$WC_OFFSET" 0

# By name, with its default log: what README's PVH section shows.
attach_rtcdm "$id" "$NAME"
check "rtcdm-attach's report" "$ATTACHED" \
	"rtcdm-attach: rtcdm (pid $DM_PID) serves domain $NAME (d$id), log $DMLOG; domain unpaused"
grep -q 'PVH mode' "$DMLOG" || dm_fail "rtcdm did not choose PVH mode"

# ---- what the guest sees -------------------------------------------------------
expect_guest "$id" '^ready' 150 "ready line"
expect_guest "$id" '^boot ' 5 "boot line"
check "entry path" "$(field "$LINE" entry)" pvh
reset_regs "$id" "reset registers (A B D, CMOS present)"
expect_guest "$id" '^nvram ' 5 "nvram line"
check "NVRAM 0x41 write/read" "$LINE" "nvram index=41 wrote=a5 read=a5 wrote=3c read=3c"
year_step "$id" 5
want=$STEP
mode_flags "$id"
# Every PVH port access is a round trip through rtcdm in dom0: under TCG
# 0.1 to 0.2 s (measured 1 and 5 s for the guest's post-alarm time read of
# some 40 accesses), so that read lands after the alarm second.  AF cannot
# be set before it (flags are derived from guest time): never earlier.
_at=$(field "$LINE" at)
_want=$(field "$LINE" want)
_late=$(((_at - _want + 60) % 60))
[ "$_late" -le 10 ] || fail "alarm seen at second $_at, alarm second $_want: $LINE"
log "ok: alarm seen at second $_at for alarm second $_want ($_late s of access latency)"
periodic_flag "$id"

# The guest's clock runs a year ahead of dom0's.  The guest reports about
# once a second and runs well ahead of these checks: compare the latest
# report, read just now, with dom0's clock (fetch lag: -6..+2 s).
expect_guest "$id" '^n=2 ' 30 "second report line"
guest_offset "$id" 1
check_near "guest clock minus dom0 clock" "$SEEN_OFFSET" "$want"
check "NVRAM marker and scratch in the report" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"

# ---- the PV wallclock followed ---------------------------------------------------
# The guest placed its shared_info page in its memory (XENMAPSPACE_shared_info,
# native layout) and prints the wallclock Xen keeps there: wc_sec is the
# host wallclock at system time 0 plus the domain's offset, which rtcdm
# pushed with settimeoffset.  dom0 reads the same page through a foreign
# mapping (rtcdm-ctx wallclock).
expect_guest "$id" '^shinfo ' 5 "shinfo line"
check "shared_info placed by the guest (XENMEM_add_to_physmap)" "$(field "$LINE" rc)" 0
# The clock stands still while SET is on (datasheet), and every access of
# the guest's SET-write-clear sequences is a round trip to dom0: the offset
# rtcdm ends with is the year minus the whole seconds SET was held (0..3).
step=$(sed -n 's/.*guest changed its clock by [-+][0-9]* s: offset \([0-9]*\) s .*/\1/p' "$DMLOG" | tail -n 1)
[ -n "$step" ] || dm_fail "rtcdm did not log the guest's clock change"
[ "$step" -le "$want" ] && [ "$step" -ge $((want - 3)) ] ||
	dm_fail "offset after the guest's changes: got $step s, want the year ($want s) minus 0..3 s held in SET"
log "ok: rtcdm followed the guest's clock to offset $step s (year $want s)"
grep -q "Xen time offset of domain $id set to $step s" "$DMLOG" ||
	dm_fail "rtcdm did not push the offset $step s to Xen (settimeoffset)"
wallclock_offset "$id"
[ "$WC_OFFSET" = unmapped ] && fail "rtcdm-ctx wallclock: shared_info still not reachable after the guest placed it"
check "PV wallclock offset after the guest's step (rtcdm-ctx wallclock)" "$WC_OFFSET" "$step"
host_wc=$(sed -n 's/^host_wallclock sec=\([0-9]*\) .*/\1/p' "$OUT")
guest_wallclock "$id" "$host_wc" "$step" \
	"guest's PV wallclock minus the host wallclock (its own shared_info)" next

# ---- clean stop --------------------------------------------------------------------
stop_rtcdm "$id"
dm_log_tail

destroy "$id"
pass
