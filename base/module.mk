# base/: the process plumbing every layer above saverestore may use: the log,
# the event loop, the guest clock with its one-shot timer and rate limits
# (libc only).
LIB_SRCS += $(sort $(wildcard base/*.c))
