#!/bin/sh
# e2e-timeout: 420
#
# The sub-second phase of an HVM guest's RTC across `xl migrate` within the
# test-bed host, with Debian's qemu-xen as device model and with rtcdm in
# companion mode.  On HVM Xen's vRTC answers registers 0-13 in both: its
# seconds are floor(host wallclock + NOW()) plus the domain's whole-second
# offset (get_localtime, xen/common/time.c), and the PV wall time Xen gives
# the guest in shared_info is the same base plus the same offset
# (update_domain_wallclock_time) plus NOW() as the guest extrapolates it
# from vcpu_info's time record.  So the seconds register must tick at the
# PV clock's whole second; the save record carries the offset's seconds
# only and rtc_load recomputes the registers from host time, so after a
# migration within one host (one wallclock, one NOW()) the edge must still
# be there: the phase is 0 before and after, for both device models.
#
# The setyear-phase guest steps its clock a year (a whole-second change of
# the offset) and then prints a "phase" line about every 2 s: the window
# in which register 0 changed, timed against its PV clock (docs/testbed.md).
. /e2e/lib.sh

NAME_Q=e2e-phase-qemu
NAME_R=e2e-phase-rtcdm
T_START=$(date +%s)
K=3         # phase lines per figure
# A window is two port reads and three RDTSCs: 33-74 µs measured here (each read of
# register 0 a VM exit to Xen's vRTC under emulation).  Wider ones (the vCPU preempted
# while polling) give no figure.
WIN_MAX=500 # µs
# Beyond its window an edge may lie TOL µs from the PV clock's whole second: Xen's NOW()
# in the vRTC and the guest's extrapolation of its vcpu_info time record are the same
# computation on the same TSC, but the record may be another CPU's or an older
# calibration's.  Measured: every window contains the whole second itself.
TOL=100     # µs
hvm_cfg "$E2E_RUN/qemu.cfg" "$NAME_Q" setyear-phase
hvm_cfg "$E2E_RUN/rtcdm.cfg" "$NAME_R" setyear-phase "device_model_override = \"$RTCDM\""
require rtcdm

# us_ms US — microseconds as milliseconds with a sign and three decimals.
us_ms() { awk -v u="$1" 'BEGIN { printf "%+.3f", u / 1000 }'; }

# phases DOMID AFTER_N WHAT — K phase lines, the first numbered AFTER_N + 1, whose window
# is at most WIN_MAX µs (among the first 3K; "none" lines give no figure either): each puts register 0's edge within TOL µs of
# the PV clock's whole second, reads the second of that whole second, has shared_info in
# place (rc 0) and a PV wall time a year ahead of dom0's (the guest's step, STEP).
# PH_US: the median of their edges (the window's end in µs after the whole second, negative
# before it), PH_WIN: their widest window, PH_N: the last line's n.
phases() {
	PH_N=$2
	_good=0 _seen=0
	: >"$E2E_RUN/phase-us"
	PH_WIN=0
	while [ $_good -lt $K ]; do
		[ $_seen -lt $((3 * K)) ] ||
			fail "$3: $_good of $_seen phase lines had a window of at most $WIN_MAX µs"
		PH_N=$((PH_N + 1))
		_seen=$((_seen + 1))
		expect_guest "$1" "^phase n=$PH_N " 30 "phase line n=$PH_N"
		_now=$(date +%s)
		log "$3: $LINE"
		case $LINE in *" none"*)
			log "$3: no edge or no PV clock seen: no figure"
			continue
			;;
		esac
		check "$3: shared_info placed (n=$PH_N)" "$(field "$LINE" shinfo)" 0
		_us=$(field "$LINE" us)
		_win=$(field "$LINE" win)
		_wall=$(field "$LINE" wall)
		_sec=${_wall%.*}
		[ "$_us" -ge 500000 ] && _us=$((_us - 1000000)) _sec=$((_sec + 1))
		check "$3: the second read at the edge is the PV clock's (n=$PH_N)" \
			"$(field "$LINE" rtc)" $((_sec % 60))
		check_near "$3: PV wall time minus dom0's clock (n=$PH_N)" $((_sec - _now)) "$STEP" 10
		[ "$_win" -le $WIN_MAX ] || {
			log "$3: window $_win µs > $WIN_MAX µs: no figure"
			continue
		}
		# The edge lies in [us - win, us]; that must meet [-TOL, TOL].
		[ $((_us + TOL)) -ge 0 ] && [ $((_us - _win)) -le $TOL ] ||
			fail "$3: register 0 changed $((_us - _win))..$_us µs from the PV clock's whole second, want within $TOL µs: $LINE"
		echo "$_us" >>"$E2E_RUN/phase-us"
		[ "$_win" -gt $PH_WIN ] && PH_WIN=$_win
		_good=$((_good + 1))
	done
	PH_US=$(sort -n "$E2E_RUN/phase-us" | sed -n "$(((K + 1) / 2))p")
	log "ok: $3: edges $(sort -n "$E2E_RUN/phase-us" | tr '\n' ' ')µs after the whole second, median $PH_US µs, windows <= $PH_WIN µs"
}

