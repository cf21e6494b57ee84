# toolstack/: what faces libxl: the control interface (dm_ops), the QMP server
# (qmp/) and the xenstore side (xenstore/).  The store over the real
# libxenstore (store_xenstored.c) is built only with Xen.
TS_ALL := $(sort $(wildcard toolstack/*.c toolstack/qmp/*.c toolstack/xenstore/*.c))
ifeq ($(HAVE_XEN),1)
LIB_SRCS += $(TS_ALL)
else
LIB_SRCS += $(filter-out toolstack/xenstore/store_xenstored.c,$(TS_ALL))
endif
