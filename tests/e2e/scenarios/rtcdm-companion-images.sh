#!/bin/sh
# e2e-timeout: 720
#
# Save images cross between stock qemu-xen and companion mode, both ways
# (`xl restore CONFIG IMAGE` with the other config, as an operator moving a
# domain to or from rtcdm would):
#
# 1. stock -> companion: a domain under stock qemu-xen (the guest's NVRAM in
#    QEMU's CMOS, its year step in Xen's RTC record) is saved and restored
#    with rtcdm.  rtcdm finds no part of its own in the context, waits until
#    QEMU has loaded its stream, takes the guest's NVRAM from QEMU's CMOS and
#    the offset from Xen's restored record, says so in its log, and then
#    serves the ports: the guest reads its own NVRAM and clock through rtcdm.
# 2. companion -> stock: a domain under rtcdm (the guest's NVRAM written to
#    rtcdm, not to QEMU) is saved; before QEMU saves, rtcdm writes the
#    guest's bytes into QEMU's CMOS; the image is restored with stock
#    qemu-xen, which ignores rtcdm's part after its end-of-stream marker:
#    the guest reads its NVRAM and clock from QEMU and Xen.
. /e2e/lib.sh

NAME=e2e-companion-images
IMG1=$E2E_SAVE/stock.img
IMG2=$E2E_SAVE/companion.img
DMLOG=/var/log/xen/qemu-dm-$NAME.log
hvm_cfg "$E2E_RUN/stock.cfg" "$NAME" setyear
hvm_cfg "$E2E_RUN/companion.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--companion" ]'
require rtcdm rtcdm-ctx

# stock_dm DOMID — the domain's device model is QEMU itself (no rtcdm).
stock_dm() {
	_pid=$(xenstore-read "/local/domain/$1/image/device-model-pid" 2>/dev/null)
	[ -n "$_pid" ] || fail "no device-model pid for d$1"
	grep -q qemu-system-i386 "/proc/$_pid/cmdline" 2>/dev/null ||
		fail "device-model pid $_pid of d$1 is not qemu-xen: $(tr '\0' ' ' <"/proc/$_pid/cmdline")"
	log "d$1: stock qemu-xen (pid $_pid)"
}

# ---- 1. stock qemu-xen image, restored in companion mode ------------------------------
create "$E2E_RUN/stock.cfg" "$NAME"
id=$DOMID
stock_dm "$id"
year_step "$id" 150
want=$STEP
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock under stock qemu-xen" "$SEEN_OFFSET" "$want" 10
check "NVRAM marker and scratch under stock qemu-xen" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
n_before=$SEEN_N
xl_save "$id" "$IMG1"
run 60 rtcdm-ctx dump "$IMG1" || fail "rtcdm-ctx dump of the stock image exited $?: $(tail -n 1 "$OUT")"
grep -q "in companion mode" "$OUT" && fail "rtcdm-ctx dump calls the stock image a companion context"

xl_restore "$IMG1" "$NAME" "$E2E_RUN/companion.cfg"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
grep -q "incoming: a stock qemu-xen context, no rtcdm part" "$DMLOG" ||
	fail "rtcdm did not see a stock context: $(grep incoming "$DMLOG" | tr '\n' ' ')"
# QEMU's CMOS is read once QEMU has loaded its stream: either QEMU said
# "inmigrate" at first and rtcdm waited, or it had loaded it already.
loaded=$(grep -Eo "QEMU loaded its incoming stream.*|QEMU [0-9.]+ ready \(pid [0-9]+, status [a-z-]+\)" "$DMLOG" | tail -n 1)
case $loaded in
"QEMU loaded"* | *"status inmigrate)") ;;
*"ready ("*) ;;
*) fail "rtcdm logged no QEMU readiness: $(tail -n 5 "$DMLOG" | tr '\n' ' ')" ;;
esac
case $loaded in *"status inmigrate)") fail "rtcdm read QEMU's CMOS while QEMU was still loading its stream" ;; esac
log "ok: $loaded"
grep -q "NVRAM from QEMU's CMOS: " "$DMLOG" ||
	fail "rtcdm did not take QEMU's NVRAM: $(grep "QEMU's CMOS" "$DMLOG" | tr '\n' ' ')"
grep -q "time offset: offset $want s from the hypervisor (Xen's RTC record of the restored domain)" "$DMLOG" ||
	fail "rtcdm's offset decision: $(grep 'time offset:' "$DMLOG" | tail -n 1)"
log "ok: $(grep -o 'time offset: .*' "$DMLOG" | tail -n 1)"
guest_offset "$id" "$n_before" 3
check_near "guest clock through rtcdm after restoring the stock image" "$SEEN_OFFSET" "$want" 10
expect_guest "$id" "^n=" 5 "a report line"
check "NVRAM through rtcdm after restoring the stock image" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
destroy "$id"

# ---- 2. companion-mode image, restored with stock qemu-xen ------------------------------
create "$E2E_RUN/companion.cfg" "$NAME"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
year_step "$id" 150
want=$STEP
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock in companion mode" "$SEEN_OFFSET" "$want" 10
check "NVRAM marker and scratch in companion mode" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
n_before=$SEEN_N
xl_save "$id" "$IMG2"
synced=$(grep -o "QEMU's CMOS brought up to date before its save: [0-9]* NVRAM byte" "$DMLOG" | tail -n 1)
[ -n "$synced" ] || fail "rtcdm did not write the guest's NVRAM into QEMU's CMOS: $(tail -n 4 "$DMLOG" | tr '\n' ' ')"
[ "$(echo "$synced" | sed 's/.*: \([0-9]*\) NVRAM.*/\1/')" -ge 2 ] || fail "too few bytes synced: $synced"
log "ok: $synced"
run 60 rtcdm-ctx dump "$IMG2" || fail "rtcdm-ctx dump exited $?: $(tail -n 1 "$OUT")"
grep -q "in companion mode" "$OUT" || fail "rtcdm-ctx dump shows no companion context"

xl_restore "$IMG2" "$NAME" "$E2E_RUN/stock.cfg"
id=$DOMID
stock_dm "$id"
guest_offset "$id" "$n_before" 3
check_near "guest clock under stock qemu-xen after restoring the companion image" "$SEEN_OFFSET" "$want" 10
expect_guest "$id" "^n=" 5 "a report line"
check "NVRAM from QEMU after restoring the companion image" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
destroy "$id"
pass
