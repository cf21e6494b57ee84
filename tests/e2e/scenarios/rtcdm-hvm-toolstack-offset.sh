#!/bin/sh
# e2e-timeout: 540
#
# rtcdm as an HVM domain's device model with rtc_timeoffset = 3600 in the
# domain's config: the toolstack's offset wins over the guest's, as in Xen.
# libxl gives Xen the offset at creation (settimeoffset: rtcdm reads it in
# Xen's RTC record and calls it the toolstack's); the guest then moves its
# clock a year forward, which Xen and rtcdm follow; xl save writes that
# offset; xl restore gives Xen the config's 3600 s again before the saved
# context loads, so Xen discards the guest's saved offset, and rtcdm
# follows Xen: the restored guest reads dom0's clock + 3600 s, xenstore and
# Xen's RTC record say 3600.
. /e2e/lib.sh

NAME=e2e-rtcdm-tsoff
IMG=$E2E_SAVE/rtcdm-tsoff.img
DMLOG=/var/log/xen/qemu-dm-$NAME.log
TS=3600
cat >"$E2E_RUN/hvm.cfg" <<CFG
name = "$NAME"
type = "hvm"
firmware_override = "/e2e/guest/guest-hvm-setyear.elf"
device_model_version = "qemu-xen"
device_model_override = "/e2e/bin/rtcdm"
rtc_timeoffset = $TS
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

# guest_offset DOMID AFTER_N — the guest's clock minus dom0's, on a report
# numbered above AFTER_N (SEEN_OFFSET, SEEN_N).
guest_offset() {
	expect_guest "$1" "^n=([0-9]+) " 60 "a report line"
	_n=$(field "$LINE" n)
	while [ "$_n" -le "$2" ]; do
		sleep 1
		expect_guest "$1" "^n=([0-9]+) " 60 "a report line"
		_n=$(field "$LINE" n)
	done
	_t=$(field "$LINE" time)
	[ "$_t" = invalid ] && fail "guest d$1 reports an invalid time: $LINE"
	SEEN_N=$_n
	SEEN_OFFSET=$(($(epoch "$_t") - $(date +%s)))
	log "guest d$1 n=$_n time=$_t -> offset $SEEN_OFFSET"
}
check_near() { # WHAT GOT WANT: the guest's clock is read a few seconds late
	[ "$2" -ge $(($3 - 6)) ] && [ "$2" -le $(($3 + 2)) ] ||
		fail "$1: got $2 s, want $3 s (-6..+2)"
	log "ok: $1 = $2 (want $3)"
}
xen_offset() { # DOMID -> XEN_OFFSET (Xen's RTC record)
	run 30 rtc-record "$1" || fail "rtc-record $1 failed: $(cat "$OUT")"
	XEN_OFFSET=$(sed -n 's/^rtc_offset=\(-*[0-9]*\) .*/\1/p' "$OUT")
}
xenstore_offset() { # DOMID WANT — rtcdm's published offset (20 s to appear)
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

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q 'HVM mode' "$DMLOG" || fail "rtcdm did not choose HVM mode"
grep -q "Xen's RTC record: offset $TS s (set by the toolstack)" "$DMLOG" ||
	fail "rtcdm did not see the toolstack's $TS s in Xen's RTC record: $(grep "RTC record" "$DMLOG")"

expect_guest "$id" '^set mode=bcd ' 150 "BCD set line"
case $LINE in *" ok") ;; *) fail "BCD year set: $LINE" ;; esac
step=$(($(epoch "$(field "$LINE" to)") - $(epoch "$(field "$LINE" from)")))
case $step in
31536000 | 31622400) log "guest moved its RTC by $step s" ;;
*) fail "guest's year step is $step s, not 365 or 366 days" ;;
esac
expect_guest "$id" '^ready' 60 "ready line"
grep -q "hypervisor reports a guest clock change of +$step s" "$DMLOG" ||
	fail "rtcdm did not follow Xen's TIMEOFFSET of +$step s"
before=$((TS + step))
xen_offset "$id"
check "Xen's RTC record before save (toolstack + guest step)" "$XEN_OFFSET" "$before"
xenstore_offset "$id" "$before"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before save" "$SEEN_OFFSET" "$before"
n_before=$SEEN_N

run 300 xl save "$id" "$IMG"
rc=$?
[ $rc -eq 137 ] && testbed "xl save did not return within 300 s"
[ $rc -eq 0 ] || fail "xl save exited $rc: $(tail -n 1 "$OUT")"
run 180 rtcdm-ctx dump "$IMG" || fail "rtcdm-ctx dump exited $?: $(tail -n 1 "$OUT")"
grep -Eq "^  rtc_offset +$before s" "$OUT" || fail "rtcdm-ctx dump: Xen's RTC record offset is not $before s"
log "ok: the image holds the guest's offset $before s"

mark_log
run 240 xl restore "$IMG"
rc=$?
[ $rc -eq 137 ] && testbed "xl restore did not return within 240 s"
id=$(domid "$NAME")
[ -n "$id" ] || fail "xl restore (exit $rc) left no domain: $(tail -n 1 "$OUT")"
grep -q "Xen's RTC record: offset $TS s (restored domain)" "$DMLOG" ||
	fail "rtcdm did not find the toolstack's $TS s in Xen's record after restore: $(grep "RTC record\|time offset" "$DMLOG" | tail -n 3)"
xen_offset "$id"
check "Xen's RTC record after restore (the toolstack's offset)" "$XEN_OFFSET" "$TS"
guest_offset "$id" "$n_before"
check_near "guest clock minus dom0 clock after restore" "$SEEN_OFFSET" "$TS"
guest_lines "$id" | grep -q '^boot ' && fail "the restored guest booted again"
xenstore_offset "$id" "$TS"

destroy "$id"
pass
