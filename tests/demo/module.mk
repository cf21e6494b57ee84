# tests/demo/: `make demo` — tests/demo/run plays a domain's whole clock
# lifecycle against rtcdm on the simulated platform with $(B)/demo/rtcdm-demo.
# The program reuses the test helpers that do not need CUnit (processes, the
# qtest client, the QMP client, the shared_info reader).  tests/integration/test_demo.c runs
# it too, so the integration-test binaries want it built.
DEMO_OBJS := tests/demo/demo.o tests/support/proc.o tests/support/qtest.o \
	tests/support/qmp.o tests/support/shinfo.o

$(B)/demo/rtcdm-demo: $(DEMO_OBJS:%=$(B)/%) $(B)/librtcdm.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OPT_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LINK_LIBS)
$(S)/demo/rtcdm-demo: $(DEMO_OBJS:%=$(S)/%) $(S)/librtcdm.a
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(SAN) $(LDFLAGS) -o $@ $^ $(LINK_LIBS)

demo: $(B)/demo/rtcdm-demo
$(B)/integration-tests: | $(B)/demo/rtcdm-demo
$(S)/integration-tests: | $(S)/demo/rtcdm-demo
