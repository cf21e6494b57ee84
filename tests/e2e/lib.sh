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
# Device-model logs help explain a failure.
show_logs() {
	for _f in /var/log/xen/qemu-dm-*.log; do
		[ -s "$_f" ] || continue
		log "--- $_f (last 20 lines)"
		tail -n 20 "$_f" | sed "s/^/[$E2E_NAME]   /"
	done
	if [ -n "${E2E_DEBUG:-}" ]; then
		log "--- guest lines in $XENLOG (mark $MARK, $(wc -l <"$XENLOG") lines)"
		grep -an 'RTCG' "$XENLOG" | tail -n 40 | cat -v | sed "s/^/[$E2E_NAME]   /"
	fi
}
fail() {
	show_logs
	log "FAIL: $*"
	echo "FAIL $*" >"$E2E_RUN/result"
	exit 1
}
testbed() {
	show_logs
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

# Append what Xen logged since the last call (conring_size=1M; `xl dmesg`
# shows only the oldest 16 KiB).  Starts from the ring's end when the
# scenario starts, so older lines never count.
xen_sync() {
	timeout -s KILL 30 conring "$(cat "$E2E_RUN/conring.pos")" "$E2E_RUN/conring.next" \
		>>"$XENLOG" 2>/dev/null && mv "$E2E_RUN/conring.next" "$E2E_RUN/conring.pos"
}
timeout -s KILL 30 conring 0 "$E2E_RUN/conring.pos" >/dev/null ||
	testbed "cannot read the Xen console ring"

# Domain ids can be reused: guest_lines looks only at lines logged after
# the last mark (mark_log before each xl create / xl restore).
MARK=0
mark_log() {
	xen_sync
	MARK=$(wc -l <"$XENLOG")
}

# guest_lines DOMID — the guest's "RTCG ..." lines since the mark, without
# the prefix.
guest_lines() {
	tail -n +$((MARK + 1)) "$XENLOG" | grep -a "(d$1) RTCG " |
		sed 's/.*(d[0-9]*) RTCG //' | tr -d '\r'
}

# wait_guest DOMID ERE SECS — set LINE to the latest guest line matching ERE
# (after the RTCG prefix) once one exists; status 1 if none within SECS.
wait_guest() {
	_end=$(($(date +%s) + $3))
	while :; do
		xen_sync
		LINE=$(guest_lines "$1" | grep -E -- "$2" | tail -n 1)
		[ -n "$LINE" ] && return 0
		if [ "$(date +%s)" -ge "$_end" ]; then
			if [ -n "${E2E_DEBUG:-}" ]; then
				log "debug: wait_guest d$1 '$2' mark=$MARK lines=$(wc -l <"$XENLOG")"
				guest_lines "$1" | head -n 20 | cat -v | sed "s/^/[$E2E_NAME]   g: /"
				guest_lines "$1" | grep -E -- "$2" | cat -v | sed "s/^/[$E2E_NAME]   m: /"
			fi
			return 1
		fi
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
	mark_log
	run 180 xl create "$1"
	_rc=$?
	[ $_rc -eq 137 ] && testbed "xl create did not return within 180 s"
	DOMID=$(domid "$2")
	if [ -z "$DOMID" ]; then
		_why=$(grep -m 1 -i 'error' "$OUT")
		fail "xl create $1 (exit $_rc) left no domain '$2': ${_why:-$(tail -n 1 "$OUT")}"
	fi
	[ $_rc -ne 0 ] && log "xl create exited $_rc but domain $2 is d$DOMID"
	log "domain $2 is d$DOMID"
}

# destroy DOMID
destroy() {
	run 90 xl destroy "$1" || fail "xl destroy $1 failed (exit $?)"
}
