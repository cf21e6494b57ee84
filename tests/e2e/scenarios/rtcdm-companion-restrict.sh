#!/bin/sh
# e2e-timeout: 480
#
# Companion mode under libxl's dm_restrict=1: libxl pre-opens the QMP
# socket (-chardev ...,fd=N -S) and adds -xen-domid-restrict, -chroot
# /var/run/xen/qemu-root-<domid> and -runas xen-qemuuser-shared; QEMU gets
# them unchanged, and rtcdm leaves root the same way once its ioreq server
# exists.  Checked: xl create succeeds through the relayed, pre-opened
# monitor; rtcdm and its QEMU both run as xen-qemuuser-shared, without
# supplementary groups, in the chroot; rtcdm's log says its Xen handles
# were restricted; the guest's NVRAM and clock change are served by rtcdm
# after that; xl save and xl restore work under the restriction (rtcdm
# relays from inside the chroot, brings QEMU's CMOS up to date, appends its
# image), the guest keeps its clock and NVRAM; xl destroy ends both.  QEMU's
# CMOS is read from its device state, which QEMU (which can open no path in
# its chroot) writes into a descriptor it inherits from rtcdm.
. /e2e/lib.sh

NAME=e2e-companion-restrict
IMG=$E2E_SAVE/companion-restrict.img
DMLOG=/var/log/xen/qemu-dm-$NAME.log
QUSER=xen-qemuuser-shared
QUID=980
QGID=980
require rtcdm rtcdm-ctx

grep -q "^$QUSER:" /etc/passwd ||
	echo "$QUSER:x:$QUID:$QGID:Xen device model:/nonexistent:/bin/false" >>/etc/passwd
grep -q "^$QUSER:" /etc/group || echo "$QUSER:x:$QGID:" >>/etc/group
QUID=$(awk -F: -v u="$QUSER" '$1 == u { print $3 }' /etc/passwd)
QGID=$(awk -F: -v u="$QUSER" '$1 == u { print $4 }' /etc/passwd)

hvm_cfg "$E2E_RUN/hvm.cfg" "$NAME" setyear "device_model_override = \"$RTCDM\"" \
	'device_model_args_hvm = [ "--companion" ]' 'dm_restrict = 1'

# restricted PID WHAT [GROUPS] — PID runs as $QUSER, with the supplementary groups GROUPS
# (default: none), in the chroot.
restricted() {
	check "$2 uid (real effective saved fs)" \
		"$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$1/status")" "$QUID $QUID $QUID $QUID"
	check "$2 gid (real effective saved fs)" \
		"$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$1/status")" "$QGID $QGID $QGID $QGID"
	check "$2 supplementary groups" "$(awk '/^Groups:/ { print $2 }' "/proc/$1/status")" "${3:-}"
	check "$2 root directory" "$(readlink "/proc/$1/root")" "$(readlink -f "/var/run/xen/qemu-root-$id")"
}

create "$E2E_RUN/hvm.cfg" "$NAME"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
args=$(tr '\0' ' ' <"/proc/$DM_PID/cmdline")
for a in "-xen-domid-restrict" "-chroot /var/run/xen/qemu-root-$id" "-runas $QUSER" "-S"; do
	case " $args" in *" $a "*) ;; *) fail "libxl did not pass '$a': $args" ;; esac
done
restricted "$DM_PID" rtcdm
# QEMU's -runas keeps the user's groups (initgroups): its own choice, as under stock qemu-xen
restricted "$QEMU_PID" "rtcdm's QEMU" "$QGID"
companion_rtc_pid
restricted "$RTC_PID" "rtcdm's serving part"
grep -q "Xen handles restricted to domain $id\$" "$DMLOG" ||
	fail "rtcdm's log does not say its Xen handles were restricted to d$id"
grep -q "running in chroot /var/run/xen/qemu-root-$id as $QUSER\$" "$DMLOG" ||
	fail "rtcdm's log does not say it runs in the chroot as $QUSER"
log "ok: rtcdm's log: $(grep -E 'restricted|running in chroot' "$DMLOG" | tr '\n' '|')"
# QEMU's CMOS comes from its device state with QEMU restricted too: QEMU
# (chrooted in a directory of mode 0000, not root) saves it into the
# descriptor it inherits from rtcdm (-add-fd), as it cannot open a path there
log "rtcdm's log on QEMU's CMOS: $(grep -E "QEMU's CMOS (read|not)|NVRAM from QEMU's CMOS" "$DMLOG" | cut -c 25- | tr '\n' '|')"
grep -q "QEMU's CMOS read from its device state" "$DMLOG" ||
	fail "restricted QEMU's CMOS not read from its device state: $(grep -m 1 "QEMU's CMOS not" "$DMLOG")"

year_step "$id" 150
want=$STEP
expect_guest "$id" '^ready' 60 "ready line"
expect_guest "$id" '^nvram ' 5 "nvram line"
check "NVRAM 0x41 write/read (rtcdm's CMOS, after the restriction)" "$LINE" \
	"nvram index=41 wrote=a5 read=a5 wrote=3c read=3c"
grep -q "hypervisor reports a guest clock change of +$want s" "$DMLOG" ||
	fail "rtcdm did not follow Xen's TIMEOFFSET of +$want s after the restriction"
guest_offset "$id" 0 2
check_near "guest clock minus dom0 clock" "$SEEN_OFFSET" "$want" 10
check "NVRAM marker and scratch" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"
n_before=$SEEN_N

xl_save "$id" "$IMG"
grep -q "QEMU's CMOS brought up to date before its save" "$DMLOG" ||
	fail "the restricted rtcdm did not update QEMU's CMOS: $(tail -n 4 "$DMLOG" | tr '\n' ' ')"
grep -q "saved: QEMU's device state, then rtcdm's image" "$DMLOG" ||
	fail "the restricted rtcdm did not append its image: $(tail -n 3 "$DMLOG" | tr '\n' ' ')"
run 60 rtcdm-ctx dump "$IMG" || fail "rtcdm-ctx dump exited $?: $(tail -n 1 "$OUT")"
grep -Eq "^  seconds +$want " "$OUT" || fail "rtcdm's OFFSET in the image is not $want s"

xl_restore "$IMG" "$NAME"
id=$DOMID
companion_pids "$id"
served_by_rtcdm
restricted "$DM_PID" "rtcdm after restore"
grep -q "incoming: QEMU's stream ([0-9]* bytes), then rtcdm's image" "$DMLOG" ||
	fail "rtcdm did not find its part of the incoming context"
guest_offset "$id" "$n_before" 2
check_near "guest clock minus dom0 clock after restore" "$SEEN_OFFSET" "$want" 10
expect_guest "$id" "^n=" 5 "a report line"
check "NVRAM after restore (marker, scratch)" "$(field "$LINE" nv40) $(field "$LINE" nv41)" "5a 3c"

destroy "$id"
companion_gone
log "ok: xl destroy ended QEMU and rtcdm"
pass
