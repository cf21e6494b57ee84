# tests/e2e/: the real-Xen test bed (make check-xen).  Builds the test guests
# and the RTC-record reader into $(B)/e2e/; tests/e2e/run does the rest.
#
# Guests: freestanding 32-bit ELF, one per variant NAME = ENTRY-ACTION,
#   ENTRY  hvm (firmware_override image, no notes) | pvh (PVH entry note)
#   ACTION probe (reads, NVRAM and flag checks)   | setyear (also moves
#          the RTC one year forward, once) | bench (times port accesses
#          with the TSC instead of the checks; bench-companion) |
#          setyear-poll (setyear, then NVRAM reads back to back) |
#          setyear-phase (setyear, then the phase of the RTC's second edge
#          against the PV clock after each report; HVM)
E2E_GUEST_VARIANTS := hvm-probe hvm-setyear pvh-probe pvh-setyear hvm-bench hvm-setyear-poll hvm-setyear-phase
E2E_GUEST_DIR := $(B)/e2e/guest
E2E_GUESTS := $(E2E_GUEST_VARIANTS:%=$(E2E_GUEST_DIR)/guest-%.elf)
GUEST_CC ?= $(CC)
GUEST_LD ?= ld
GUEST_CFLAGS := -std=c11 -m32 -march=i686 -ffreestanding -nostdlib -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin \
	-mno-sse -mno-mmx -mno-80387 -Os -g $(WARN)

$(E2E_GUEST_DIR)/start.o: tests/e2e/guest/start.S
	@mkdir -p $(@D)
	$(GUEST_CC) -m32 -fno-pic -c $< -o $@
$(E2E_GUEST_DIR)/pvh-note.o: tests/e2e/guest/pvh-note.S
	@mkdir -p $(@D)
	$(GUEST_CC) -m32 -fno-pic -c $< -o $@

# guest-ENTRY-ACTION.o: the C part with the variant's defines.
$(E2E_GUEST_DIR)/guest-%.o: tests/e2e/guest/guest.c tests/e2e/module.mk
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -DGUEST_VARIANT='"$*"' \
		-DGUEST_PVH=$(if $(filter pvh-%,$*),1,0) \
		-DGUEST_SETYEAR=$(if $(filter %-setyear %-setyear-poll %-setyear-phase,$*),1,0) \
		-DGUEST_POLL=$(if $(filter %-poll,$*),1,0) \
		-DGUEST_PHASE=$(if $(filter %-phase,$*),1,0) \
		-DGUEST_BENCH=$(if $(filter %-bench,$*),1,0) -c $< -o $@

$(E2E_GUEST_DIR)/guest-hvm-%.elf: $(E2E_GUEST_DIR)/start.o $(E2E_GUEST_DIR)/guest-hvm-%.o \
		tests/e2e/guest/hvm.ld
	$(GUEST_LD) -m elf_i386 -nostdlib --no-warn-rwx-segments -T tests/e2e/guest/hvm.ld -o $@ \
		$(E2E_GUEST_DIR)/start.o $(E2E_GUEST_DIR)/guest-hvm-$*.o
$(E2E_GUEST_DIR)/guest-pvh-%.elf: $(E2E_GUEST_DIR)/start.o $(E2E_GUEST_DIR)/pvh-note.o \
		$(E2E_GUEST_DIR)/guest-pvh-%.o tests/e2e/guest/pvh.ld
	$(GUEST_LD) -m elf_i386 -nostdlib --no-warn-rwx-segments -T tests/e2e/guest/pvh.ld -o $@ \
		$(E2E_GUEST_DIR)/start.o $(E2E_GUEST_DIR)/pvh-note.o $(E2E_GUEST_DIR)/guest-pvh-$*.o

.PRECIOUS: $(E2E_GUEST_DIR)/guest-%.o

# Host tools for dom0 (need libxenctrl):
#   rtc-record DOMID  a live domain's RTC save record, rtc_offset included
#                     (xen-hvmctx 4.17 prints the CMOS bytes only)
#   conring           the whole Xen console ring (xl dmesg shows 16 KiB)
#   memadded PID...   the memory a group of processes adds to dom0 (the pages
#                     only they map)
E2E_TOOL_NAMES := rtc-record conring memadded
E2E_TOOLS :=
ifeq ($(HAVE_XEN),1)
E2E_TOOLS := $(E2E_TOOL_NAMES:%=$(B)/e2e/%)
$(B)/e2e/%: $(B)/tests/e2e/tools/%.o
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OPT_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LINK_LIBS)
# The Xen public headers use anonymous unions: GNU C, not ISO C11.
$(E2E_TOOL_NAMES:%=$(B)/tests/e2e/tools/%.o): ALL_CFLAGS += -std=gnu11
endif

# The Linux test guest's helper (tests/e2e/linux/rtcprobe.c): static, so the
# guest's initramfs needs no libraries (tests/e2e/mklinuxguest).
E2E_LINUX_PROBE := $(B)/e2e/linux/rtcprobe
$(E2E_LINUX_PROBE): tests/e2e/linux/rtcprobe.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -static -o $@ $<

# The kernel's own RTC selftest (tools/testing/selftests/rtc/rtctest.c of the
# guest kernel's linux-source package, which tests/e2e/run fetches into its
# cache and names with E2E_SELFTEST_DIR): built static for the Linux test
# guest as the kernel's Makefile builds it, with the kernel's warnings, not
# ours.  Without E2E_SELFTEST_DIR nothing is built (make e2e alone).
E2E_SELFTEST_DIR ?=
E2E_LINUX_RTCTEST :=
ifneq ($(E2E_SELFTEST_DIR),)
E2E_LINUX_RTCTEST := $(B)/e2e/linux/rtctest
$(E2E_LINUX_RTCTEST): $(E2E_SELFTEST_DIR)/rtc/rtctest.c $(E2E_SELFTEST_DIR)/kselftest_harness.h \
		$(E2E_SELFTEST_DIR)/kselftest.h
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -fmacro-prefix-map=$(E2E_SELFTEST_DIR)/rtc/= -static -o $@ $< -lrt -lpthread -lm
endif

e2e: $(E2E_GUESTS) $(E2E_TOOLS) $(E2E_LINUX_PROBE) $(E2E_LINUX_RTCTEST)
check-xen bench-xen: e2e

.PHONY: e2e
