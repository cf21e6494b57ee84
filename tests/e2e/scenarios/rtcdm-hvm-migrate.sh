#!/bin/sh
# e2e-timeout: 900
#
# xl migrate of HVM domains with rtcdm as device model, within the test-bed
# host: `xl migrate -s ""` runs its "host" argument as the receiving command
# itself (no ssh), here `xl migrate-receive` in dom0, which creates the
# domain as NAME--incoming (its device model logs to
# qemu-dm-NAME--incoming.log) and renames it once the sender lets it go.
#
# 1. A setyear guest moves its clock a year forward and writes NVRAM.  Two
#    migrations whose receiver is killed fail: half-way through the memory
#    (after the first 8 MiB of the stream, while the domain still runs) and
#    after the source's rtcdm was stopped and saved its device state (the
#    domain suspended).  Each time the source domain must run on under its
#    own name, the same rtcdm still its device model (running again after
#    the second), with its clock (guest, Xen's RTC record, xenstore) and
#    NVRAM intact.
# 2. The same domain then migrates: the guest on the receiving side counts
#    on (no new boot) with its offset and NVRAM, Xen's RTC record and
#    xenstore hold the offset, and the receiving rtcdm logs that the offset
#    came from the image.
# 3. A probe guest with rtc_timeoffset = 3600 migrates: the receiving rtcdm
#    logs the offset as the image's, set by the toolstack before the save
#    (the image's `set` flag), and the guest reads dom0's clock + 3600 s.
. /e2e/lib.sh

NAME=e2e-rtcdm-mig
NAME_TS=e2e-rtcdm-migts
TS=3600
CUT=8388608
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--rtc-only" ]'
hvm_cfg "$E2E_RUN/hvm-ts.cfg" "$NAME_TS" probe "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--rtc-only" ]' \
	"rtc_timeoffset = $TS"
require rtcdm

# The receiving side when it is killed: xl migrate-receive reads the stream
# (stdin) through a FIFO held open; receiver-cut passes the first CUT bytes,
# receiver-late all of it until the source's rtcdm has saved its device
# state (the domain is suspended, the stream's end on its way; the receiver
# still has to restore the domain and start its device model before it may
# answer, seconds under emulation).  Then the receiver gets SIGKILL, and the
# half-built NAME--incoming it leaves is destroyed: once the receiver has
# started that domain's device model, libxl's process that watches the
# device model (a fork of xl) holds the receiver's end of the stream open,
# and the sender would wait for the receiver's answer until it ends.
receiver() { # FILE FORWARD WHEN
	cat >"$1" <<RECV
#!/bin/sh
rm -f "$1.fifo"
mkfifo "$1.fifo" || exit 1
xl migrate-receive <"$1.fifo" &
r=\$!
exec 3>"$1.fifo"
$2
kill -KILL \$r
echo "receiver \$r killed $3" >&2
exec 3>&-
wait \$r
xl destroy "$NAME--incoming" </dev/null >/dev/null 2>&1 &&
	echo "receiver: destroyed the $NAME--incoming it left" >&2
exit 1
RECV
}
receiver "$E2E_RUN/receiver-cut" "head -c $CUT >&3" "after $CUT bytes of the stream"
# (An asynchronous command's stdin is /dev/null unless redirected: cat reads fd 4.)
receiver "$E2E_RUN/receiver-late" "exec 4<&0
cat <&4 >&3 &
c=\$!
i=0
until grep -qs 'device state saved to' '/var/log/xen/qemu-dm-$NAME.log' || [ \$i -ge 600 ]; do
	sleep 0.2
	i=\$((i + 1))
done
kill \$c" "once the source's device model saved"

# dm_pid DOMID — the device-model pid libxl recorded for the domain.
dm_pid() { timeout -s KILL 10 xenstore-read "/local/domain/$1/image/device-model-pid" 2>/dev/null; }

# ---- 1. the guest's offset and NVRAM; a migration whose receiver is killed ------------
DMLOG=/var/log/xen/qemu-dm-$NAME.log
create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q 'HVM mode' "$DMLOG" || fail "rtcdm did not choose HVM mode"
expect_guest "$id" '^ready' 150 "ready line"
expect_guest "$id" '^nvram ' 5 "nvram line"
check "NVRAM 0x41 write/read (rtcdm's CMOS)" "$LINE" "nvram index=41 wrote=a5 read=a5 wrote=3c read=3c"
year_step "$id" 5
want=$STEP
xenstore_offset "$id" "$want"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before migrating" "$SEEN_OFFSET" "$want"
pid=$(dm_pid "$id")
[ -n "$pid" ] || fail "no device-model pid for d$id"

