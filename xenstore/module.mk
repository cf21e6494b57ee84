# xenstore/: the toolstack protocol (xenstore nodes, QMP).
# *_xs.c files talk to the real libxenstore and are built only with Xen.
XS_ALL := $(sort $(wildcard xenstore/*.c))
ifeq ($(HAVE_XEN),1)
LIB_SRCS += $(XS_ALL)
else
LIB_SRCS += $(filter-out %_xs.c,$(XS_ALL))
endif
