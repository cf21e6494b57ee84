/* saverestore/companion.c: QEMU's stream, rtcdm's image, the trailer. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saverestore/companion.h"
#include "tests/support/rtc.h"
#include "tests/support/support.h"

void suite_sr_companion(void);

/* A QEMU device-state stream: header, one section, QEMU_VM_EOF. */
static const uint8_t qemu_stream[] = {'Q', 'E', 'V', 'M', 0, 0, 0, 3, 0x04, 0, 0, 0, 0,
                                      3,   'r', 't', 'c', 0, 0, 0, 0, 0, 0, 0, 1, 0x7e,
                                      0,   0,   0,   0,   0x00};

struct ctx {
	char dir[64];
	char path[128];
	int fd;
	uint8_t image[1024];
	size_t image_len;
};

/* A file holding qemu_stream, and an rtcdm image with offset 5400 and
 * NVRAM byte 0x40 = 0xab. */
static int ctx_setup(struct ctx *c)
{
	struct rtc_fake f;

	memset(c, 0, sizeof(*c));
	if (support_tmpdir(c->dir, sizeof(c->dir)) < 0)
		return -1;
	snprintf(c->path, sizeof(c->path), "%s/qemu-save.3", c->dir);
	c->fd = open(c->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (c->fd < 0 || write(c->fd, qemu_stream, sizeof(qemu_stream)) != sizeof(qemu_stream))
		return -1;
	rtc_fake_init(&f, 1700000000000000000ll, RTC_LOST_TICKS_DISCARD);
	rtc_set_offset(f.rtc, 5400);
	rtc_fake_wr(&f, 0x40, 0xab);
	c->image_len = sr_save_rtc(f.rtc, NULL, c->image, sizeof(c->image));
	rtc_fake_fini(&f);
	return c->image_len <= sizeof(c->image) ? 0 : -1;
}

/* ctx_setup() and rtcdm's image appended: the framed file's length, or -1. */
static off_t framed(struct ctx *c)
{
	char err[256];

	if (ctx_setup(c) < 0 || sr_companion_append(c->fd, c->image, c->image_len, err,
	                                             sizeof(err)) < 0)
		return -1;
	return lseek(c->fd, 0, SEEK_END);
}

static void ctx_cleanup(struct ctx *c)
{
	close(c->fd);
	support_rmtree(c->dir);
}

static off_t size_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static void test_roundtrip(void)
{
	uint8_t want_trailer[32] = {'R', 'T', 'C', 'D', 'M', 'C', 'M', 'P', 1, 0, 0, 0,
	                            0,   0,   0,   0,   31,  0,   0,   0,   0, 0, 0, 0};
	uint8_t trailer[32];
	struct sr_companion got;
	struct ctx c;
	char err[256];
	off_t len = framed(&c);

	CU_ASSERT_EQUAL_FATAL(len, (off_t)(sizeof(qemu_stream) + c.image_len + 32));
	CU_ASSERT_EQUAL(pread(c.fd, trailer, 32, len - 32), 32);
	want_trailer[12] = (uint8_t)c.image_len; /* u32 LE, < 256 here */
	want_trailer[13] = (uint8_t)(c.image_len >> 8);
	CU_ASSERT_EQUAL(memcmp(trailer, want_trailer, 32), 0);
	/* the reader does not move the position QEMU reads from */
	CU_ASSERT_EQUAL(lseek(c.fd, 7, SEEK_SET), 7);
	CU_ASSERT_EQUAL(sr_companion_find(c.fd, 0, (uint64_t)len, &got, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(lseek(c.fd, 0, SEEK_CUR), 7);
	CU_ASSERT_EQUAL(got.qemu_len, sizeof(qemu_stream));
	CU_ASSERT_EQUAL(got.image_len, c.image_len);
	CU_ASSERT_EQUAL(got.image.offset.seconds, 5400);
	CU_ASSERT_EQUAL(got.image.nvram[0x40 - 14], 0xab);
	ctx_cleanup(&c);
}

/* Inside an xl image: the context at some offset with more bytes after it. */
static void test_at_offset(void)
{
	struct sr_companion got;
	struct ctx c;
	char err[256];
	uint8_t junk[100];
	uint8_t ctxbuf[2048];
	ssize_t n;

	CU_ASSERT_TRUE_FATAL(framed(&c) > 0);
	n = pread(c.fd, ctxbuf, sizeof(ctxbuf), 0);
	memset(junk, 0x5a, sizeof(junk));
	CU_ASSERT_EQUAL(ftruncate(c.fd, 0), 0);
	CU_ASSERT_EQUAL(pwrite(c.fd, junk, sizeof(junk), 0), 100);
	CU_ASSERT_EQUAL(pwrite(c.fd, ctxbuf, (size_t)n, 100), n);
	CU_ASSERT_EQUAL(pwrite(c.fd, junk, sizeof(junk), 100 + n), 100);
	CU_ASSERT_EQUAL(sr_companion_find(c.fd, 100, (uint64_t)n, &got, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(got.qemu_len, sizeof(qemu_stream));
	ctx_cleanup(&c);
}

static void test_absent(void)
{
	struct sr_companion got;
	struct ctx c;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(ctx_setup(&c), 0);
	got.qemu_len = 99;
	CU_ASSERT_EQUAL(sr_companion_find(c.fd, 0, sizeof(qemu_stream), &got, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(got.qemu_len, 99);
	CU_ASSERT_EQUAL(sr_companion_find(c.fd, 0, 20, &got, err, sizeof(err)), 0);
	ctx_cleanup(&c);
}

/* Patch the framed file (at `at` from its end, or from its start when
 * at >= 0) and expect exactly `msg`. */
static void refused(off_t at, const void *bytes, size_t n, const char *msg)
{
	struct sr_companion got;
	struct ctx c;
	char err[256];
	off_t len = framed(&c);

	CU_ASSERT_TRUE_FATAL(len > 0);
	CU_ASSERT_EQUAL(pwrite(c.fd, bytes, n, at < 0 ? len + at : at), (ssize_t)n);
	got.qemu_len = 99;
	CU_ASSERT_EQUAL(sr_companion_find(c.fd, 0, (uint64_t)len, &got, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, msg);
	CU_ASSERT_EQUAL(got.qemu_len, 99);
	ctx_cleanup(&c);
}

static void test_malformed(void)
{
	char msg[256];

	refused(-24, (uint8_t[]){2}, 1, "rtcdm trailer: version 2 (this rtcdm reads 1)");
	refused(-8, (uint8_t[]){1}, 1, "rtcdm trailer: reserved field is 0x1, expected 0");
	refused(-20, (uint8_t[]){0, 0, 0, 0}, 4, "rtcdm trailer: rtcdm's image of 0 bytes (1..65536)");
	refused(-16, (uint8_t[]){30}, 1,
	        "rtcdm trailer: lengths do not add up: QEMU's stream 30 + rtcdm's image 258 + "
	        "trailer 32 != context 321 bytes");
	refused(0, "QEVN", 4, "rtcdm trailer: the context does not start with QEMU's stream (\"QEVM\")");
	refused(30, (uint8_t[]){0x7e}, 1,
	        "rtcdm trailer: QEMU's stream does not end with QEMU_VM_EOF at byte 30");
	snprintf(msg, sizeof(msg), "rtcdm trailer: rtcdm's image at byte 31: ");
	{
		struct ctx c;
		char err[256];
		struct sr_companion got;

		/* a damaged image: its HEADER magic */
		off_t len = framed(&c);

		CU_ASSERT_EQUAL(pwrite(c.fd, "\xff", 1, 31 + 8), 1);
		CU_ASSERT_EQUAL(sr_companion_find(c.fd, 0, (uint64_t)len, &got, err, sizeof(err)), -1);
		CU_ASSERT_EQUAL(strncmp(err, msg, strlen(msg)), 0);
		ctx_cleanup(&c);
	}
}

static void test_append_refused(void)
{
	struct ctx c;
	char err[256];
	int empty;
	char path[160];

	CU_ASSERT_EQUAL_FATAL(ctx_setup(&c), 0);
	snprintf(path, sizeof(path), "%s/empty", c.dir);
	empty = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CU_ASSERT_EQUAL(sr_companion_append(empty, c.image, c.image_len, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "cannot append rtcdm's image: QEMU wrote no device state");
	CU_ASSERT_EQUAL(size_of(empty), 0);
	CU_ASSERT_EQUAL(sr_companion_append(c.fd, c.image, 0, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "cannot append rtcdm's image of 0 bytes");
	CU_ASSERT_EQUAL(size_of(c.fd), (off_t)sizeof(qemu_stream));
	ctx_cleanup(&c);
	CU_ASSERT_EQUAL(close(empty), 0);
}

void suite_sr_companion(void)
{
	CU_pSuite s = CU_add_suite("save framing in companion mode", NULL, NULL);

	CU_add_test(s, "append, trailer bytes, find with pread", test_roundtrip);
	CU_add_test(s, "a context inside a larger file", test_at_offset);
	CU_add_test(s, "no trailer: a stock qemu-xen context", test_absent);
	CU_add_test(s, "malformed trailers are refused with one line", test_malformed);
	CU_add_test(s, "append refused", test_append_refused);
}
