# saverestore/: HVM save-format codec, record table, image walker, rtcdm-ctx.
SR_ALL := $(filter-out saverestore/rtcdm-ctx.c,$(sort $(wildcard saverestore/*.c)))
# *_xen.c files talk to a live Xen (rtcdm-ctx wallclock): built only with Xen.
ifeq ($(HAVE_XEN),1)
LIB_SRCS += $(SR_ALL)
else
LIB_SRCS += $(filter-out %_xen.c,$(SR_ALL))
endif
$(B)/saverestore/%_xen.o: ALL_CFLAGS += -std=gnu11
$(S)/saverestore/%_xen.o: SAN_CFLAGS += -std=gnu11
$(F)/saverestore/%_xen.o: FUZZ_FLAGS += -std=gnu11
ifneq ($(wildcard saverestore/rtcdm-ctx.c),)
PROGRAMS += rtcdm-ctx
rtcdm-ctx_SRCS := saverestore/rtcdm-ctx.c
endif
