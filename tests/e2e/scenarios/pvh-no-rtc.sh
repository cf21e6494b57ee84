#!/bin/sh
# e2e-timeout: 420
#
# Baseline: a PVH domain has no RTC.  Xen registers no 0x70/0x71 handler
# for PVH and no device model claims the ports, so every CMOS read the
# guest makes returns 0xff and writes vanish; Xen keeps no RTC record.
. /e2e/lib.sh

NAME=e2e-pvh
pvh_cfg "$E2E_RUN/pvh.cfg" "$NAME" probe

create "$E2E_RUN/pvh.cfg" "$NAME"
id=$DOMID

expect_guest "$id" '^ready' 120 "ready line"
expect_guest "$id" '^boot ' 5 "boot line"
check "entry path" "$(field "$LINE" entry)" pvh

# All 128 CMOS indexes, 16 per line: every byte 0xff.
ff16="ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff"
rows=0
for row in 00 10 20 30 40 50 60 70; do
	expect_guest "$id" "^cmos $row:" 5 "CMOS dump row $row"
	check "CMOS indexes 0x$row..+15" "${LINE#cmos $row: }" "$ff16"
	rows=$((rows + 1))
done
check "CMOS dump rows" "$rows" 8
expect_guest "$id" '^regs ' 5 "regs line"
check "A B D and CMOS detection" \
	"$(field "$LINE" a) $(field "$LINE" b) $(field "$LINE" d) $(field "$LINE" cmos)" "7f ff ff 0"
expect_guest "$id" '^nvram ' 5 "nvram line"
check "NVRAM writes vanish" "$LINE" "nvram index=41 wrote=a5 read=ff wrote=3c read=ff"

# The guest keeps running and keeps reading 0xff.
expect_guest "$id" '^n=3 ' 60 "third report line"
check "report line 3 (time a b c d nv40 nv41)" \
	"$(for k in time a b c d nv40 nv41; do printf '%s ' "$(field "$LINE" $k)"; done)" \
	"invalid 7f ff ff ff ff ff "

# Xen holds no RTC state for a PVH domain.
run 30 rtc-record "$id" && fail "Xen returned an RTC record for a PVH domain: $(cat "$OUT")"
grep -q "no RTC record for domain $id" "$OUT" || fail "rtc-record: unexpected error: $(cat "$OUT")"
log "ok: no RTC record for d$id"

destroy "$id"
pass
