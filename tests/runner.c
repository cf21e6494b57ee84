/* CUnit runner, built twice: unit-tests (tests/unit/) and integration-tests
 * (tests/integration/).  Every test_NAME.c registers its suites through
 * suite_NAME(); RUNNER_SUITES names the generated list of one folder. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#define SUITE(name) void suite_##name(void);
#include RUNNER_SUITES
#undef SUITE

static const struct {
	const char *name;
	void (*add)(void);
} suites[] = {
#define SUITE(name) {#name, suite_##name},
#include RUNNER_SUITES
#undef SUITE
};

int main(int argc, char **argv)
{
	/* Optional argument: run only suites whose file name contains it. */
	const char *only = argc > 1 ? argv[1] : NULL;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "%s: %s\n", argv[0], CU_get_error_msg());
		return 2;
	}
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (!only || strstr(suites[i].name, only))
			suites[i].add();
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	int rc = (CU_get_error() != CUE_SUCCESS || failed) ? 1 : 0;
	CU_cleanup_registry();
	return rc;
}
