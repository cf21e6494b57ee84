#!/bin/sh
# e2e-timeout: 600
#
# Benchmark, not a check: what companion mode costs next to stock qemu-xen,
# measured in the same boot.  The same HVM domain (the bench test guest as
# firmware, 32 MiB) is created REPS times with stock qemu-xen as its device
# model and REPS times with rtcdm --companion (rtcdm starts the same qemu-xen
# as its child), alternating stock, companion, companion, stock, ... so that
# a drift of the host's load hits both alike.  For every domain:
#   - the wall time of `xl create` until it returns (QEMU, and in companion
#     mode rtcdm, ready; the domain unpaused), and dom0's idle time meanwhile;
#   - the guest's own timing of port accesses with its TSC (guest.c, the
#     "bench" lines), 3 s after it starts so that xl create has returned
#     (checked): 1000 NVRAM reads (outb 0x70 idx >= 14; inb 0x71, both
#     forwarded by Xen to the device model: QEMU's ioreq server in stock mode,
#     rtcdm's in companion mode), 1000 NVRAM writes, and 1000 reads of
#     register D that Xen's vRTC answers itself (the floor); meanwhile this
#     script only waits (the other figures are taken afterwards), so that no
#     mode's accesses compete with it for dom0's one vCPU;
#   - once the guest is done, the dom0 memory of the device model: the
#     resident pages only it maps (/e2e/bin/memadded: QEMU alone in stock
#     mode, QEMU and rtcdm's two processes in companion mode), and VmRSS and
#     Pss of each process;
#   - where the create's time goes: rtcdm's and QEMU's start times.
# Reported, the medians over the REPS domains of each mode: create time,
# memory, cycles per access, and MET or NOT MET against the targets in
# docs/benchmarks.md (added create time <= 10 %, added memory <= 5 % of QEMU's,
# NVRAM reads and writes no slower than QEMU's).  A missed target does not fail the scenario
# (figures under TCG move with the host's load); a broken measurement does:
# a failed create, a missing or malformed guest line, a read that did not
# return what was written, a device model that is not the one wanted, or
# rtcdm not serving the ports in companion mode.
#
# About four minutes on a 2-core machine.  Runs with the other scenarios, or alone:
# make bench-xen (= make check-xen SCENARIOS=bench-companion).  The table
# arrives on the host as "@@E2E RESULT" lines, which tests/e2e/run writes to
# $E2E_WORK/bench-companion.md.
. /e2e/lib.sh

# Nine of each: a single domain's create time moves by 200-400 ms with the
# host's load, and with five the median still moved by a few percent
# between runs.
REPS=9
N_ACCESS=1000
require rtcdm memadded
hvm_cfg "$E2E_RUN/stock.cfg" e2e-bench-stock bench
hvm_cfg "$E2E_RUN/companion.cfg" e2e-bench-companion bench \
	"device_model_override = \"$RTCDM\"" 'device_model_args_hvm = [ "--companion" ]'
D=$E2E_RUN/figures
mkdir -p "$D"

# uptime_ms — dom0's uptime in ms (10 ms steps), without forking.
uptime_ms() {
	read -r _u _rest </proc/uptime
	echo $((${_u%.*}${_u#*.} * 10))
}

# proc_kb PID FILE KEY — the kB figure of "KEY: N kB" in /proc/PID/FILE, or fail.
proc_kb() {
	_v=$(awk -v k="$3:" '$1 == k { print $2; exit }' "/proc/$1/$2" 2>/dev/null)
	case $_v in '' | *[!0-9]*) fail "no $3 in /proc/$1/$2" ;; esac
	echo "$_v"
}

# child_qemu PID — the qemu-system-i386 child of PID, or nothing.
child_qemu() {
	for _d in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ { print $2 }' "$_d/status" 2>/dev/null)" = "$1" ] || continue
		case $(tr '\0' ' ' <"$_d/cmdline" 2>/dev/null) in
		*qemu-system-i386*) echo "${_d#/proc/}" ;;
		esac
	done
}

# memadded PID... — /e2e/bin/memadded's line for the processes, or fail.
memadded() {
	_l=$(/e2e/bin/memadded "$@" 2>&1)
	case $_l in added=*) echo "$_l" ;; *) fail "memadded $*: $_l" ;; esac
}

