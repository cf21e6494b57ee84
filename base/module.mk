# base/: the process plumbing every layer above saverestore may use: the log,
# the event loop and the guest clock with its one-shot timer (libc only).
LIB_SRCS += $(sort $(wildcard base/*.c))
