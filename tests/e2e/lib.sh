# lib.sh — helpers for test-bed scenarios (busybox sh, inside dom0).
#
# A scenario is /e2e/scenarios/NAME.sh; it starts with ". /e2e/lib.sh" and
# ends with exactly one of
#   pass                  every check held
#   fail REASON...        a check did not hold (a real failure)
#   testbed REASON...     the test bed misbehaved (run again once)
# The dom0 /init sets E2E_NAME, E2E_RUN (a fresh directory for this attempt)
# and E2E_SAVE (an empty tmpfs for save images).  Every wait is bounded.

: "${E2E_NAME:?}" "${E2E_RUN:?}" "${E2E_SAVE:?}"
XENLOG=$E2E_RUN/xen.log   # the Xen console ring as last read
OUT=$E2E_RUN/out          # output of the last run command
: >"$XENLOG"

log() { echo "[$E2E_NAME] $*"; }
note() { echo "@@E2E NOTE $E2E_NAME: $*"; }

pass() {
	# A failure recorded from a subshell wins.
	[ -s "$E2E_RUN/result" ] && exit 1
	echo PASS >"$E2E_RUN/result"
	exit 0
}
fail() {
	log "FAIL: $*"
	echo "FAIL $*" >"$E2E_RUN/result"
	exit 1
}
testbed() {
	log "TEST BED: $*"
	echo "TESTBED $*" >"$E2E_RUN/result"
	exit 2
}

# run SECS CMD... — run with a timeout; output in $OUT (also shown, last 15
# lines); returns the command's status (137 = killed by the timeout).
run() {
	_t=$1
	shift
	log "\$ $* (timeout ${_t} s)"
	_s=$(date +%s)
	timeout -s KILL "$_t" "$@" >"$OUT" 2>&1
	_rc=$?
	tail -n 15 "$OUT" | sed "s/^/[$E2E_NAME]   /"
	log "  -> exit $_rc after $(($(date +%s) - _s)) s"
	return $_rc
}

# ---- the Xen console ring (guest 0xe9 output) --------------------------------

# The whole ring each time (conring_size=1M; `xl dmesg` shows only the
# oldest 16 KiB).  Domain ids are not reused within a boot, so "(dN)" lines
# are this scenario's.
xen_sync() {
	timeout -s KILL 30 conring >"$XENLOG.new" 2>/dev/null && mv "$XENLOG.new" "$XENLOG"
}

# guest_lines DOMID — the guest's "RTCG ..." lines so far, without prefix.
guest_lines() {
	grep -a "(d$1) RTCG " "$XENLOG" | sed 's/.*(d[0-9]*) RTCG //' | tr -d '\r'
}

# wait_guest DOMID ERE SECS — set LINE to the latest guest line matching ERE
# (after the RTCG prefix) once one exists; status 1 if none within SECS.
wait_guest() {
	_end=$(($(date +%s) + $3))
	while :; do
		xen_sync
		LINE=$(guest_lines "$1" | grep -E -- "$2" | tail -n 1)
		[ -n "$LINE" ] && return 0
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 2
	done
}

# expect_guest DOMID ERE SECS WHAT — like wait_guest (sets LINE), but ends the scenario on
# timeout: a test-bed failure if the guest never printed anything at all.
expect_guest() {
	wait_guest "$1" "$2" "$3" && return 0
	_last=$(guest_lines "$1" | tail -n 1)
	[ -n "$_last" ] || testbed "no output from guest d$1 within $3 s (waiting for $4)"
	fail "no $4 from guest d$1 within $3 s (last line: $_last)"
}

# field LINE KEY — value of " KEY=value" in a guest line.
field() { echo " $1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

# check WHAT GOT WANT — exact comparison.
check() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	log "ok: $1 = $3"
}

# epoch YYYY-MM-DDTHH:MM:SS — seconds since 1970 (UTC).
epoch() { date -u -d "$(echo "$1" | tr T ' ')" +%s; }

# ---- domains -------------------------------------------------------------------

# domid NAME — the domain's id, empty if it does not exist.
domid() { timeout -s KILL 30 xl domid "$1" 2>/dev/null; }

# create CFG NAME — xl create; sets DOMID.  xl sometimes segfaults after
# the domain is up: the domain's existence is what counts.
create() {
	run 180 xl create "$1"
	_rc=$?
	[ $_rc -eq 137 ] && testbed "xl create did not return within 180 s"
	DOMID=$(domid "$2")
	if [ -z "$DOMID" ]; then
		fail "xl create $1 (exit $_rc) left no domain '$2': $(grep -v '^$' "$OUT" | tail -n 1)"
	fi
	[ $_rc -ne 0 ] && log "xl create exited $_rc but domain $2 is d$DOMID"
	log "domain $2 is d$DOMID"
}

# destroy DOMID
destroy() {
	run 90 xl destroy "$1" || fail "xl destroy $1 failed (exit $?)"
}
