/*
 * The RTC core cannot exhaust the host and needs nothing but a little libc.
 *
 *  - Static: the built objects of rtc/ (every .o in $RTCDM_BUILD/rtc) reference no
 *    symbol outside each other, memcpy/memset/memmove/memcmp, malloc/free
 *    and the sanitizer runtime (no system call, no stdio, no clock); the
 *    only call to an allocator is in rtc_new() and the only free() in
 *    rtc_new() and rtc_free(), so no guest access, timer expiry or state
 *    operation can allocate.
 *  - Dynamic (builds without AddressSanitizer, whose allocator glibc's
 *    statistics do not see): 300 000 random port accesses and clock steps
 *    leave glibc's allocated-byte counts exactly as they were.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/support.h"
#include "tests/support/rtc.h"

void suite_rel_core(void);

#define MAX_SYMS 256
#define MAX_OBJS 16

struct symset {
	char name[MAX_SYMS][64];
	size_t n;
};

static bool has(const struct symset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return true;
	return false;
}

static void add(struct symset *s, const char *name)
{
	if (s->n < MAX_SYMS && !has(s, name))
		snprintf(s->name[s->n++], sizeof(s->name[0]), "%s", name);
}

/* Add the symbols `nm` lists for obj (defined ones, or undefined ones) to s.
 * 0 or -1. */
static int nm_syms(const char *obj, bool defined, struct symset *s)
{
	char cmd[600], line[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm %s '%s' 2>&1", defined ? "--defined-only" : "-u", obj);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char *last = strrchr(line, ' ');
		line[strcspn(line, "\n")] = '\0';
		if (last)
			add(s, last + 1);
	}
	return pclose(p) == 0 ? 0 : -1;
}

static size_t rtc_objects(char objs[MAX_OBJS][512])
{
	char dir[400];
	size_t n = 0;
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/rtc", support_build_dir());
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > 2 && len < 100 && !strcmp(e->d_name + len - 2, ".o") && n < MAX_OBJS)
			snprintf(objs[n++], 512, "%.400s/%.100s", dir, e->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

static bool sanitizer_symbol(const char *s)
{
	return !strncmp(s, "__asan_", 7) || !strncmp(s, "__ubsan_", 8) ||
	       !strncmp(s, "__sanitizer_", 12);
}

static void test_symbols(void)
{
	static const char *const libc[] = {"memcpy", "memset", "memmove", "memcmp",
	                                   "malloc", "free",   "__stack_chk_fail"};
	char objs[MAX_OBJS][512];
	size_t n = rtc_objects(objs);
	struct symset *def = calloc(1, sizeof(*def)), *undef = calloc(1, sizeof(*undef));

	CU_ASSERT_FATAL(def && undef);
	CU_ASSERT_TRUE_FATAL(n >= 4); /* rtc.o, alarm.o, calendar.o, periodic.o */
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(nm_syms(objs[i], true, def), 0);
		CU_ASSERT_EQUAL(nm_syms(objs[i], false, undef), 0);
	}
	CU_ASSERT_TRUE(has(def, "rtc_new"));
	CU_ASSERT_TRUE(has(undef, "malloc")); /* the check sees what it looks for */
	for (size_t i = 0; i < undef->n; i++) {
		const char *s = undef->name[i];
		bool ok = has(def, s) || sanitizer_symbol(s);

		for (size_t k = 0; k < sizeof(libc) / sizeof(libc[0]); k++)
			ok |= !strcmp(s, libc[k]);
		if (!ok)
			fprintf(stderr, "\n  the RTC core references '%s'", s);
		CU_ASSERT_TRUE(ok);
	}
	free(def);
	free(undef);
}

/* Name of a function without a compiler suffix (rtc_new.cold -> rtc_new). */
static void base_name(char *fn)
{
	char *dot = strchr(fn, '.');

	if (dot)
		*dot = '\0';
}

