# Tests: CUnit runner (unit + integration), fuzz targets, benchmarks, checks.
#
# Every tests/unit/test_NAME.c and tests/integration/test_NAME.c defines
#   void suite_NAME(void);   /* adds one or more CUnit suites */
# and is picked up here by name: no list to edit.

TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c tests/integration/test_*.c))
TEST_NAMES := $(basename $(notdir $(TEST_SRCS)))
# tests/support/: helpers shared by the runners, the demo and the benchmarks.
# The tests also reach rtcdm-ctx's own code (tools/rtcdm-ctx/xl_older.c).
TEST_COMMON := tests/unit/main.c $(sort $(wildcard tests/support/*.c)) tools/rtcdm-ctx/xl_older.c

$(B)/tests/suites.h: $(TEST_SRCS) tests/module.mk
	@mkdir -p $(@D)
	@printf '%s\n' $(patsubst test_%,'SUITE(%)',$(TEST_NAMES)) > $@.tmp
	@cmp -s $@.tmp $@ 2>/dev/null && rm -f $@.tmp || mv $@.tmp $@

$(B)/tests/unit/main.o $(S)/tests/unit/main.o: $(B)/tests/suites.h
$(B)/tests/unit/main.o $(S)/tests/unit/main.o: ALL_CFLAGS += -I$(B)/tests
$(S)/tests/unit/main.o: SAN_CFLAGS += -I$(B)/tests

TEST_OBJS := $(TEST_COMMON:%.c=$(B)/%.o) $(TEST_SRCS:%.c=$(B)/%.o)
SAN_TEST_OBJS := $(TEST_COMMON:%.c=$(S)/%.o) $(TEST_SRCS:%.c=$(S)/%.o)

$(B)/unit-tests: $(TEST_OBJS) $(B)/librtcdm.a
	$(CC) $(ALL_CFLAGS) $(OPT_LDFLAGS) -o $@ $^ $(CUNIT_LIBS) $(LINK_LIBS)
$(S)/unit-tests: $(SAN_TEST_OBJS) $(S)/librtcdm.a
	$(CC) $(SAN_CFLAGS) $(SAN) -o $@ $^ $(CUNIT_LIBS) $(LINK_LIBS)

# ---- fuzz targets (clang + libFuzzer + ASan/UBSan) ------------------------------
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(basename $(notdir $(FUZZ_SRCS)))
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. $(JSON_CFLAGS) -fno-omit-frame-pointer \
              -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(F)/%.o)
FUZZ_SECONDS ?= 30

$(F)/%.o: %.c config.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

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
lint:
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -I. -D__GNUC__ \
		rtc saverestore xenstore dm tests/unit tests/integration tests/fuzz tests/bench tests/e2e tests/demo

# ---- check: lint, fuzz, then check-unit (CUnit summary last) ----------------------
check: all $(B)/unit-tests $(S)/unit-tests $(addprefix $(S)/,$(PROGRAMS))
	$(MAKE) --no-print-directory lint
ifeq ($(HAVE_FUZZ),1)
	$(MAKE) --no-print-directory fuzz-check
endif
	$(MAKE) --no-print-directory check-unit

# check-unit: the version check, the unit and integration tests with ASan+UBSan,
# then without: what the package build runs (no cppcheck, no fuzzers, no Xen).
check-unit: all $(B)/unit-tests $(S)/unit-tests $(addprefix $(S)/,$(PROGRAMS))
	$(MAKE) --no-print-directory check-version
	@echo "== unit and integration tests, ASan+UBSan build =="
	RTCDM_BUILD=$(S) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(S)/unit-tests
	@echo "== unit and integration tests =="
	RTCDM_BUILD=$(B) $(B)/unit-tests

# The test bed installs rtcdm into dom0 from the package (make deb).
check-xen: all deb
	BUILD=$(BUILD) E2E_BUILD=0 tests/e2e/run $(SCENARIOS)

demo: all
	@BUILD=$(BUILD) tests/demo/run

.PHONY: fuzz fuzz-check bench lint check check-unit check-xen demo
-include tests/e2e/module.mk
-include tests/demo/module.mk
