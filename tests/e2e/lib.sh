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

# xl_domain NAME SECS XL-ARGS... — mark the log, run `xl XL-ARGS` (a test-bed failure
# if it takes over SECS), set DOMID to domain NAME's id (empty: none) and XL_RC.
# xl sometimes segfaults after the domain is up: the domain's existence is what counts.
xl_domain() {
	_dn=$1
	_secs=$2
	shift 2
	mark_log
	run "$_secs" xl "$@"
	XL_RC=$?
	[ $XL_RC -eq 137 ] && testbed "xl $1 did not return within $_secs s"
	DOMID=$(domid "$_dn")
}

# create CFG NAME — xl create; sets DOMID.
create() {
	xl_domain "$2" 180 create "$1"
	_rc=$XL_RC
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

# Our programs where the rtcdm package puts them (the test bed unpacks the .deb into dom0).
RTCDM=/usr/lib/xen/bin/rtcdm
RTCDM_CTX=/usr/bin/rtcdm-ctx
RTCDM_ATTACH=/usr/sbin/rtcdm-attach

# require PROGRAM... — fail unless each of our PROGRAMs is installed: rtcdm, rtcdm-ctx and
# rtcdm-attach at the package's paths, the test bed's tools in /e2e/bin.
require() {
	for _p in "$@"; do
		case $_p in
		rtcdm) _f=$RTCDM ;;
		rtcdm-ctx) _f=$RTCDM_CTX ;;
		rtcdm-attach) _f=$RTCDM_ATTACH ;;
		*) _f=/e2e/bin/$_p ;;
		esac
		[ -x "$_f" ] || fail "$_p is not installed at $_f"
	done
}

# ---- guest configs ---------------------------------------------------------------

# guest_cfg FILE NAME LINE... — a guest config: NAME, the LINEs, and what every guest needs.
guest_cfg() {
	_cfg=$1
	_name=$2
	shift 2
	{
		echo "name = \"$_name\""
		printf '%s\n' "$@"
		cat <<EOF
memory = 32
vcpus = 1
tsc_mode = "native"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "preserve"
EOF
	} >"$_cfg"
}

# hvm_cfg FILE NAME GUEST [LINE...] — an HVM domain with the test guest GUEST (probe |
# setyear) as firmware and Debian's qemu-xen protocol; LINEs add to it.
hvm_cfg() {
	_cfg=$1
	_name=$2
	_guest=$3
	shift 3
	guest_cfg "$_cfg" "$_name" 'type = "hvm"' \
		"firmware_override = \"/e2e/guest/guest-hvm-$_guest.elf\"" \
		'device_model_version = "qemu-xen"' 'vga = "none"' 'vnc = 0' "$@"
}

# pvh_cfg FILE NAME GUEST [LINE...] — a PVH domain running the test guest GUEST.
pvh_cfg() {
	_cfg=$1
	_name=$2
	_guest=$3
	shift 3
	guest_cfg "$_cfg" "$_name" 'type = "pvh"' \
		"kernel = \"/e2e/guest/guest-pvh-$_guest.elf\"" "$@"
}

# ---- what the guest reports -------------------------------------------------------

# year_step DOMID SECS — the guest's BCD year-set line (within SECS) must say ok:
# STEP = its step (365 or 366 days in seconds), STEP_TO = the time it set.
year_step() {
	expect_guest "$1" '^set mode=bcd ' "$2" "BCD set line"
	case $LINE in *" ok") ;; *) fail "BCD year set: $LINE" ;; esac
	_from=$(field "$LINE" from)
	STEP_TO=$(field "$LINE" to)
	STEP=$(($(epoch "$STEP_TO") - $(epoch "$_from")))
	case $STEP in
	31536000 | 31622400) log "guest moved its RTC from $_from to $STEP_TO: $STEP s" ;;
	*) fail "guest's year step $_from -> $STEP_TO is $STEP s, not 365 or 366 days" ;;
	esac
}

# reset_regs DOMID WHAT — the guest's regs line: A B D at reset (26 02 80), a CMOS present.
reset_regs() {
	expect_guest "$1" '^regs ' 5 "regs line"
	check "$2" "$(field "$LINE" a) $(field "$LINE" b) $(field "$LINE" d) $(field "$LINE" cmos)" \
		"26 02 80 1"
}