static void test_allocation_sites(void)
{
	static const char *const allocators[] = {"malloc", "calloc", "realloc", "reallocarray",
	                                         "aligned_alloc", "posix_memalign", "strdup",
	                                         "strndup"};
	char objs[MAX_OBJS][512];
	size_t n = rtc_objects(objs);
	unsigned allocs = 0, frees = 0;

	CU_ASSERT_TRUE_FATAL(n >= 4);
	for (size_t i = 0; i < n; i++) {
		char cmd[600], line[512], fn[128] = "";
		snprintf(cmd, sizeof(cmd), "objdump -dr --no-show-raw-insn '%s' 2>&1", objs[i]);
		FILE *p = popen(cmd, "r");
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		while (fgets(line, sizeof(line), p)) {
			char a[128], b[128], c[128];
			/* "0000000000000a70 <rtc_new>:" */
			char *lt = strchr(line, '<');
			if (lt && strstr(line, ">:\n") && line[0] != ' ' && line[0] != '\t') {
				snprintf(fn, sizeof(fn), "%.*s", (int)(strcspn(lt + 1, ">")), lt + 1);
				base_name(fn);
				continue;
			}
			/* "\t\t\ta7f: R_X86_64_PLT32\tmalloc-0x4" */
			if (sscanf(line, "%127s %127s %127s", a, b, c) != 3 || strncmp(b, "R_", 2) != 0)
				continue;
			c[strcspn(c, "+-")] = '\0';
			for (size_t k = 0; k < sizeof(allocators) / sizeof(allocators[0]); k++) {
				if (strcmp(c, allocators[k]) != 0)
					continue;
				allocs++;
				if (strcmp(fn, "rtc_new") != 0) {
					fprintf(stderr, "\n  %s calls %s", fn, c);
					CU_FAIL("an allocation outside rtc_new");
				}
			}
			if (!strcmp(c, "free")) {
				frees++;
				if (strcmp(fn, "rtc_new") != 0 && strcmp(fn, "rtc_free") != 0) {
					fprintf(stderr, "\n  %s calls free", fn);
					CU_FAIL("free() outside rtc_new/rtc_free");
				}
			}
		}
		CU_ASSERT_EQUAL(pclose(p), 0);
	}
	/* The objects were read: rtc_new allocates, rtc_free frees. */
	CU_ASSERT_TRUE(allocs >= 1);
	CU_ASSERT_TRUE(frees >= 1);
}

#if !defined(__SANITIZE_ADDRESS__)
static void test_no_net_allocation(void)
{
	struct rtc_fake f;
	uint64_t x = 0x2545f4914f6cdd1dull;

	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_SLEW);
	/* Periodic interrupts at the highest rate, alarm and update interrupts. */
	rtc_fake_wr(&f, RTC_REG_A, 0x23);
	rtc_fake_wr(&f, RTC_REG_B, 0x72);
	struct mallinfo2 before = mallinfo2();
	for (unsigned i = 0; i < 300000; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		uint64_t r = x * 0x2545f4914f6cdd1dull;
		switch (r & 3) {
		case 0:
			rtc_ioport_write(f.rtc, 0x70, (uint8_t)(r >> 8));
			break;
		case 1:
			rtc_ioport_write(f.rtc, 0x71, (uint8_t)(r >> 16));
			break;
		case 2:
			(void)rtc_ioport_read(f.rtc, (uint16_t)(0x70 + ((r >> 8) & 1)));
			break;
		default:
			rtc_fake_advance(&f, (r >> 8) % 5000000);
			break;
		}
	}
	struct mallinfo2 after = mallinfo2();
	CU_ASSERT_EQUAL(after.uordblks, before.uordblks);
	CU_ASSERT_EQUAL(after.hblkhd, before.hblkhd);
	CU_ASSERT_EQUAL(after.hblks, before.hblks);
	rtc_fake_fini(&f);
}
#endif

void suite_rel_core(void)
{
	CU_pSuite s = CU_add_suite("rel_core (RTC core: libc only, no allocation after rtc_new)",
	                           NULL, NULL);
	CU_add_test(s, "rtc objects reference only each other, a libc allow-list, sanitizers",
	            test_symbols);
	CU_add_test(s, "allocators are called from rtc_new only, free from rtc_new/rtc_free",
	            test_allocation_sites);
#if !defined(__SANITIZE_ADDRESS__)
	CU_add_test(s, "300 000 random accesses and clock steps: no net allocation",
	            test_no_net_allocation);
#endif
}
