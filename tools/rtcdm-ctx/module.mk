# tools/rtcdm-ctx/: the operator tool and the code only it uses (xl-older, and
# wallclock, which reads a live domain and is built only with Xen).
rtcdm-ctx_SRCS := tools/rtcdm-ctx/main.c tools/rtcdm-ctx/xl_older.c
ifeq ($(HAVE_XEN),1)
rtcdm-ctx_SRCS += tools/rtcdm-ctx/wallclock.c
endif
PROGRAMS += rtcdm-ctx
$(B)/tools/rtcdm-ctx/wallclock.o: ALL_CFLAGS += -std=gnu11
$(S)/tools/rtcdm-ctx/wallclock.o: SAN_CFLAGS += -std=gnu11
