/*
 * rtc-record DOMID — print the RTC save record of a live HVM domain.
 *
 * Reads Xen's per-domain RTC record (save type 11, instance 0) with
 * XEN_DOMCTL_gethvmcontext_partial and prints one line:
 *   rtc_offset=SECONDS index=0xII cmos=00 11 22 ... (14 bytes)
 * The test bed compares rtc_offset before and after save/restore; it is
 * the value Xen carries in the record and reloads on restore.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xen/hvm/save.h>

static int parse_domid(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v >= 0x7ff0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t domid;
	struct hvm_hw_rtc rec;

	if (argc != 2 || parse_domid(argv[1], &domid)) {
		fprintf(stderr, "usage: rtc-record DOMID (a guest domain id, 1..32751)\n");
		return 2;
	}
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		fprintf(stderr, "rtc-record: cannot open the Xen control interface: %s\n",
			strerror(errno));
		return 1;
	}
	memset(&rec, 0, sizeof(rec));
	int rc = xc_domain_hvm_getcontext_partial(xch, domid, HVM_SAVE_CODE(RTC), 0,
						  &rec, sizeof(rec));
	int err = errno;
	xc_interface_close(xch);
	if (rc) {
		fprintf(stderr, "rtc-record: no RTC record for domain %" PRIu32 ": %s\n", domid,
			strerror(err));
		return 1;
	}
	printf("rtc_offset=%" PRId64 " index=0x%02x cmos=", (int64_t)rec.rtc_offset,
	       rec.cmos_index);
	for (size_t i = 0; i < sizeof(rec.cmos_data); i++)
		printf("%s%02x", i ? " " : "", rec.cmos_data[i]);
	printf("\n");
	return 0;
}
