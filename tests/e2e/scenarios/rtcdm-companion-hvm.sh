#!/bin/sh
# e2e-timeout: 900
#
# Companion mode, the default when libxl starts rtcdm for an HVM domain (no
# device_model_args_hvm; the log says why the mode was chosen): libxl
# starts rtcdm, rtcdm starts Debian's qemu-xen as its child with libxl's
# arguments and relays libxl's QMP monitors to it; once QEMU is ready rtcdm
# creates its own ioreq server for 0x70-0x71, after QEMU's, so it answers
# the guest's NVRAM.  Checked: xl create succeeds, QEMU is rtcdm's child and
# answered rtcdm's own monitor, rtcdm's ioreq server id is above QEMU's,
# rtcdm's NVRAM starts from QEMU's CMOS (the guest reads QEMU's memory-size
# bytes through rtcdm), a device only QEMU emulates works next to it (COM1 to a file in
# dom0, before and after the restore), the guest's NVRAM write/read and its one-year step reach rtcdm (port accesses
# and Xen's TIMEOFFSET counted by rtcdm's server, the clock change logged),
# xl save (through the relayed QMP) writes an EMULATOR_CONTEXT that
# `rtcdm-ctx dump` shows as QEMU's stream followed by rtcdm's image with the
# guest's offset and NVRAM, xl restore gives the running guest back with its
# offset and NVRAM (QEMU read its stream from the start, rtcdm found its
# part and serves the ports again), xl destroy ends both processes.
. /e2e/lib.sh

NAME=e2e-companion
IMG=$E2E_SAVE/companion.img
DMLOG=/var/log/xen/qemu-dm-$NAME.log
COM1=$E2E_RUN/com1.txt
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\"" \
	"serial = \"file:$COM1\""
require rtcdm rtcdm-ctx

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
companion_pids "$id"
grep -q 'info: companion mode (HVM domain started by libxl)$' "$DMLOG" ||
	fail "rtcdm did not choose companion mode by default: $(grep -m1 ' mode (' "$DMLOG")"
grep -q 'QEMU 7\.2\.[0-9]* ready' "$DMLOG" || fail "rtcdm did not see QEMU ready: $(tail -n 3 "$DMLOG" | tr '\n' ' ')"
log "ok: $(grep -o 'QEMU 7\.2\.[0-9]* ready.*' "$DMLOG")"
grep -q 'ignoring option' "$DMLOG" && fail "rtcdm logs QEMU's options as ignored in companion mode"
grep -q "rtcdm-qmp" "/proc/$QEMU_PID/cmdline" || fail "QEMU has no rtcdm-qmp monitor"
served_by_rtcdm

expect_guest "$id" '^ready' 150 "ready line"
# The guest's CMOS dump at boot read QEMU's memory size (0x34-0x35:
# (RAM - 16 MiB) / 64 KiB, from QEMU's -m) through rtcdm, which took it
# from QEMU's CMOS before serving the ports.
M=$(tr '\0' '\n' <"/proc/$QEMU_PID/cmdline" | sed -n '/^-m$/{n;p;q;}')
[ -n "$M" ] || fail "QEMU has no -m in its command line"
v=$(((M - 16) * 16))
want_mem=$(printf '%02x %02x' $((v & 255)) $((v >> 8)))
grep -q "0x34-0x35 = $want_mem)" "$DMLOG" ||
	fail "rtcdm did not take QEMU's memory size ($want_mem for -m $M): $(grep "QEMU's CMOS" "$DMLOG" | tr '\n' ' ')"
expect_guest "$id" '^cmos 30:' 5 "CMOS row 0x30"
check "memory above 16 MiB (0x34-0x35) as the guest reads it through rtcdm (QEMU -m $M)" \
	"$(echo "$LINE" | awk '{ print $7, $8 }')" "$want_mem"
reset_regs "$id" "reset registers (A B D, CMOS present)"
expect_guest "$id" '^nvram ' 5 "nvram line"
check "NVRAM 0x41 write/read (rtcdm's CMOS)" "$LINE" \
	"nvram index=41 wrote=a5 read=a5 wrote=3c read=3c"
year_step "$id" 5
want=$STEP
grep -q "hypervisor reports a guest clock change of +$want s" "$DMLOG" ||
	fail "rtcdm did not follow Xen's TIMEOFFSET of +$want s"
guest_offset "$id" 0 3
check_near "guest clock minus dom0 clock before save" "$SEEN_OFFSET" "$want" 10
n_before=$SEEN_N
# COM1 is QEMU's alone (its 16550, to a file in dom0): the guest's "uart n=N" lines
# uart_n — UART_N, the highest N the guest wrote to COM1 so far (0: none).
uart_n() { UART_N=$(tr -d '\r' <"$COM1" 2>/dev/null | sed -n 's/^uart n=\([0-9]*\)$/\1/p' | tail -n 1); UART_N=${UART_N:-0}; }
uart_n
[ "$UART_N" -ge "$n_before" ] || fail "QEMU's COM1 has no line of the guest's report $n_before: $(tail -c 80 "$COM1" 2>/dev/null)"
log "ok: QEMU's COM1 has the guest's report lines up to $UART_N"