# mode_flags DOMID — the binary-mode line says ok, the update-ended and alarm flags were
# seen (LINE is the alarm line: when it fired is the scenario's check).
mode_flags() {
	expect_guest "$1" '^set mode=binary ' 5 "binary set line"
	case $LINE in *" ok") ;; *) fail "binary mode read/write: $LINE" ;; esac
	expect_guest "$1" '^uf ' 5 "uf line"
	check "update-ended flag after a second edge" "$(field "$LINE" uf)" 1
	expect_guest "$1" '^alarm ' 5 "alarm line"
	check "alarm flag" "$(field "$LINE" af)" 1
}

# periodic_flag DOMID — the periodic flag at rate 15, none at rate 0, register A restored.
periodic_flag() {
	expect_guest "$1" '^periodic ' 5 "periodic line"
	check "periodic flag (rate 15, rate 0) and register A restored" \
		"$(field "$LINE" pf15) $(field "$LINE" pf0) $(field "$LINE" a)" "1 0 26"
}

# guest_offset DOMID AFTER_N [COUNT] — the guest's clock minus dom0's on report lines
# numbered above AFTER_N: SEEN_OFFSET (the highest of COUNT lines, default 1), SEEN_N,
# LINE (the last one).  A line is read some seconds after the guest printed it, which
# only lowers the value: compare with check_near.
guest_offset() {
	SEEN_N=$2 SEEN_OFFSET=
	_k=0
	_deadline=$(($(date +%s) + 90))
	while [ $_k -lt "${3:-1}" ] && [ "$(date +%s)" -lt $_deadline ]; do
		expect_guest "$1" "^n=([0-9]+) " 60 "a report line"
		_n=$(field "$LINE" n)
		if [ "$_n" -le "$SEEN_N" ]; then
			sleep 1
			continue
		fi
		_k=$((_k + 1))
		_now=$(date +%s)
		_t=$(field "$LINE" time)
		[ "$_t" = invalid ] && fail "guest d$1 reports an invalid time: $LINE"
		_o=$(($(epoch "$_t") - _now))
		log "guest d$1 n=$_n time=$_t dom0=$(date -u -d "@$_now" +%Y-%m-%dT%H:%M:%S) -> offset $_o"
		SEEN_N=$_n
		[ -z "$SEEN_OFFSET" ] || [ "$_o" -gt "$SEEN_OFFSET" ] && SEEN_OFFSET=$_o
	done
	[ -n "$SEEN_OFFSET" ] || fail "guest d$1 printed no report line after n=$2"
}

# check_near WHAT GOT WANT [BELOW] — GOT within WANT-BELOW..WANT+2 s (BELOW defaults to 6).
check_near() {
	_below=${4:-6}
	[ "$2" -ge $(($3 - _below)) ] && [ "$2" -le $(($3 + 2)) ] ||
		fail "$1: got $2 s, want $3 s (-$_below..+2)"
	log "ok: $1 = $2 (want $3)"
}

# guest_wallclock DOMID HOST_WC WANT WHAT [next] — the PV wallclock the guest reads in its
# own shared_info (its latest wallclock line; with "next", the one after it) minus
# HOST_WC must be WANT seconds.
guest_wallclock() {
	expect_guest "$1" '^wallclock ' 30 "a wallclock line"
	if [ "${5:-}" = next ]; then
		_n=$(field "$LINE" n)
		expect_guest "$1" "^wallclock n=$((_n + 1)) " 30 "a wallclock line after dom0's read"
	fi
	_wc=$(field "$LINE" wc)
	[ -n "$_wc" ] && [ "$(field "$LINE" wcv)" -gt 0 ] 2>/dev/null ||
		fail "the guest reads no PV wallclock: $LINE"
	check "$4" "$((_wc - $2))" "$3"
}

# ---- what Xen and rtcdm hold ---------------------------------------------------------

# xen_offset DOMID — XEN_OFFSET, the rtc_offset of the live domain's RTC record in Xen.
xen_offset() {
	run 30 rtc-record "$1" || fail "rtc-record $1 failed: $(cat "$OUT")"
	XEN_OFFSET=$(sed -n 's/^rtc_offset=\(-*[0-9]*\) .*/\1/p' "$OUT")
}

