# platform/: where guest I/O, clock and IRQ come from.  platform/*.c is the
# interface every platform shares; platform/sim/ is always built,
# platform/xen/ only with the Xen libraries (chosen by folder).
LIB_SRCS += $(sort $(wildcard platform/*.c platform/sim/*.c))
ifeq ($(HAVE_XEN),1)
LIB_SRCS += $(sort $(wildcard platform/xen/*.c))
endif
# Xen's public headers use anonymous unions: platform/xen/ is GNU C.
$(B)/platform/xen/%.o: ALL_CFLAGS += -std=gnu11
$(S)/platform/xen/%.o: SAN_CFLAGS += -std=gnu11
$(F)/platform/xen/%.o: FUZZ_FLAGS += -std=gnu11
