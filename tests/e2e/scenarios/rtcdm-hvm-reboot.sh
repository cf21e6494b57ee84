#!/bin/sh
# e2e-timeout: 420
#
# rtcdm as an HVM domain's device model across xl destroy + xl create (a
# power cycle): the battery-backed CMOS gives the guest its clock and NVRAM
# back, as a PC's battery would.  Stock Xen starts the new domain at the
# config's offset (0) and QEMU's NVRAM empty.
#
# libxl passes no -uuid: rtcdm takes the domain's UUID from xenstore
# (/local/domain/<domid>/vm) and keeps /var/lib/xen/rtcdm/<uuid>.cmos,
# creating the state directory when it is missing.  The config names a
# fixed UUID, as a domain that keeps its identity across creations does.
#
# First run: the guest writes NVRAM 0x41 = 3c and its "already set" marker
# 0x40 = 5a, and moves its clock a year forward.  After xl destroy and xl
# create, the same guest finds the marker (and skips the step), its NVRAM,
# and a clock a year ahead of dom0's; Xen's RTC record holds that offset
# (rtcdm gave it to the fresh domain).
. /e2e/lib.sh

NAME=e2e-rtcdm-reboot
UUID=5e1f0c2a-7d3b-4e8a-9c61-0b2d4f6a8e10
STATE=/var/lib/xen/rtcdm
BAT=$STATE/$UUID.cmos
DMLOG=/var/log/xen/qemu-dm-$NAME.log
cat >"$E2E_RUN/hvm.cfg" <<CFG
name = "$NAME"
uuid = "$UUID"
type = "hvm"
firmware_override = "/e2e/guest/guest-hvm-setyear.elf"
device_model_version = "qemu-xen"
device_model_override = "/e2e/bin/rtcdm"
memory = 32
vcpus = 1
tsc_mode = "native"
vga = "none"
vnc = 0
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "preserve"
CFG
[ -x /e2e/bin/rtcdm ] || fail "rtcdm is not in this build"
# A fresh machine: no state directory yet (rtcdm creates it).
rm -rf "$STATE"

guest_offset() { # DOMID -> SEEN_OFFSET from the latest report line
	expect_guest "$1" "^n=([0-9]+) " 60 "a report line"
	_t=$(field "$LINE" time)
	[ "$_t" = invalid ] && fail "guest d$1 reports an invalid time: $LINE"
	SEEN_OFFSET=$(($(epoch "$_t") - $(date +%s)))
	log "guest d$1 $(field "$LINE" n) time=$_t -> offset $SEEN_OFFSET"
}
check_near() { # WHAT GOT WANT
	[ "$2" -ge $(($3 - 6)) ] && [ "$2" -le $(($3 + 2)) ] ||
		fail "$1: got $2 s, want $3 s (-6..+2)"
	log "ok: $1 = $2 (want $3)"
}

# ---- first life -------------------------------------------------------------------
create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q "domain UUID $UUID (from xenstore /local/domain/$id/vm)" "$DMLOG" ||
	fail "rtcdm did not take the UUID from xenstore: $(grep -i uuid "$DMLOG" | head -n 2)"
expect_guest "$id" '^set mode=bcd ' 150 "BCD set line"
case $LINE in *" ok") ;; *) fail "BCD year set: $LINE" ;; esac
want=$(($(epoch "$(field "$LINE" to)") - $(epoch "$(field "$LINE" from)")))
case $want in
31536000 | 31622400) log "guest moved its RTC by $want s" ;;
*) fail "guest's year step is $want s, not 365 or 366 days" ;;
esac
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id"
check_near "guest clock minus dom0 clock, first life" "$SEEN_OFFSET" "$want"
check "NVRAM marker and scratch, first life" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"

destroy "$id"
# rtcdm writes the file within 100 ms of a change and again at exit (SIGHUP).
for _i in 1 2 3 4 5 6 7 8 9 10; do
	[ -f "$BAT" ] && ! pgrep -f "rtcdm.*-xen-domid $id " >/dev/null && break
	sleep 1
done
[ -f "$BAT" ] || fail "no battery file $BAT after xl destroy: $(ls -la "$STATE" 2>&1 | tr '\n' ' ')"
check "state directory mode" "$(stat -c %a "$STATE")" 700
check "battery file mode" "$(stat -c %a "$BAT")" 600
run 30 rtcdm-ctx dump "$BAT" || fail "rtcdm-ctx dump $BAT exited $?: $(tail -n 1 "$OUT")"
grep -Eq "^  seconds +$want " "$OUT" || fail "battery file: offset is not $want s: $(grep -A1 OFFSET "$OUT" | tr '\n' ' ')"
grep -Eq '^  3e: [0-9a-f]{2} [0-9a-f]{2} 5a 3c ' "$OUT" ||
	fail "battery file: NVRAM 0x40/0x41 are not 5a 3c: $(grep '^  3e:' "$OUT")"
log "ok: $BAT holds offset $want s and NVRAM 5a 3c"

# ---- second life: a new domain, same UUID ----------------------------------------------
create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q "restored the battery-backed CMOS from $BAT" "$DMLOG" ||
	fail "rtcdm did not load $BAT: $(grep -i 'battery\|time offset' "$DMLOG" | tail -n 3)"
grep -q "time offset: offset $want s from the battery-backed CMOS \[battery\]" "$DMLOG" ||
	fail "rtcdm's offset decision: $(grep 'time offset:' "$DMLOG" | tail -n 1)"
expect_guest "$id" '^set skipped marker=5a' 150 "set skipped line (NVRAM marker kept)"
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id"
check_near "guest clock minus dom0 clock after the power cycle" "$SEEN_OFFSET" "$want"
check "NVRAM marker and scratch after the power cycle" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
run 30 rtc-record "$id" || fail "rtc-record $id failed: $(cat "$OUT")"
check "Xen's RTC record of the new domain" "$(sed -n 's/^rtc_offset=\(-*[0-9]*\) .*/\1/p' "$OUT")" "$want"

destroy "$id"
rm -rf "$STATE"
pass
