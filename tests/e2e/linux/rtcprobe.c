/*
 * rtcprobe — the Linux test guest's helper for what busybox has no applet for
 * (built static on the host, run inside the guest by tests/e2e/linux/init).
 *
 *   rtcprobe cmd DEV              the first line of DEV's first sector, read with
 *                                 O_DIRECT (dom0 writes commands into the disk image)
 *   rtcprobe nvram-read IDX N     CMOS bytes IDX..IDX+N-1 (IDX >= 14) through the
 *                                 nvram driver (/dev/nvram, offset 0 = CMOS byte 14):
 *                                 "nvram:5a,c3,.."; if the driver refuses (EIO:
 *                                 the PC checksum at 0x2e-0x2f does not match)
 *                                 the same bytes through /dev/port:
 *                                 "port-cks-bad:5a,c3,..".
 *   rtcprobe nvram-write IDX B... write the bytes through /dev/nvram (which keeps
 *                                 the checksum); a checksum the driver refuses is
 *                                 set first with NVRAM_SETCKS ("setcks=1")
 *   rtcprobe uie N                /dev/rtc0 update interrupts (RTC_UIE_ON): N
 *                                 blocking reads, the RTC after each:
 *                                 "uie n=N first=EPOCH last=EPOCH flags=HEX count=N"
 *   rtcprobe pie RATE N           /dev/rtc0 periodic interrupts (RTC_IRQP_SET RATE,
 *                                 RTC_PIE_ON): N blocking reads timed with
 *                                 CLOCK_MONOTONIC from RTC_PIE_ON to the last read:
 *                                 "rate=RATE n=N ticks=T us=ELAPSED mhz=T*1e9/ELAPSED
 *                                 flags=HEX" (ticks: the interrupts the reads
 *                                 reported, data >> 8 summed; mhz: ticks per
 *                                 second in thousandths)
 *   rtcprobe irq                  the number of IRQ 8 (rtc0) interrupts so far
 *
 * Exit status 0, or 1 with one line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nvram.h>
#include <linux/rtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define NVRAM_FIRST 14
#define CMOS_SIZE 128

static int die(const char *what)
{
	fprintf(stderr, "rtcprobe: %s: %s\n", what, strerror(errno));
	return 1;
}

static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "rtcprobe: bad number '%s' (%ld..%ld)\n", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int cmd_line(const char *dev)
{
	void *buf;
	int fd = open(dev, O_RDONLY | O_DIRECT);
	ssize_t n;
	char *nl;

	if (fd < 0)
		return die(dev);
	if (posix_memalign(&buf, 4096, 4096) != 0) {
		close(fd);
		return die("posix_memalign");
	}
	n = pread(fd, buf, 4096, 0);
	close(fd);
	if (n < 512) {
		free(buf);
		return die("read of the first sector");
	}
	((char *)buf)[n - 1] = '\0';
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
	printf("%s\n", (char *)buf);
	free(buf);
	return 0;
}

/* port_read IDX — one CMOS byte through /dev/port (index to 0x70, data from 0x71). */
static int port_read(int fd, unsigned idx, unsigned char *v)
{
	unsigned char i = (unsigned char)idx;

	if (pwrite(fd, &i, 1, 0x70) != 1 || pread(fd, v, 1, 0x71) != 1)
		return -1;
	return 0;
}