# ---- save: QEMU's stream, then rtcdm's image ---------------------------------------
xl_save "$id" "$IMG"
[ -n "$(domid "$NAME")" ] && fail "domain $NAME still exists after xl save"
grep -q "saved: QEMU's device state, then rtcdm's image" "$DMLOG" ||
	fail "rtcdm did not append its image: $(tail -n 3 "$DMLOG" | tr '\n' ' ')"
run 180 rtcdm-ctx dump "$IMG" || fail "rtcdm-ctx dump exited $?: $(tail -n 1 "$OUT")"
grep -q "in companion mode" "$OUT" || fail "rtcdm-ctx dump shows no companion context: $(grep -A2 EMULATOR "$OUT" | tr '\n' ' ')"
grep -q "QEMU's stream: bytes 0\.\." "$OUT" || fail "rtcdm-ctx dump shows no QEMU stream"
grep -q "rtcdm's image: bytes " "$OUT" || fail "rtcdm-ctx dump shows no rtcdm image"
grep -Eq "^  seconds +$want " "$OUT" || fail "rtcdm-ctx dump: rtcdm's OFFSET is not $want s: $(grep -A1 'OFFSET' "$OUT" | tr '\n' ' ')"
grep -Eq '^  3e: [0-9a-f]{2} [0-9a-f]{2} 5a 3c ' "$OUT" ||
	fail "rtcdm-ctx dump: rtcdm's NVRAM 0x40/0x41 are not 5a 3c: $(grep '^  3e:' "$OUT")"
grep -q "warning: time offset: " "$DMLOG" && fail "rtcdm's offset had to be corrected before the save: $(grep 'warning: time offset: ' "$DMLOG")"
# rtcdm's server counted the guest's port accesses and Xen's clock change
end=$(($(date +%s) + 20))
until st=$(grep -o "ioreq server [0-9]* of domain $id destroyed ([0-9]* port reads, [0-9]* writes, [0-9]* clock changes from Xen; [0-9]* data accesses taken while waiting after an index write, [0-9]* waits ran out)" "$DMLOG"); do
	[ "$(date +%s)" -ge "$end" ] && fail "rtcdm logged no ioreq server statistics after xl save"
	sleep 1
done
reads=$(echo "$st" | sed 's/.*(\([0-9]*\) port reads.*/\1/')
writes=$(echo "$st" | sed 's/.* \([0-9]*\) writes.*/\1/')
changes=$(echo "$st" | sed 's/.* \([0-9]*\) clock changes.*/\1/')
[ "$reads" -ge 2 ] && [ "$writes" -ge 4 ] && [ "$changes" -ge 1 ] ||
	fail "rtcdm's server did not serve the guest: $st"
log "ok: $st"
log "ok: $(grep -E "QEMU's stream|rtcdm's image" "$OUT" | tr -s ' ' | tr '\n' ';')"

# ---- restore: QEMU reads its stream, rtcdm finds its part -----------------------------
xl_restore "$IMG" "$NAME"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
grep -q "incoming: QEMU's stream ([0-9]* bytes), then rtcdm's image" "$DMLOG" ||
	fail "rtcdm did not find its part of the incoming context: $(tail -n 3 "$DMLOG" | tr '\n' ' ')"
guest_offset "$id" "$n_before" 3
check_near "guest clock minus dom0 clock after restore" "$SEEN_OFFSET" "$want" 10
guest_lines "$id" | grep -q '^boot ' && fail "the restored guest booted again"
expect_guest "$id" "^n=" 5 "a report line"
check "NVRAM after restore (marker, scratch)" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
n_after=$(field "$LINE" n)
end=$(($(date +%s) + 20))
until uart_n && [ "$UART_N" -ge "$n_after" ]; do
	[ "$(date +%s)" -ge "$end" ] && fail "QEMU's COM1 did not work after the restore (last line $UART_N, report $n_after)"
	sleep 1
done
log "ok: QEMU's COM1 after the restore: report lines up to $UART_N"

# ---- destroy: both processes end ---------------------------------------------------------
destroy "$id"
[ -n "$(domid "$NAME")" ] && fail "domain $NAME still exists after xl destroy"
companion_gone
grep -q 'passing SIGHUP on to QEMU' "$DMLOG" || fail "rtcdm did not pass libxl's SIGHUP on"
grep -q 'QEMU ended (status 0), exiting with its status' "$DMLOG" ||
	fail "rtcdm did not end with QEMU: $(tail -n 3 "$DMLOG" | tr '\n' ' ')"
log "ok: xl destroy ended QEMU (through rtcdm) and rtcdm"
pass
