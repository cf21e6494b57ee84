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
