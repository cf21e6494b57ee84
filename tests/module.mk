# Tests: two CUnit runners, unit-tests (tests/unit/: one module at a time,
# in-process) and integration-tests (tests/integration/: the built programs,
# sockets, files).  Every test_NAME.c in either folder defines
#   void suite_NAME(void);   /* adds one or more CUnit suites */
# and is picked up here by name: no list to edit.  tests/runner.c is the
# runner, compiled once per folder with that folder's list of suites.

# tests/support/: helpers shared by the runners, the demo and the benchmarks.
# The tests also reach rtcdm-ctx's own code (tools/rtcdm-ctx/xl_older.c).
TEST_COMMON := $(sort $(wildcard tests/support/*.c)) tools/rtcdm-ctx/xl_older.c
RUNNERS := unit integration

# Tests of platform/xen include its headers, hence Xen's public ones: GNU C.
$(B)/tests/unit/test_xen_%.o: ALL_CFLAGS += -std=gnu11
$(S)/tests/unit/test_xen_%.o: SAN_CFLAGS += -std=gnu11

# runner_rules KIND: $(B)/KIND-tests and $(S)/KIND-tests (-pthread: the
# buffered-ring test runs Xen's producer in a thread).
define runner_rules
$(1)_TEST_SRCS := $$(sort $$(wildcard tests/$(1)/test_*.c))
$(B)/tests/$(1)-suites.h: $$($(1)_TEST_SRCS) tests/module.mk
	@mkdir -p $$(@D)
	@printf '%s\n' $$(patsubst test_%,'SUITE(%)',$$(basename $$(notdir $$($(1)_TEST_SRCS)))) > $$@.tmp
	@cmp -s $$@.tmp $$@ 2>/dev/null && rm -f $$@.tmp || mv $$@.tmp $$@
$(B)/tests/$(1)-runner.o: tests/runner.c $(B)/tests/$(1)-suites.h config.h
	$$(CC) $$(ALL_CFLAGS) -I$(B)/tests -DRUNNER_SUITES='"$(1)-suites.h"' -MMD -MP -c $$< -o $$@
$(S)/tests/$(1)-runner.o: tests/runner.c $(B)/tests/$(1)-suites.h config.h
	@mkdir -p $$(@D)
	$$(CC) $$(SAN_CFLAGS) -I$(B)/tests -DRUNNER_SUITES='"$(1)-suites.h"' -MMD -MP -c $$< -o $$@
$(B)/$(1)-tests: $(B)/tests/$(1)-runner.o $$(TEST_COMMON:%.c=$(B)/%.o) \
		$$($(1)_TEST_SRCS:%.c=$(B)/%.o) $(B)/librtcdm.a
	$$(CC) $$(ALL_CFLAGS) $$(OPT_LDFLAGS) -pthread -o $$@ $$^ $$(CUNIT_LIBS) $$(LINK_LIBS)
$(S)/$(1)-tests: $(S)/tests/$(1)-runner.o $$(TEST_COMMON:%.c=$(S)/%.o) \
		$$($(1)_TEST_SRCS:%.c=$(S)/%.o) $(S)/librtcdm.a
	$$(CC) $$(SAN_CFLAGS) $$(SAN) -pthread -o $$@ $$^ $$(CUNIT_LIBS) $$(LINK_LIBS)
endef
$(foreach r,$(RUNNERS),$(eval $(call runner_rules,$(r))))
TEST_BINS := $(RUNNERS:%=$(B)/%-tests)
SAN_TEST_BINS := $(RUNNERS:%=$(S)/%-tests)

# ---- fuzz targets (clang + libFuzzer + ASan/UBSan) ------------------------------
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(basename $(notdir $(FUZZ_SRCS)))
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. $(JSON_CFLAGS) -fno-omit-frame-pointer \
              -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(F)/%.o)
FUZZ_SECONDS ?= 30

$(F)/%.o: %.c config.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

$(F)/librtcdm.a: $(FUZZ_LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(F)/bin/%: $(F)/tests/fuzz/%.o $(F)/librtcdm.a
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LINK_LIBS)

fuzz: $(addprefix $(F)/bin/,$(FUZZ_NAMES))
	@echo "fuzz targets in $(F)/bin; run one with: tests/fuzz/run NAME SECONDS"

# Bounded fuzz run of every target on its seed corpus (part of make check).
fuzz-check: $(addprefix $(F)/bin/,$(FUZZ_NAMES))
	@for t in $(FUZZ_NAMES); do \
		BUILD=$(BUILD) tests/fuzz/run $$t $(FUZZ_SECONDS) || exit 1; \
	done

# ---- benchmarks -----------------------------------------------------------------
BENCH_SRCS := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_NAMES := $(basename $(notdir $(BENCH_SRCS)))
$(B)/bench/%: $(B)/tests/bench/%.o $(B)/librtcdm.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LINK_LIBS)

bench: all $(addprefix $(B)/bench/,$(BENCH_NAMES))
	@BUILD=$(BUILD) tests/bench/run

# ---- static analysis ------------------------------------------------------------
# The include direction between the layers (docs/design.md), then cppcheck.
lint:
	sh scripts/check-layers
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -I. -D__GNUC__ \
		rtc base saverestore toolstack platform dm tools tests/support tests/fake-qemu tests/unit tests/integration tests/fuzz tests/bench tests/e2e tests/demo tests/runner.c

# ---- check: lint, fuzz, then check-unit (CUnit summary last) ----------------------
check: all $(TEST_BINS) $(SAN_TEST_BINS) $(addprefix $(S)/,$(PROGRAMS))
	$(MAKE) --no-print-directory lint
ifeq ($(HAVE_FUZZ),1)
	$(MAKE) --no-print-directory fuzz-check
endif
	$(MAKE) --no-print-directory check-unit

# check-unit: the version check, the unit and integration tests with ASan+UBSan,
# then without, after rtcdm-attach's tests: what the package build runs (no cppcheck, no fuzzers, no Xen).
check-unit: all $(TEST_BINS) $(SAN_TEST_BINS) $(addprefix $(S)/,$(PROGRAMS))
	$(MAKE) --no-print-directory check-version
	$(MAKE) --no-print-directory check-attach
	@for r in $(RUNNERS); do \
		echo "== $$r tests, ASan+UBSan build =="; \
		RTCDM_BUILD=$(S) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
			$(S)/$$r-tests || exit 1; \
	done
	@for r in $(RUNNERS); do \
		echo "== $$r tests =="; \
		RTCDM_BUILD=$(B) $(B)/$$r-tests || exit 1; \
	done

# rtcdm-attach's command line and error paths, with stub xl, xenstore-read
# and rtcdm (tests/attach/run; no Xen).
check-attach: $(B)/rtcdm-attach
	@echo "== rtcdm-attach tests =="
	@sh tests/attach/run $(B)/rtcdm-attach >$(B)/attach-test.log 2>&1 || \
		{ cat $(B)/attach-test.log; exit 1; }
	@tail -n 1 $(B)/attach-test.log

# The test bed installs rtcdm into dom0 from the package (make deb).
check-xen: all deb
	BUILD=$(BUILD) E2E_BUILD=0 tests/e2e/run $(SCENARIOS)
# Companion mode's cost next to stock qemu-xen under real Xen: the test bed with
# only its bench-companion scenario (check-xen runs it with the others).
bench-xen: all deb
	BUILD=$(BUILD) E2E_BUILD=0 tests/e2e/run bench-companion

demo: all
	@BUILD=$(BUILD) tests/demo/run

.PHONY: fuzz fuzz-check bench bench-xen lint check check-unit check-attach check-xen demo
-include tests/e2e/module.mk
-include tests/demo/module.mk

# tests/fake-qemu/: a stand-in for qemu-xen 7.2 (QMP, add-fd, a device-state
# stream ending in QEMU_VM_EOF) that companion-mode tests start through
# rtcdm --companion --qemu $(B)/fake-qemu.
$(B)/fake-qemu: $(B)/tests/fake-qemu/fake_qemu.o
	$(CC) $(ALL_CFLAGS) $(OPT_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LINK_LIBS)
$(S)/fake-qemu: $(S)/tests/fake-qemu/fake_qemu.o
	$(CC) $(SAN_CFLAGS) $(SAN) $(LDFLAGS) -o $@ $^ $(LINK_LIBS)
$(B)/integration-tests: | $(B)/fake-qemu
$(S)/integration-tests: | $(S)/fake-qemu
