#!/bin/sh
# e2e-timeout: 300
#
# rtcdm attached to a PVH domain that has already run: its config sets
# rtc_timeoffset = 3600, so the PV wallclock holds that offset, but the guest
# has placed its shared_info page in its own memory and can write it.  rtcdm
# must not take the page's offset as the toolstack's: its log says the
# offset was not read because the domain has run, and it keeps its own
# offset (none: it does not give Xen the 3600 s either way).  rtcdm-attach,
# what an operator runs, refuses such a domain (it is not paused) and starts
# nothing; rtcdm itself is then started by hand.
. /e2e/lib.sh

NAME=e2e-rtcdm-pvh-late
DMLOG=$E2E_RUN/rtcdm.log
pvh_cfg "$E2E_RUN/pvh.cfg" "$NAME" probe "rtc_timeoffset = 3600"
require rtcdm rtcdm-attach

create_paused "$E2E_RUN/pvh.cfg" "$NAME"
id=$DOMID
run 60 xl unpause "$id" || fail "xl unpause $id failed (exit $?)"
# The guest runs without an RTC (it reads 0xff) and places its shared_info.
expect_guest "$id" '^shinfo ' 120 "shinfo line"
check "shared_info placed by the guest itself" "$(field "$LINE" rc)" 0

run 60 "$RTCDM_ATTACH" --log "$DMLOG" "$id"
check "rtcdm-attach on a running domain: exit status" "$?" 1
check "rtcdm-attach on a running domain: its message" "$(sed 's/(state [^)]*)/(state S)/' "$OUT")" \
	"rtcdm-attach: domain $NAME (d$id) is not paused (state S): create it with xl create -p, then run rtcdm-attach"
[ -s "$DMLOG" ] && fail "rtcdm-attach started rtcdm for a running domain: $(head -n 1 "$DMLOG")"
timeout -s KILL 10 xenstore-read "/local/domain/0/device-model/$id/state" 2>/dev/null &&
	fail "rtcdm-attach left a device-model state for a running domain"

start_rtcdm "$id"
grep -q "toolstack offset not read from the PV wallclock: domain $id has run (it is not paused)" "$DMLOG" ||
	dm_fail "rtcdm did not say it left the running guest's PV wallclock alone"
grep -q "set by the toolstack" "$DMLOG" && dm_fail "rtcdm took a running guest's PV wallclock as the toolstack's offset"
grep -q "PV wallclock [0-9]" "$DMLOG" && dm_fail "rtcdm read a running guest's PV wallclock"

stop_rtcdm "$id"
destroy "$id"
pass
