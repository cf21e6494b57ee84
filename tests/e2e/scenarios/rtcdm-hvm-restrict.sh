#!/bin/sh
# e2e-timeout: 480
#
# rtcdm as an HVM domain's device model under libxl's dm_restrict=1: libxl
# pre-opens the QMP socket (-chardev ...,fd=N -S), adds -xen-domid-restrict,
# -chroot /var/run/xen/qemu-root-<domid> and -runas xen-qemuuser-shared.
# Checked: xl create succeeds (libxl got prelaunch from query-status, then
# cont), the running rtcdm has the uid and gid of xen-qemuuser-shared and no
# supplementary groups, its root is the chroot, its log says the Xen handles
# were restricted to the domain, the guest's NVRAM write/read is served by
# rtcdm through the ioreq server after the restriction, and xl destroy
# removes the domain and ends rtcdm.
#
# Then the battery-backed CMOS of the restricted domain (a power cycle, as
# in rtcdm-hvm-reboot, but restricted): the guest (setyear) moved its clock
# a year forward and set its NVRAM marker in the first life; after xl
# destroy the battery file is in the per-domain directory rtcdm gave the
# run-as user (/var/lib/xen/rtcdm/<uuid>/<uuid>.cmos, outside the chroot);
# after xl create the guest finds its marker and its clock, and Xen's RTC
# record holds the offset.
. /e2e/lib.sh

NAME=e2e-rtcdm-restrict
DMLOG=/var/log/xen/qemu-dm-$NAME.log
QUSER=xen-qemuuser-shared
QUID=980
QGID=980
require rtcdm

# libxl runs the device model as this user; dom0's /etc lives in the
# initramfs (writable), so the user is added for this boot.
grep -q "^$QUSER:" /etc/passwd ||
	echo "$QUSER:x:$QUID:$QGID:Xen device model:/nonexistent:/bin/false" >>/etc/passwd
grep -q "^$QUSER:" /etc/group || echo "$QUSER:x:$QGID:" >>/etc/group
QUID=$(awk -F: -v u="$QUSER" '$1 == u { print $3 }' /etc/passwd)
QGID=$(awk -F: -v u="$QUSER" '$1 == u { print $4 }' /etc/passwd)

UUID=7a61c0de-3b2f-4c1e-9d8a-2f4b6c8e0a13
STATE=/var/lib/xen/rtcdm
DOMDIR=$STATE/$UUID
BAT=$DOMDIR/$UUID.cmos
hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear \
	"device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--rtc-only" ]' 'dm_restrict = 1' "uuid = \"$UUID\""
# The package ships the state directory (0700, root); nothing of this
# domain is in it yet.
rm -rf "$DOMDIR" "$STATE/$UUID.cmos"

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID

# The device model process: the rtcdm whose command line names this domain.
pid=
for d in /proc/[0-9]*; do
	c=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
	case "$c" in "$RTCDM"*) ;; *) continue ;; esac
	case " $c" in *" -xen-domid $id "*) pid=${d#/proc/} ;; esac
done
[ -n "$pid" ] || fail "no rtcdm process for d$id"
args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
log "rtcdm pid $pid: $args"
for a in "-xen-domid-restrict" "-chroot /var/run/xen/qemu-root-$id" "-runas $QUSER" \
	"-S"; do
	case " $args" in *" $a "*) ;; *) fail "libxl did not pass '$a': $args" ;; esac
done

check "rtcdm uid (real effective saved fs)" \
	"$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" "$QUID $QUID $QUID $QUID"
check "rtcdm gid (real effective saved fs)" \
	"$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" "$QGID $QGID $QGID $QGID"
check "rtcdm supplementary groups" "$(awk '/^Groups:/ { print $2 }' "/proc/$pid/status")" ""
# /var/run is a link to /run: the kernel shows the resolved path.
check "rtcdm root directory" "$(readlink "/proc/$pid/root")" \
	"$(readlink -f "/var/run/xen/qemu-root-$id")"

grep -q "Xen handles restricted to domain $id\$" "$DMLOG" ||
	fail "rtcdm's log does not say the Xen handles were restricted to d$id"
grep -q "running in chroot /var/run/xen/qemu-root-$id as $QUSER\$" "$DMLOG" ||
	fail "rtcdm's log does not say it runs in the chroot as $QUSER"
grep -q 'HVM mode' "$DMLOG" || fail "rtcdm did not choose HVM mode"
grep -q -- '-xen-domid-restrict: xenstore closed after set-up, QMP only$' "$DMLOG" ||
	fail "rtcdm's log does not say it closed xenstore after set-up"
log "ok: rtcdm's log: $(grep -E 'restricted|running in chroot' "$DMLOG" | tr '\n' '|')"

# The guest runs only after the restriction: every CMOS access below went
# through the restricted device-model handles.
year_step "$id" 150
want=$STEP
expect_guest "$id" '^ready' 60 "ready line"
reset_regs "$id" "reset registers from Xen's vRTC (A B D, CMOS present)"
expect_guest "$id" '^nvram ' 5 "nvram line"
check "NVRAM 0x41 write/read (rtcdm's CMOS, after the restriction)" "$LINE" \
	"nvram index=41 wrote=a5 read=a5 wrote=3c read=3c"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock, first life" "$SEEN_OFFSET" "$want"
check "NVRAM marker and scratch, first life" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
grep -q "^ *PPid:" "/proc/$pid/status" 2>/dev/null || fail "rtcdm (pid $pid) exited while the guest ran"

destroy "$id"
[ -n "$(domid "$NAME")" ] && fail "domain $NAME still exists after xl destroy"
end=$(($(date +%s) + 20))
while [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do
	[ "$(date +%s)" -ge "$end" ] && fail "rtcdm (pid $pid) still runs 20 s after xl destroy"
	sleep 1
done
log "ok: rtcdm (pid $pid) exited after xl destroy"
grep -q "battery file not updated\|battery-backed CMOS disabled" "$DMLOG" &&
	fail "rtcdm could not keep the battery: $(grep 'battery' "$DMLOG" | tail -n 2 | tr '\n' ' ')"

# ---- the battery file, kept by the restricted process ------------------------------
[ -f "$BAT" ] || fail "no battery file $BAT after xl destroy: $(ls -laR "$STATE" 2>&1 | tr '\n' ' ')"
check "state directory owner and mode" "$(stat -c '%u %a' "$STATE")" "0 700"
check "domain directory owner and mode" "$(stat -c '%u %a' "$DOMDIR")" "$QUID 700"
check "battery file owner and mode" "$(stat -c '%u %a' "$BAT")" "$QUID 600"
battery_file "$BAT" "$want"

# ---- second life: destroy + create of the restricted domain ---------------------------
create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
grep -q "restored the battery-backed CMOS from $BAT" "$DMLOG" ||
	fail "rtcdm did not load $BAT: $(grep -i 'battery\|time offset' "$DMLOG" | tail -n 3)"
grep -q "running in chroot /var/run/xen/qemu-root-$id as $QUSER\$" "$DMLOG" ||
	fail "second life: rtcdm's log does not say it runs in the chroot as $QUSER"
expect_guest "$id" '^set skipped marker=5a' 150 "set skipped line (NVRAM marker kept)"
expect_guest "$id" '^ready' 60 "ready line"
guest_offset "$id" 0
check_near "guest clock minus dom0 clock after destroy + create" "$SEEN_OFFSET" "$want"
check "NVRAM marker and scratch after destroy + create" \
	"$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
xen_offset "$id"
check "Xen's RTC record of the new restricted domain" "$XEN_OFFSET" "$want"

destroy "$id"
rm -rf "$DOMDIR"
pass
