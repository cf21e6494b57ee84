#!/bin/sh
# e2e-timeout: 300
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

hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" probe \
	"device_model_override = \"$RTCDM\"" 'dm_restrict = 1'

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
expect_guest "$id" '^ready' 150 "ready line"
reset_regs "$id" "reset registers from Xen's vRTC (A B D, CMOS present)"
expect_guest "$id" '^nvram ' 5 "nvram line"
check "NVRAM 0x41 write/read (rtcdm's CMOS, after the restriction)" "$LINE" \
	"nvram index=41 wrote=a5 read=a5 wrote=3c read=3c"
expect_guest "$id" '^n=[0-9]+ ' 30 "a report line"
check "NVRAM 0x41 in the running report" "$(field "$LINE" nv41)" 3c
grep -q "^ *PPid:" "/proc/$pid/status" 2>/dev/null || fail "rtcdm (pid $pid) exited while the guest ran"

destroy "$id"
[ -n "$(domid "$NAME")" ] && fail "domain $NAME still exists after xl destroy"
end=$(($(date +%s) + 20))
while [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do
	[ "$(date +%s)" -ge "$end" ] && fail "rtcdm (pid $pid) still runs 20 s after xl destroy"
	sleep 1
done
log "ok: rtcdm (pid $pid) exited after xl destroy"
pass