# failed_migration RECEIVER WHAT — xl migrate to RECEIVER (receiver-cut or receiver-late),
# which kills xl migrate-receive: xl migrate must fail and resume the source, which runs
# on with its rtcdm, clock and NVRAM.
failed_migration() {
	_t0=$(date +%s)
	migrate "$NAME" "sh $E2E_RUN/$1" 300
	[ $MIG_RC -ne 0 ] || fail "xl migrate succeeded although its receiver was killed $2"
	grep -q "killed $2" "$OUT" || testbed "the receiver was not killed $2: $(tail -n 3 "$OUT" | tr '\n' ' ')"
	grep -q 'Migration failed during final handshake' "$OUT" &&
		testbed "the receiver was killed too late (after the sender's go): $(tail -n 3 "$OUT" | tr '\n' ' ')"
	grep -q 'Migration failed, resuming at sender' "$OUT" ||
		fail "xl migrate did not resume the sender: $(tail -n 3 "$OUT" | tr '\n' ' ')"
	note "failed migration (receiver killed $2): $(($(date +%s) - _t0)) s"
	[ -n "$(domid "$NAME--incoming")" ] && fail "$NAME--incoming is still there"
	check "the source domain keeps its id and name" "$(domid "$NAME")" "$id"
	_state=$(timeout -s KILL 30 xl list "$id" | awk -v i="$id" '$2 == i { print $5 }')
	case $_state in ??p* | ???s*) fail "the source domain is not running after the failed migration: $_state" ;; esac
	check "the source's device model is still rtcdm pid $pid" "$(dm_pid "$id")" "$pid"
	kill -0 "$pid" || fail "the source's rtcdm (pid $pid) is gone"
	xen_offset "$id"
	check "Xen's RTC record after the failed migration" "$XEN_OFFSET" "$want"
	xenstore_offset "$id" "$want"
	guest_offset "$id" "$SEEN_N" 2
	check_near "guest clock minus dom0 clock after the failed migration" "$SEEN_OFFSET" "$want"
	check "NVRAM after the failed migration (marker, scratch)" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
}

failed_migration receiver-cut "after $CUT bytes of the stream"
grep -q 'device state saved' "$DMLOG" && fail "rtcdm saved its state although the stream was cut before"
failed_migration receiver-late "once the source's device model saved"
# libxl resumed the suspended domain: QMP cont after stop and xen-save-devices-state.
sed -n '/device state saved to/,$p' "$DMLOG" | grep -q 'guest running' ||
	dm_fail "the source's rtcdm was not told to run again after its save"
n_before=$SEEN_N

# ---- 2. the migration ------------------------------------------------------------------
migrate_ok "$NAME" "migration"
grep -Eq "time offset: offset $want s from the image \(.*\) \[image\]" "$DMLOG" ||
	dm_fail "the receiving rtcdm did not take the offset $want s from the image: $(grep 'time offset:' "$DMLOG" | tail -n 1)"
log "ok: receiving rtcdm: $(grep -o 'time offset: .*' "$DMLOG" | tail -n 1)"
xen_offset "$id"
check "Xen's RTC record after the migration" "$XEN_OFFSET" "$want"
xenstore_offset "$id" "$want"
guest_offset "$id" "$n_before" 2
check_near "guest clock minus dom0 clock after the migration" "$SEEN_OFFSET" "$want"
check "NVRAM after the migration (marker, scratch)" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
guest_lines "$id" | grep -q '^boot ' && fail "the migrated guest booted again"
destroy "$id"

# ---- 3. the toolstack's offset and its flag ------------------------------------------------
DMLOG=/var/log/xen/qemu-dm-$NAME_TS.log
create "$E2E_RUN/hvm-ts.cfg" "$NAME_TS"
id=$DOMID
grep -q "Xen's RTC record: offset $TS s (set by the toolstack)" "$DMLOG" ||
	fail "rtcdm did not see the toolstack's $TS s: $(grep "RTC record" "$DMLOG")"
expect_guest "$id" '^ready' 150 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock before migrating" "$SEEN_OFFSET" "$TS"
n_before=$SEEN_N
migrate_ok "$NAME_TS" "migration with rtc_timeoffset"
grep -Eq "time offset: offset $TS s from the image, set by the toolstack before the save \(.*\) \[toolstack\]" "$DMLOG" ||
	dm_fail "the receiving rtcdm did not keep the toolstack's $TS s from the image: $(grep 'time offset:' "$DMLOG" | tail -n 1)"
log "ok: receiving rtcdm: $(grep -o 'time offset: .*' "$DMLOG" | tail -n 1)"
xen_offset "$id"
check "Xen's RTC record after the migration" "$XEN_OFFSET" "$TS"
xenstore_offset "$id" "$TS"
guest_offset "$id" "$n_before"
check_near "guest clock minus dom0 clock after the migration" "$SEEN_OFFSET" "$TS"
guest_lines "$id" | grep -q '^boot ' && fail "the migrated guest booted again"
destroy "$id"
pass
