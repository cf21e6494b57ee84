# dm/: the device-model process (event loop, platforms, CLI).
# dm/main.c is the program; *_xen.c files are built only with Xen.
DM_ALL := $(filter-out dm/main.c,$(sort $(wildcard dm/*.c)))
ifeq ($(HAVE_XEN),1)
LIB_SRCS += $(DM_ALL)
else
LIB_SRCS += $(filter-out %_xen.c,$(DM_ALL))
endif
ifneq ($(wildcard dm/main.c),)
PROGRAMS += rtcdm
rtcdm_SRCS := dm/main.c
endif
# Xen's public headers use anonymous unions: the *_xen.c files are GNU C.
$(B)/dm/%_xen.o: ALL_CFLAGS += -std=gnu11
$(S)/dm/%_xen.o: SAN_CFLAGS += -std=gnu11
$(F)/dm/%_xen.o: FUZZ_FLAGS += -std=gnu11