# battery_file FILE WANT — rtcdm-ctx dump of the battery file FILE: offset WANT s and the
# setyear guest's NVRAM marker and scratch (0x40 0x41 = 5a 3c).
battery_file() {
	run 30 rtcdm-ctx dump "$1" || fail "rtcdm-ctx dump $1 exited $?: $(tail -n 1 "$OUT")"
	grep -Eq "^  seconds +$2 " "$OUT" ||
		fail "battery file: offset is not $2 s: $(grep -A1 OFFSET "$OUT" | tr '\n' ' ')"
	grep -Eq '^  3e: [0-9a-f]{2} [0-9a-f]{2} 5a 3c ' "$OUT" ||
		fail "battery file: NVRAM 0x40/0x41 are not 5a 3c: $(grep '^  3e:' "$OUT")"
	log "ok: $1 holds offset $2 s and NVRAM 5a 3c"
}

# xenstore_offset DOMID WANT — wait (20 s) for rtcdm's published offset to be WANT.
xenstore_offset() {
	_p=/local/domain/0/device-model/$1/rtc/timeoffset
	_end=$(($(date +%s) + 20))
	while :; do
		_v=$(timeout -s KILL 10 xenstore-read "$_p" 2>/dev/null)
		[ "$_v" = "$2" ] && break
		[ "$(date +%s)" -ge "$_end" ] && fail "xenstore $_p: got '$_v', want '$2'"
		sleep 2
	done
	log "ok: xenstore $_p = $2"
}

# ---- save and restore ----------------------------------------------------------------

# xl_save DOMID IMG — xl save of the domain into IMG, which must succeed.
xl_save() {
	run 300 xl save "$1" "$2"
	_rc=$?
	[ $_rc -eq 137 ] && testbed "xl save did not return within 300 s"
	[ $_rc -eq 0 ] || fail "xl save exited $_rc: $(tail -n 1 "$OUT")"
}

# xl_restore IMG NAME [CFG] — xl restore of IMG (with the config CFG instead of the one
# in the image); sets DOMID, the domain NAME it restored.
xl_restore() {
	xl_domain "$2" 240 restore ${3:+"$3"} "$1"
	[ -n "$DOMID" ] || fail "xl restore (exit $XL_RC) left no domain: $(tail -n 1 "$OUT")"
	[ $XL_RC -ne 0 ] && log "xl restore exited $XL_RC but the domain is d$DOMID"
	return 0
}

# ---- companion mode (rtcdm next to qemu-xen) --------------------------------------------

