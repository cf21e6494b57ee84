# saverestore/: HVM save-format codec, record table, image walker, rtcdm-ctx.
LIB_SRCS += $(filter-out saverestore/rtcdm-ctx.c,$(sort $(wildcard saverestore/*.c)))
ifneq ($(wildcard saverestore/rtcdm-ctx.c),)
PROGRAMS += rtcdm-ctx
rtcdm-ctx_SRCS := saverestore/rtcdm-ctx.c
endif