static int nvram_read(long idx, long count)
{
	unsigned char b[CMOS_SIZE];
	const char *src = "nvram";
	int fd = open("/dev/nvram", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return die("/dev/nvram");
	n = pread(fd, b, (size_t)count, idx - NVRAM_FIRST);
	close(fd);
	if (n < 0 && errno == EIO) {
		int pfd = open("/dev/port", O_RDWR);

		if (pfd < 0)
			return die("/dev/port");
		for (long i = 0; i < count; i++) {
			if (port_read(pfd, (unsigned)(idx + i), &b[i]) != 0) {
				close(pfd);
				return die("/dev/port");
			}
		}
		close(pfd);
		src = "port-cks-bad";
		n = count;
	}
	if (n != count)
		return die("read of /dev/nvram");
	printf("%s:", src);
	for (long i = 0; i < count; i++)
		printf("%s%02x", i ? "," : "", b[i]);
	printf("\n");
	return 0;
}

static int nvram_write(long idx, int argc, char **argv)
{
	unsigned char b[CMOS_SIZE];
	unsigned char probe;
	int setcks = 0;
	int fd;

	if (idx + argc > CMOS_SIZE) {
		fprintf(stderr, "rtcprobe: bytes beyond CMOS index 127\n");
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		long v;

		if (parse_num(argv[i], 0, 255, &v) != 0)
			return 1;
		b[i] = (unsigned char)v;
	}
	fd = open("/dev/nvram", O_RDWR);
	if (fd < 0)
		return die("/dev/nvram");
	if (pread(fd, &probe, 1, 0) < 0) {
		if (errno != EIO || ioctl(fd, NVRAM_SETCKS) != 0) {
			close(fd);
			return die("checksum of /dev/nvram");
		}
		setcks = 1;
	}
	if (pwrite(fd, b, (size_t)argc, idx - NVRAM_FIRST) != argc) {
		close(fd);
		return die("write of /dev/nvram");
	}
	close(fd);
	printf("setcks=%d\n", setcks);
	return 0;
}

static long long rtc_epoch(int fd)
{
	struct rtc_time tm;
	struct tm t;

	if (ioctl(fd, RTC_RD_TIME, &tm) != 0)
		return -1;
	memset(&t, 0, sizeof t);
	t.tm_sec = tm.tm_sec;
	t.tm_min = tm.tm_min;
	t.tm_hour = tm.tm_hour;
	t.tm_mday = tm.tm_mday;
	t.tm_mon = tm.tm_mon;
	t.tm_year = tm.tm_year;
	return (long long)timegm(&t);
}

static int uie(long count)
{
	int fd = open("/dev/rtc0", O_RDONLY);
	long long first = -1, last = -1;
	unsigned long data = 0, flags = 0;

	if (fd < 0)
		return die("/dev/rtc0");
	if (ioctl(fd, RTC_UIE_ON, 0) != 0) {
		close(fd);
		return die("RTC_UIE_ON");
	}
	for (long i = 0; i < count; i++) {
		if (read(fd, &data, sizeof data) != (ssize_t)sizeof data) {
			ioctl(fd, RTC_UIE_OFF, 0);
			close(fd);
			return die("read of /dev/rtc0");
		}
		flags |= data & 0xff;
		last = rtc_epoch(fd);
		if (first < 0)
			first = last;
	}
	ioctl(fd, RTC_UIE_OFF, 0);
	close(fd);
	printf("n=%ld first=%lld last=%lld flags=%02lx count=%lu\n", count, first, last, flags,
	       data >> 8);
	return 0;
}

static long long mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int pie(long rate, long count)
{
	int fd = open("/dev/rtc0", O_RDONLY);
	unsigned long data = 0, flags = 0, ticks = 0;
	long long t0, us;

	if (fd < 0)
		return die("/dev/rtc0");
	if (ioctl(fd, RTC_IRQP_SET, (unsigned long)rate) != 0) {
		close(fd);
		return die("RTC_IRQP_SET");
	}
	t0 = mono_us();
	if (ioctl(fd, RTC_PIE_ON, 0) != 0) {
		close(fd);
		return die("RTC_PIE_ON");
	}
	for (long i = 0; i < count; i++) {
		if (read(fd, &data, sizeof data) != (ssize_t)sizeof data) {
			ioctl(fd, RTC_PIE_OFF, 0);
			close(fd);
			return die("read of /dev/rtc0");
		}
		flags |= data & 0xff;
		ticks += data >> 8;
	}
	us = mono_us() - t0;
	ioctl(fd, RTC_PIE_OFF, 0);
	close(fd);
	if (us <= 0)
		us = 1;
	printf("rate=%ld n=%ld ticks=%lu us=%lld mhz=%lld flags=%02lx\n", rate, count, ticks, us,
	       (long long)ticks * 1000000000LL / us, flags);
	return 0;
}

static int irq8(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[512];

	if (f == NULL)
		return die("/proc/interrupts");
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long n;

		if (sscanf(line, " 8: %lu", &n) == 1) {
			fclose(f);
			printf("%lu\n", n);
			return 0;
		}
	}
	fclose(f);
	fprintf(stderr, "rtcprobe: no IRQ 8 in /proc/interrupts\n");
	return 1;
}

int main(int argc, char **argv)
{
	long idx, n;

	if (argc == 3 && strcmp(argv[1], "cmd") == 0)
		return cmd_line(argv[2]);
	if (argc == 4 && strcmp(argv[1], "nvram-read") == 0) {
		if (parse_num(argv[2], NVRAM_FIRST, CMOS_SIZE - 1, &idx) != 0 ||
		    parse_num(argv[3], 1, CMOS_SIZE - idx, &n) != 0)
			return 1;
		return nvram_read(idx, n);
	}
	if (argc >= 4 && strcmp(argv[1], "nvram-write") == 0) {
		if (parse_num(argv[2], NVRAM_FIRST, CMOS_SIZE - 1, &idx) != 0)
			return 1;
		return nvram_write(idx, argc - 3, argv + 3);
	}
	if (argc == 3 && strcmp(argv[1], "uie") == 0) {
		if (parse_num(argv[2], 1, 60, &n) != 0)
			return 1;
		return uie(n);
	}
	if (argc == 4 && strcmp(argv[1], "pie") == 0) {
		long rate;

		if (parse_num(argv[2], 1, 8192, &rate) != 0 || parse_num(argv[3], 1, 100000, &n) != 0)
			return 1;
		return pie(rate, n);
	}
	if (argc == 2 && strcmp(argv[1], "irq") == 0)
		return irq8();
	fprintf(stderr, "usage: rtcprobe cmd DEV | nvram-read IDX N | nvram-write IDX BYTE... | "
			"uie N | pie RATE N | irq\n");
	return 1;
}