# kb_of LINE KEY — the number of KEY=N in LINE, or fail.
kb_of() {
	_v=$(field "$1" "$2")
	case $_v in '' | *[!0-9]*) fail "no $2 in '$1'" ;; esac
	echo "$_v"
}

# started_ms PID — when PID was started, ms since dom0's boot (its start time
# in /proc/PID/stat, in USER_HZ = 100 ticks: 10 ms steps, like uptime_ms).
started_ms() {
	_t=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }')
	case $_t in '' | *[!0-9]*) fail "no start time in /proc/$1/stat" ;; esac
	echo $((_t * 10))
}

# idle_ms — dom0's idle time since its boot, all CPUs, in ms (/proc/stat: idle
# and iowait, USER_HZ = 100 ticks).
idle_ms() {
	read -r _c _us _ni _sy _id _io _rest </proc/stat
	echo $(((_id + _io) * 10))
}

# cpu_snap FILE — every dom0 thread's CPU time so far, one "PID NS" line each
# (/proc/PID/task/TID/schedstat, ns); shell builtins only, no process started.
cpu_snap() {
	for _t in /proc/[0-9]*/task/[0-9]*; do
		read -r _ns _rest <"$_t/schedstat" 2>/dev/null || continue
		_p=${_t#/proc/}
		echo "${_p%%/*} $_ns"
	done >"$1"
}

# cpu_split BEFORE AFTER — the CPU time dom0's processes spent between two
# cpu_snap files, ms by process: "qemu=N rtcdm=N rtcdm_rtc=N xenstored=N
# other=N total=N" (processes started meanwhile count whole; threads and
# processes that ended meanwhile, such as xl itself, are not counted).
cpu_split() {
	awk 'FNR == NR { b[$1] += $2; next } { a[$1] += $2 }
		END {
			for (p in a) {
				c = ""; f = "/proc/" p "/comm"
				getline c < f; close(f)
				g = "other"
				if (c ~ /qemu-system/) g = "qemu"
				else if (c == "rtcdm") g = "rtcdm"
				else if (c == "rtcdm-rtc") g = "rtcdm_rtc"
				else if (c == "xenstored" || c == "oxenstored") g = "xenstored"
				d = a[p] - b[p]; if (d < 0) d = 0
				t[g] += d; tot += d
			}
			printf "qemu=%d rtcdm=%d rtcdm_rtc=%d xenstored=%d other=%d total=%d\n",
				t["qemu"] / 1e6, t["rtcdm"] / 1e6, t["rtcdm_rtc"] / 1e6,
				t["xenstored"] / 1e6, t["other"] / 1e6, tot / 1e6
		}' "$1" "$2"
}

# gone PID — the process has ended (no process, or a zombie).
gone() { [ ! -d "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# add MODE FIGURE VALUE — one sample of FIGURE for MODE.
add() { echo "$3" >>"$D/$1.$2"; }

# median MODE FIGURE — the median of the samples (the mean of the middle two
# for an even count).
median() {
	sort -n "$D/$1.$2" | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# samples MODE FIGURE — the samples in measuring order, comma-separated.
samples() { tr '\n' ' ' <"$D/$1.$2" | sed 's/ *$//; s/ /, /g'; }

# phases LOG — two figures from rtcdm's log (its timestamps, ms): its first line to
# "QEMU ... ready", and from there to "NVRAM from QEMU's CMOS" (reading QEMU's CMOS
# byte by byte through the monitor, just before rtcdm's ioreq server takes the ports).
phases() {
	awk 'function ms(t, a) { split(t, a, ":"); return (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }
		!/^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { next }
		!hs { s = ms($2); hs = 1 }
		/QEMU [0-9.]* ready/ && !hq { q = ms($2); hq = 1 }
		/NVRAM from QEMU.s CMOS/ && !hn { n = ms($2); hn = 1 }
		END { if (hq && hn) printf "%d %d\n", q - s, n - q }' "$1"
}

# one MODE REP — create one domain in MODE (stock | companion), take its figures,
# destroy it.
one() {
	_mode=$1
	_n=$2
	_name=e2e-bench-$_mode
	mark_log
	log "$_mode #$_n: xl create"
	_i0=$(idle_ms)
	cpu_snap "$D/cpu.before"
	_t0=$(uptime_ms)
	timeout -s KILL 180 xl create "$E2E_RUN/$_mode.cfg" >"$OUT" 2>&1
	_rc=$?
	_t1=$(uptime_ms)
	cpu_snap "$D/cpu.after"
	_i1=$(idle_ms)
	[ $_rc -eq 137 ] && testbed "xl create ($_mode) did not return within 180 s"
	_id=$(domid "$_name")
	[ $_rc -eq 0 ] && [ -n "$_id" ] ||
		fail "xl create ($_mode) exited $_rc, domain '${_id:-none}': $(grep -m 1 -i error "$OUT")"
	log "$_mode #$_n: d$_id created in $((_t1 - _t0)) ms, dom0 idle $((_i1 - _i0)) ms of it"
	# the guest waits 3 s before its loops (guest.c: BENCH_QUIET_MS), so
	# that they do not compete with xl create's tail: had they begun, the
	# create time and the round trips would each hold some of the other
	xen_sync
	guest_lines "$_id" | grep -q '^bench start' &&
		fail "$_mode: the guest began its loops before xl create returned"
	add "$_mode" create_ms $((_t1 - _t0))
	add "$_mode" create_idle_ms $((_i1 - _i0))

	# The guest times its accesses as soon as it runs: dom0 stays quiet
	# until it is done (the figures below are taken afterwards), so that
	# neither mode's accesses compete with this script for dom0's one vCPU.
	expect_guest "$_id" '^bench done ' 300 "bench done line"
	_done=$LINE
	# where dom0's CPU went during xl create, by process
	_cpu=$(cpu_split "$D/cpu.before" "$D/cpu.after")
	log "$_mode #$_n: dom0 CPU during xl create, ms: $_cpu"
	for _k in qemu rtcdm rtcdm_rtc xenstored other total; do
		add "$_mode" "cpu_$_k" "$(kb_of "$_cpu" "$_k")"
	done

	_dm=$(xenstore-read "/local/domain/$_id/image/device-model-pid" 2>/dev/null)
	[ -n "$_dm" ] || fail "no device-model pid for d$_id"
	_dmlog=/var/log/xen/qemu-dm-$_name.log
	if [ "$_mode" = stock ]; then
		grep -q qemu-system-i386 "/proc/$_dm/cmdline" 2>/dev/null ||
			fail "stock mode: device-model pid $_dm is not qemu-system-i386"
		_qemu=$_dm
		_tq=$(started_ms "$_qemu")
		add stock to_qemu_exec_ms $((_tq - _t0))
		add stock qemu_exec_to_end_ms $((_t1 - _tq))
		log "stock #$_n: xl create to QEMU's exec $((_tq - _t0)) ms, QEMU's exec to the end $((_t1 - _tq)) ms"
	else
		grep -q rtcdm "/proc/$_dm/cmdline" 2>/dev/null ||
			fail "companion mode: device-model pid $_dm is not rtcdm"
		_qemu=$(child_qemu "$_dm")
		[ -n "$_qemu" ] || fail "companion mode: rtcdm (pid $_dm) has no qemu-system-i386 child"
		# where the create's time goes: libxl's exec of rtcdm, rtcdm's
		# exec of QEMU, QEMU's exec to xl create's return
		_ts=$(started_ms "$_dm")
		_tq=$(started_ms "$_qemu")
		add companion to_dm_exec_ms $((_ts - _t0))
		add companion to_qemu_exec_ms $((_tq - _t0))
		add companion qemu_exec_to_end_ms $((_t1 - _tq))
		log "companion #$_n: xl create to rtcdm's exec $((_ts - _t0)) ms, to QEMU's exec $((_tq - _t0)) ms, QEMU's exec to the end $((_t1 - _tq)) ms"
		DM_PID=$_dm
		companion_rtc_pid
		_rtc=$RTC_PID
		grep -q "rtcdm's ioreq server [1-7] serves ports 0x70-0x71 ahead of QEMU's" "$_dmlog" ||
			fail "companion mode: rtcdm does not serve 0x70-0x71: $(tail -n 3 "$_dmlog" | tr '\n' ' ')"
		# where rtcdm's part of the create goes, by its log's timestamps
		set -- $(phases "$_dmlog")
		[ $# = 2 ] || fail "companion mode: rtcdm's log has no 'QEMU ... ready' and 'NVRAM from QEMU's CMOS' lines"
		add companion to_qemu_ready_ms "$1"
		add companion cmos_read_ms "$2"
		log "companion: rtcdm's first log line to QEMU ready $1 ms, QEMU ready to QEMU's CMOS read $2 ms"
		[ "$_n" = 1 ] && sed "s/^/[$E2E_NAME]   rtcdm: /" "$_dmlog"
	fi

	_khz=$(field "$_done" khz)
	case $_khz in '' | *[!0-9]* | 0) fail "bench done line without a TSC rate: $_done" ;; esac
	add "$_mode" khz "$_khz"
	for _k in nvram-read nvram-write rtc-read; do
		_l=$(guest_lines "$_id" | grep "^bench kind=$_k " | tail -n 1)
		[ -n "$_l" ] || fail "no bench line for $_k: $(guest_lines "$_id" | tail -n 3 | tr '\n' ' ')"
		[ "$(field "$_l" n)" = $N_ACCESS ] || fail "bench $_k: n is not $N_ACCESS: $_l"
		[ "$(field "$_l" bad)" = 0 ] || fail "bench $_k: reads did not return what was written: $_l"
		for _f in min med p90 mean; do
			_v=$(field "$_l" $_f)
			case $_v in '' | *[!0-9]*) fail "bench $_k: no $_f: $_l" ;; esac
			add "$_mode" "$_k.$_f" "$_v"
		done
		log "$_mode #$_n: $_l"
	done

	add "$_mode" qemu_rss "$(proc_kb "$_qemu" status VmRSS)"
	add "$_mode" qemu_pss "$(proc_kb "$_qemu" smaps_rollup Pss)"
	# the pages dom0 holds only for the device model: QEMU's alone in stock
	# mode; QEMU's and rtcdm's processes together in companion mode (pages
	# QEMU shares with rtcdm, such as the Xen libraries', count once)
	if [ "$_mode" = companion ]; then
		_mem=$(memadded "$_qemu" "$_dm" "$_rtc")
		_own=$(memadded "$_dm" "$_rtc")
	else
		_mem=$(memadded "$_qemu") _own=
	fi
	add "$_mode" dm_added "$(kb_of "$_mem" added)"
	log "$_mode #$_n: pages only the device model maps: $_mem${_own:+; rtcdm's processes alone: $_own}"
	if [ "$_mode" = companion ]; then
		add companion rtcdm_own "$(kb_of "$_own" added)"
		add companion rtcdm_own_anon "$(kb_of "$_own" anon)"
		add companion rtcdm_own_file "$(kb_of "$_own" file)"
		# rtcdm is two processes: the supervisor and its serving part
		add companion rtcdm_rss $(($(proc_kb "$_dm" status VmRSS) + $(proc_kb "$_rtc" status VmRSS)))
		add companion rtcdm_pss $(($(proc_kb "$_dm" smaps_rollup Pss) + $(proc_kb "$_rtc" smaps_rollup Pss)))
	fi
	log "$_mode #$_n: QEMU (pid $_qemu) $(proc_kb "$_qemu" status VmRSS) kB RSS$(
		[ "$_mode" = companion ] && echo ", rtcdm (pid $_dm) $(proc_kb "$_dm" status VmRSS) kB + its serving part (pid $_rtc) $(proc_kb "$_rtc" status VmRSS) kB RSS")"

	destroy "$_id"
	_end=$(($(date +%s) + 30))
	while ! gone "$_dm" || ! gone "$_qemu"; do
		[ "$(date +%s)" -ge $_end ] && fail "$_mode: the device model still runs 30 s after xl destroy"
		sleep 1
	done
	# rtcdm's server counted the guest's accesses, when it logged its statistics
	if [ "$_mode" = companion ]; then
		_st=$(grep -o "ioreq server [0-9]* of domain $_id destroyed ([^)]*)" "$_dmlog" | tail -n 1)
		if [ -n "$_st" ]; then
			_r=$(echo "$_st" | sed 's/.*(\([0-9]*\) port reads.*/\1/')
			[ "$_r" -ge $N_ACCESS ] || fail "companion mode: rtcdm served only $_r port reads: $_st"
			log "$_mode #$_n: $_st"
		fi
	fi
	rm -f "/var/log/xen/qemu-dm-$_name.log"
	# a figure that failed inside $(...) recorded its failure there
	[ -s "$E2E_RUN/result" ] && exit 1
	return 0
}

i=1
while [ $i -le $REPS ]; do
	if [ $((i % 2)) = 1 ]; then
		one stock $i
		one companion $i
	else
		one companion $i
		one stock $i
	fi
	i=$((i + 1))
done

# ---- the table ----------------------------------------------------------------------
# ratio A B -> A/B with 3 decimals; pct A B -> (A-B)/B in percent, 1 decimal.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", (a - b) * 100 / b }'; }
share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a * 100 / b }'; }
verdict() { awk -v c="$1" 'BEGIN { print (c ? "MET" : "NOT MET") }'; }
us() { awk -v c="$1" -v k="$2" 'BEGIN { printf "%.1f", c * 1000 / k }'; }

cs=$(median stock create_ms)
cc=$(median companion create_ms)
create_pct=$(pct "$cc" "$cs")
create_ok=$(awk -v a="$cc" -v b="$cs" 'BEGIN { print (a <= b * 1.10) }')

qs=$(median stock qemu_rss)
qc=$(median companion qemu_rss)
rr=$(median companion rtcdm_rss)
added_rss=$(awk -v r="$rr" -v c="$qc" -v s="$qs" 'BEGIN { print r + c - s }')
ms=$(median stock dm_added)
mc=$(median companion dm_added)
added_mem=$(awk -v c="$mc" -v s="$ms" 'BEGIN { print c - s }')
mem_ok=$(awk -v a="$added_mem" -v s="$ms" 'BEGIN { print (a <= s * 0.05) }')
ps=$(median stock qemu_pss)
pc=$(median companion qemu_pss)
pr=$(median companion rtcdm_pss)
added_pss=$(awk -v r="$pr" -v c="$pc" -v s="$ps" 'BEGIN { print r + c - s }')

khz=$(median stock khz)
ns=$(median stock nvram-read.med)
nc=$(median companion nvram-read.med)
nvram_ok=$(awk -v a="$nc" -v b="$ns" 'BEGIN { print (a <= b) }')
ws=$(median stock nvram-write.med)
wc=$(median companion nvram-write.med)
write_ok=$(awk -v a="$wc" -v b="$ws" 'BEGIN { print (a <= b) }')

row() { echo "@@E2E RESULT $E2E_NAME: $*"; }
row "| Figure (median of $REPS domains each, one boot) | stock qemu-xen | companion (rtcdm + qemu-xen) | added | target | result |"
row "|---|---|---|---|---|---|"
row "| \`xl create\` until it returns | $cs ms | $cc ms | $create_pct % | <= +10 % | $(verdict "$create_ok") |"
row "| ... xl create to the device model's exec / to QEMU's exec / QEMU's exec to the end (process start times, 10 ms steps) | - / $(median stock to_qemu_exec_ms) ms / $(median stock qemu_exec_to_end_ms) ms | $(median companion to_dm_exec_ms) ms / $(median companion to_qemu_exec_ms) ms / $(median companion qemu_exec_to_end_ms) ms | | | |"
row "| ... dom0 idle during \`xl create\` (/proc/stat, 10 ms steps) | $(median stock create_idle_ms) ms | $(median companion create_idle_ms) ms | | | |"
cpu_cell() { echo "QEMU $(median "$1" cpu_qemu) / rtcdm $(median "$1" cpu_rtcdm) + $(median "$1" cpu_rtcdm_rtc) / xenstored $(median "$1" cpu_xenstored) / the rest $(median "$1" cpu_other) (in all $(median "$1" cpu_total))"; }
row "| ... dom0 CPU during \`xl create\` by process, ms (schedstat of the processes alive at its end: QEMU / rtcdm's supervisor + serving part / xenstored / the rest; xl itself has ended) | $(cpu_cell stock) | $(cpu_cell companion) | | | |"
row "| ... rtcdm's part by its log: first line to QEMU ready / QEMU ready to rtcdm's NVRAM set up (QEMU's CMOS in one device-state save, the serving part started) | | $(median companion to_qemu_ready_ms) ms / $(median companion cmos_read_ms) ms | | | |"
row "| dom0 memory of the device model: resident pages no other process maps (memadded) | QEMU $ms KiB | QEMU + rtcdm (2 processes) $mc KiB, of which only rtcdm's processes map $(median companion rtcdm_own) KiB ($(median companion rtcdm_own_anon) anonymous, $(median companion rtcdm_own_file) file) | $added_mem KiB = $(share "$added_mem" "$ms") % of QEMU's | <= 5 % of QEMU's | $(verdict "$mem_ok") |"
row "| the same by VmRSS (pages shared with other processes, such as libc's, counted once per process) | QEMU $qs KiB | QEMU $qc KiB + rtcdm $rr KiB | $added_rss KiB = $(share "$added_rss" "$qs") % | | |"
row "| the same, proportional set size (Pss: shared pages split) | QEMU $ps KiB | QEMU $pc KiB + rtcdm $pr KiB | $added_pss KiB = $(share "$added_pss" "$ps") % | | |"
for k in nvram-read nvram-write rtc-read; do
	case $k in
	nvram-read) what="NVRAM read, guest TSC (outb 0x70 0x41; inb 0x71: 2 device-model round trips)" ;;
	nvram-write) what="NVRAM write (outb 0x70 0x41; outb 0x71)" ;;
	rtc-read) what="register D read (Xen's vRTC, no device model: the floor)" ;;
	esac
	a=$(median stock "$k.med")
	b=$(median companion "$k.med")
	if [ $k = nvram-read ]; then
		tgt="companion <= stock"
		res=$(verdict "$nvram_ok")
	elif [ $k = nvram-write ]; then
		tgt="companion <= stock"
		res=$(verdict "$write_ok")
	else
		tgt="" res=""
	fi
	row "| $what, median cycles (us at $khz kHz) | $a ($(us "$a" "$khz") us) | $b ($(us "$b" "$khz") us) | $(pct "$b" "$a") % | $tgt | $res |"
	row "| ... min / p90 / mean over the loop, cycles | $(median stock "$k.min") / $(median stock "$k.p90") / $(median stock "$k.mean") | $(median companion "$k.min") / $(median companion "$k.p90") / $(median companion "$k.mean") | | | |"
