/* dm/qopts.c: QEMU option strings split as QEMU's QemuOpts splits them.
 * Cases from QEMU's documentation (docs/system/invocation.rst,
 * qemu-options.hx): "-fw_cfg name=z,string=a,,b" gives string "a,b"; a
 * file name "my,file" is written "file=my,,file"; "-chardev
 * socket,id=x,path=/a,,b,server=on" gives the path "/a,b". */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "dm/qopts.h"

void suite_dm_qopts(void);

/* The split as text: "key=val|flag|..." (a flag has no '='). */
static const char *show(const char *s, const char *implied, char *out, size_t len)
{
	struct qopts q;
	size_t n = 0;

	out[0] = '\0';
	if (qopts_split(&q, s, implied) < 0)
		return "<oom>";
	for (size_t i = 0; i < q.n; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s%s%s", i ? "|" : "", q.item[i].key,
		                      q.item[i].val ? "=" : "", q.item[i].val ? q.item[i].val : "");
	qopts_free(&q);
	return out;
}

static void test_documented_examples(void)
{
	static const struct {
		const char *in, *implied, *want;
	} cases[] = {
		{"name=z,string=a,,b", NULL, "name=z|string=a,b"},
		{"file=my,,file", NULL, "file=my,file"},
		{"socket,id=x,path=/a,,b,server=on", "backend",
		 "backend=socket|id=x|path=/a,b|server=on"},
		/* what libxl writes */
		{"socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-12,server=on,wait=off", "backend",
		 "backend=socket|id=libxl-cmd|path=/var/run/xen/qmp-libxl-12|server=on|wait=off"},
		{"chardev=libxl-cmd,mode=control", "chardev", "chardev=libxl-cmd|mode=control"},
		{"xenfv,suppress-vmdesc=on", "type", "type=xenfv|suppress-vmdesc=on"},
		{"win10,debug-threads=on", "guest", "guest=win10|debug-threads=on"},
		/* an implied value may hold ",," too */
		{"my,,vm,process=x", "guest", "guest=my,vm|process=x"},
		/* "=" with no implied key: a key; a bare item: a flag */
		{"x,nowait", "backend", "backend=x|nowait"},
		{"server,nowait", NULL, "server|nowait"},
		/* three commas: a literal one, then the separator */
		{"path=/a,,,wait=off", NULL, "path=/a,|wait=off"},
		{"path=/a,,,,b", NULL, "path=/a,,b"},
		/* a value may hold '=' */
		{"k=a=b,c=d", NULL, "k=a=b|c=d"},
		/* empty values and trailing commas */
		{"a=,b", NULL, "a=|b"},
		{"a=1,", NULL, "a=1"},
		{"", "backend", ""},
	};
	char out[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = show(cases[i].in, cases[i].implied, out, sizeof(out));

		CU_ASSERT_STRING_EQUAL(got, cases[i].want);
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "\n  '%s': got '%s', want '%s'", cases[i].in, got, cases[i].want);
	}
}

static void test_get_last_wins(void)
{
	struct qopts q;

	CU_ASSERT_EQUAL_FATAL(qopts_split(&q, "socket,id=a,id=b,wait", "backend"), 0);
	CU_ASSERT_EQUAL(q.n, 4);
	CU_ASSERT_STRING_EQUAL(qopts_get(&q, "id")->val, "b");
	CU_ASSERT_PTR_NULL(qopts_get(&q, "wait")->val);
	CU_ASSERT_PTR_NULL(qopts_get(&q, "path"));
	qopts_free(&q);
}

void suite_dm_qopts(void)
{
	CU_pSuite s = CU_add_suite("dm_qopts (QEMU option strings)", NULL, NULL);

	CU_add_test(s, "QEMU's documented ',,' examples and libxl's strings",
	            test_documented_examples);
	CU_add_test(s, "the last of a repeated key wins", test_get_last_wins);
}
