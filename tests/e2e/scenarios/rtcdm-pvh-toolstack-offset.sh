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
# shows from dom0.
. /e2e/lib.sh

NAME=e2e-rtcdm-pvh-ts
TS=3600
DMLOG=$E2E_RUN/rtcdm.log
cat >"$E2E_RUN/pvh.cfg" <<CFG
name = "$NAME"
type = "pvh"
kernel = "/e2e/guest/guest-pvh-probe.elf"
rtc_timeoffset = $TS
memory = 32
vcpus = 1
tsc_mode = "native"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "preserve"
CFG
[ -x /e2e/bin/rtcdm ] || fail "rtcdm is not in this build"
[ -x /e2e/bin/rtcdm-ctx ] || fail "rtcdm-ctx is not in this build"

dm_fail() {
	tail -n 20 "$DMLOG" 2>/dev/null | sed "s/^/[$E2E_NAME]   rtcdm: /"
	fail "$@"
}

mark_log
run 180 xl create -p "$E2E_RUN/pvh.cfg"
rc=$?
[ $rc -eq 137 ] && testbed "xl create -p did not return within 180 s"
id=$(domid "$NAME")
[ -n "$id" ] || fail "xl create -p (exit $rc) left no domain: $(tail -n 1 "$OUT")"
log "domain $NAME is d$id (paused)"

rtcdm --platform xen --domid "$id" -v >"$DMLOG" 2>&1 &
dm_pid=$!
ready=0
for _i in $(seq 1 60); do
	grep -q 'running: platform xen' "$DMLOG" && { ready=1; break; }
	kill -0 "$dm_pid" 2>/dev/null || break
	sleep 1
done
[ $ready = 1 ] || dm_fail "rtcdm did not start (pid $dm_pid)"
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
expect_guest "$id" '^regs ' 5 "regs line"
check "reset registers (A B D, CMOS present)" \
	"$(field "$LINE" a) $(field "$LINE" b) $(field "$LINE" d) $(field "$LINE" cmos)" "26 02 80 1"

# The guest's RTC: dom0's clock + the toolstack's offset (latest report).
expect_guest "$id" '^n=2 ' 30 "second report line"
expect_guest "$id" '^n=' 5 "the latest report line"
t=$(field "$LINE" time)
seen=$(($(epoch "$t") - $(date +%s)))
[ "$seen" -ge $((TS - 6)) ] && [ "$seen" -le $((TS + 2)) ] ||
	fail "guest clock minus dom0 clock: got $seen s, want $TS s (-6..+2)"
log "ok: guest clock minus dom0 clock = $seen (want $TS)"

# Its PV wallclock: the host's + the same offset, from both sides.
run 30 rtcdm-ctx wallclock --domid "$id" || fail "rtcdm-ctx wallclock failed: $(tr '\n' ' ' <"$OUT")"
check "PV wallclock offset (rtcdm-ctx wallclock)" \
	"$(sed -n 's/^offset=\(-*[0-9]*\) .*/\1/p' "$OUT")" "$TS"
host_wc=$(sed -n 's/^host_wallclock sec=\([0-9]*\) .*/\1/p' "$OUT")
expect_guest "$id" '^wallclock ' 30 "a wallclock line"
wc=$(field "$LINE" wc)
[ -n "$wc" ] && [ "$(field "$LINE" wcv)" -gt 0 ] 2>/dev/null ||
	fail "the guest reads no PV wallclock: $LINE"
check "guest's PV wallclock minus the host wallclock" "$((wc - host_wc))" "$TS"

kill -TERM "$dm_pid"
wait "$dm_pid"
check "rtcdm exit status after SIGTERM" "$?" 0
grep -q "ioreq server [0-9]* of domain $id destroyed" "$DMLOG" ||
	dm_fail "rtcdm did not report destroying its ioreq server"
destroy "$id"
pass