done
row ""
row "Samples in measuring order (stock, companion alternating; per domain):"
row ""
row "- \`xl create\` ms: stock $(samples stock create_ms); companion $(samples companion create_ms)"
row "- dom0 idle during \`xl create\`, ms: stock $(samples stock create_idle_ms); companion $(samples companion create_idle_ms)"
row "- dom0 CPU during \`xl create\`, ms, QEMU: stock $(samples stock cpu_qemu); companion $(samples companion cpu_qemu); rtcdm + serving part: $(samples companion cpu_rtcdm) + $(samples companion cpu_rtcdm_rtc); xenstored: stock $(samples stock cpu_xenstored); companion $(samples companion cpu_xenstored)"
row "- pages only the device model maps, KiB: stock $(samples stock dm_added); companion $(samples companion dm_added)"
row "- VmRSS KiB: QEMU stock $(samples stock qemu_rss); QEMU companion $(samples companion qemu_rss); rtcdm $(samples companion rtcdm_rss)"
row "- NVRAM read, median cycles per domain: stock $(samples stock nvram-read.med); companion $(samples companion nvram-read.med)"
row "- NVRAM write, median cycles per domain: stock $(samples stock nvram-write.med); companion $(samples companion nvram-write.med)"
row "- TSC kHz: stock $(samples stock khz); companion $(samples companion khz)"
note "create $create_pct % $(verdict "$create_ok"); memory added $added_mem KiB of QEMU's $ms KiB $(verdict "$mem_ok") (VmRSS $added_rss KiB of $qs KiB); NVRAM read $nc vs $ns cycles $(verdict "$nvram_ok"), write $wc vs $ws cycles $(verdict "$write_ok")"
pass
