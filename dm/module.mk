# dm/: the rtcdm process: command line, control and run state, offset
# authority, battery-backed CMOS, privileges, device wiring; dm/main.c is the
# program.
LIB_SRCS += $(filter-out dm/main.c,$(sort $(wildcard dm/*.c)))
PROGRAMS += rtcdm
rtcdm_SRCS := dm/main.c