# companion_rtc_pid — RTC_PID, rtcdm's serving part (its child named rtcdm-rtc) of DM_PID
# (see companion_pids), or fail.
companion_rtc_pid() {
	RTC_PID=
	for _d in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ { print $2 }' "$_d/status" 2>/dev/null)" = "$DM_PID" ] || continue
		[ "$(cat "$_d/comm" 2>/dev/null)" = rtcdm-rtc ] && RTC_PID=${_d#/proc/}
	done
	[ -n "$RTC_PID" ] || fail "rtcdm (pid $DM_PID) has no rtcdm-rtc child"
}

# migrate NAME RECEIVER SECS — xl migrate -s "" NAME RECEIVER (RECEIVER runs in dom0 as the
# receiving side); MIG_RC is its status.
migrate() {
	run "$3" xl migrate -s "" "$1" "$2"
	MIG_RC=$?
	[ $MIG_RC -eq 137 ] && testbed "xl migrate did not return within $3 s"
	return 0
}

# migrate_ok NAME WHAT — a migration that must succeed (timed, noted as WHAT); sets id
# (the domain NAME on the receiving side) and DMLOG (the receiving rtcdm's log).
migrate_ok() {
	_t0=$(date +%s)
	mark_log
	migrate "$1" "xl migrate-receive" 300
	[ $MIG_RC -eq 0 ] || fail "xl migrate exited $MIG_RC: $(tail -n 2 "$OUT" | tr '\n' ' ')"
	note "$2: $(($(date +%s) - _t0)) s"
	id=$(domid "$1")
	[ -n "$id" ] || fail "no domain $1 after the migration"
	[ -n "$(domid "$1--migratedaway")" ] && fail "the source domain $1--migratedaway is still there"
	DMLOG=/var/log/xen/qemu-dm-$1--incoming.log
	[ -s "$DMLOG" ] || fail "no log of the receiving rtcdm ($DMLOG)"
}

# companion_gone — after xl destroy: rtcdm (DM_PID) and its QEMU (QEMU_PID) end within 20 s.
companion_gone() {
	_end=$(($(date +%s) + 20))
	while running_pid "$DM_PID" || running_pid "$QEMU_PID"; do
		[ "$(date +%s)" -ge "$_end" ] && fail "rtcdm ($DM_PID) or QEMU ($QEMU_PID) still runs 20 s after xl destroy"
		sleep 1
	done
}

# running_pid PID — the process exists and is not a zombie waiting for its parent.
running_pid() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# companion_pids DOMID — DM_PID (rtcdm, the device-model pid libxl knows) and
# QEMU_PID (its child), or fail.
companion_pids() {
	DM_PID=$(xenstore-read "/local/domain/$1/image/device-model-pid" 2>/dev/null)
	[ -n "$DM_PID" ] || fail "no device-model pid for d$1"
	grep -q rtcdm "/proc/$DM_PID/cmdline" 2>/dev/null || fail "device-model pid $DM_PID is not rtcdm"
	QEMU_PID=
	for _d in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ { print $2 }' "$_d/status" 2>/dev/null)" = "$DM_PID" ] || continue
		case $(tr '\0' ' ' <"$_d/cmdline" 2>/dev/null) in
		*qemu-system-i386*) QEMU_PID=${_d#/proc/} ;;
		esac
	done
	[ -n "$QEMU_PID" ] || fail "rtcdm (pid $DM_PID) has no qemu-system-i386 child"
	log "rtcdm pid $DM_PID, its QEMU pid $QEMU_PID"
}

# served_by_rtcdm — ($DMLOG) rtcdm's ioreq server was created after QEMU's (id above 0).
served_by_rtcdm() {
	grep -q "rtcdm's ioreq server [1-7] serves ports 0x70-0x71 ahead of QEMU's" "$DMLOG" ||
		fail "rtcdm's ioreq server does not serve 0x70-0x71 ahead of QEMU's: $(tail -n 3 "$DMLOG" | tr '\n' ' ')"
	log "ok: $(grep -o "rtcdm's ioreq server [0-9]* serves.*" "$DMLOG" | tail -n 1)"
}

# qemu_mem_bytes — MEM_BYTES, "LO HI": CMOS 0x34-0x35 (memory above 16 MiB in 64 KiB
# units) as QEMU ($QEMU_PID, see companion_pids) computes them from its -m.
qemu_mem_bytes() {
	_m=$(tr '\0' '\n' <"/proc/$QEMU_PID/cmdline" | sed -n '/^-m$/{n;p;q;}')
	[ -n "$_m" ] || fail "QEMU has no -m in its command line"
	_v=$(((_m - 16) * 16))
	MEM_BYTES=$(printf '%02x %02x' $((_v & 255)) $((_v >> 8)))
	log "QEMU -m $_m: CMOS 0x34-0x35 = $MEM_BYTES"
}

# guest_mem_bytes DOMID — the guest's boot CMOS dump, bytes 0x34-0x35 ("LO HI") in LINE.
guest_mem_bytes() {
	expect_guest "$1" '^cmos 30:' 150 "CMOS row 0x30"
	GUEST_MEM=$(echo "$LINE" | awk '{ print $7, $8 }')
}

# ---- rtcdm as the whole RTC of a PVH domain ----------------------------------------------

# create_paused CFG NAME — xl create -p; sets DOMID (the guest has not run yet).
create_paused() {
	xl_domain "$2" 180 create -p "$1"
	[ -n "$DOMID" ] || fail "xl create -p (exit $XL_RC) left no domain: $(tail -n 1 "$OUT")"
	log "domain $2 is d$DOMID (paused)"
}

# dm_log_tail — the last lines of rtcdm's log ($DMLOG).
dm_log_tail() { tail -n 20 "$DMLOG" 2>/dev/null | sed "s/^/[$E2E_NAME]   rtcdm: /"; }
# dm_fail REASON... — fail, showing rtcdm's log first.
dm_fail() {
	dm_log_tail
	fail "$@"
}

# dm_log_wait SECS PATTERN WHY — wait until $DMLOG has a line matching PATTERN (grep);
# dm_fail WHY when none comes within SECS.
dm_log_wait() {
	_i=0
	until grep -q -- "$2" "$DMLOG"; do
		[ $_i -lt "$1" ] || dm_fail "$3"
		sleep 1
		_i=$((_i + 1))
	done
}

# start_rtcdm DOMID — run rtcdm by hand for the domain in the background, logging to
# $DMLOG; sets DM_PID once rtcdm says it is running (60 s).  For a domain that has
# already run, which rtcdm-attach refuses (rtcdm-pvh-late-attach).
start_rtcdm() {
	_t0=$(date +%s)
	"$RTCDM" --platform xen --domid "$1" -v >"$DMLOG" 2>&1 &
	DM_PID=$!
	DM_ATTACHED=0
	_ready=0
	for _i in $(seq 1 60); do
		grep -q 'running: platform xen' "$DMLOG" && {
			_ready=1
			break
		}
		kill -0 "$DM_PID" 2>/dev/null || break
		sleep 1
	done
	[ $_ready = 1 ] || dm_fail "rtcdm did not start (pid $DM_PID)"
	log "rtcdm ready after $(($(date +%s) - _t0)) s"
}

# attach_rtcdm DOMID DOMAIN [OPTION...] — what an operator runs for a PVH domain created
# paused: rtcdm-attach DOMAIN (its name or id; OPTIONs are rtcdm-attach's own, e.g.
# --log, --no-unpause) starts rtcdm -v for it, waits until it is ready and unpauses it.
# Its log must be $DMLOG.  Sets DM_PID (from --pidfile) and ATTACHED (its report line).
# rtcdm-attach returns once rtcdm has written its xenstore state; rtcdm's "running"
# log line follows at once (5 s).
attach_rtcdm() {
	_d=$1
	_dom=$2
	shift 2
	run 90 "$RTCDM_ATTACH" --pidfile "$E2E_RUN/rtcdm.pid" "$@" "$_dom" -v ||
		dm_fail "rtcdm-attach $_dom exited $?: $(tail -n 1 "$OUT")"
	DM_PID=$(cat "$E2E_RUN/rtcdm.pid")
	DM_ATTACHED=1
	ATTACHED=$(tail -n 1 "$OUT")
	case $ATTACHED in
	"rtcdm-attach: rtcdm (pid $DM_PID) serves domain "*" (d$_d), log $DMLOG; domain "*) ;;
	*) fail "rtcdm-attach's report names another pid, domain or log than $DM_PID, d$_d, $DMLOG: $ATTACHED" ;;
	esac
	dm_log_wait 5 'running: platform xen' "rtcdm-attach returned but rtcdm (pid $DM_PID) never logged 'running'"
	grep -q 'xenstore: state running' "$DMLOG" || dm_fail "rtcdm did not announce its xenstore state"
	log "rtcdm (pid $DM_PID) attached to d$_d"
}

# stop_rtcdm DOMID — SIGTERM to rtcdm: it must exit 0 having destroyed its ioreq server.
# Started by rtcdm-attach, its exit status is the line rtcdm-attach's wrapper logs (30 s).
stop_rtcdm() {
	kill -TERM "$DM_PID"
	if [ "${DM_ATTACHED:-0}" = 1 ]; then
		dm_log_wait 30 "rtcdm-attach: rtcdm (pid $DM_PID) exited with status" \
			"rtcdm-attach logged no exit status for rtcdm (pid $DM_PID)"
		_st=$(sed -n "s/.*rtcdm-attach: rtcdm (pid $DM_PID) exited with status \([0-9]*\).*/\1/p" "$DMLOG")
	else
		wait "$DM_PID"
		_st=$?
	fi
	check "rtcdm exit status after SIGTERM" "$_st" 0
	grep -q "ioreq server [0-9]* of domain $1 destroyed" "$DMLOG" ||
		dm_fail "rtcdm did not report destroying its ioreq server"
}
