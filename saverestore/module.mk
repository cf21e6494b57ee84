# saverestore/: the save format: HVM save-format codec, record table, strict
# loader, staging and apply, atomic files, the xl save image walker, dump.
LIB_SRCS += $(sort $(wildcard saverestore/*.c))
