# toolstack/: what faces libxl: the control interface (dm_ops), the QMP server
# (qmp/) and the xenstore side (xenstore/, with its own client of xenstored's
# wire protocol: no Xen library needed).
LIB_SRCS += $(sort $(wildcard toolstack/*.c toolstack/qmp/*.c toolstack/xenstore/*.c))