# measure NAME CFG WHAT — boot, the phase before, migrate, the phase after; a "measured:"
# note, M_SHIFT the shift in µs.
measure() {
	_m0=$(date +%s)
	DMLOG=/var/log/xen/qemu-dm-$1.log
	create "$2" "$1"
	id=$DOMID
	[ "$1" = "$NAME_R" ] && {
		companion_pids "$id"
		served_by_rtcdm
	}
	expect_guest "$id" '^shinfo ' 60 "shinfo line"
	check "$3: shared_info placed at boot" "$(field "$LINE" rc)" 0
	year_step "$id" 150
	expect_guest "$id" '^ready' 60 "ready line"
	phases "$id" 0 "$3 before"
	_before=$PH_US _wb=$PH_WIN
	_old=$id
	migrate_ok "$1" "$3 migration"
	[ "$1" = "$NAME_R" ] && {
		companion_pids "$id"
		served_by_rtcdm
	}
	guest_lines "$id" | grep -q '^boot ' && fail "$3: the migrated guest booted again"
	# The source's last phase line; the next one, being measured when the domain was
	# suspended, straddles the migration and gives no figure.
	xen_sync
	_last=$(grep -a "(d$_old) RTCG phase n=" "$XENLOG" | sed 's/.* RTCG phase n=\([0-9]*\) .*/\1/' | tail -n 1)
	[ -n "$_last" ] || fail "$3: no phase line from the source domain d$_old"
	log "$3: the source's last phase line was n=$_last; d$id's from n=$((_last + 2)) count"
	phases "$id" $((_last + 1)) "$3 after"
	M_SHIFT=$((PH_US - _before))
	M_WIN=$((_wb > PH_WIN ? _wb : PH_WIN))
	# Each median is a window's end, the edge at most that window earlier.
	[ "${M_SHIFT#-}" -le $((M_WIN + 2 * TOL)) ] ||
		fail "$3: the edge moved $M_SHIFT µs across the migration, want at most $((M_WIN + 2 * TOL)) µs"
	note "measured: $3: RTC second edge at PV wall $(us_ms "$_before") ms before, $(us_ms "$PH_US") ms after xl migrate, shift $(us_ms "$M_SHIFT") ms (windows <= $M_WIN µs; $(($(date +%s) - _m0)) s)"
	destroy "$id"
}

measure "$NAME_Q" "$E2E_RUN/qemu.cfg" "stock qemu-xen"
shift_q=$M_SHIFT win_q=$M_WIN
measure "$NAME_R" "$E2E_RUN/rtcdm.cfg" "rtcdm companion"
# rtcdm no worse than stock: its shift at most stock's plus the resolution (the wider window).
_res=$((win_q > M_WIN ? win_q : M_WIN))
[ "${M_SHIFT#-}" -le $((${shift_q#-} + _res)) ] ||
	fail "the edge moved $M_SHIFT µs with rtcdm, $shift_q µs with stock qemu-xen (resolution $_res µs)"
log "ok: shift across the migration: stock $shift_q µs, rtcdm $M_SHIFT µs (resolution $_res µs)"
note "scenario: $(($(date +%s) - T_START)) s"
pass
