# rtc/: the pure MC146818 model (no I/O, libc only).
LIB_SRCS += $(sort $(wildcard rtc/*.c))
