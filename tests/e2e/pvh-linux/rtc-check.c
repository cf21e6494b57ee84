/* rtc-check — what a Linux guest can do with its RTC, one line per check.
 *
 *   rtc-check port        the CMOS through /dev/port (index 0x70, data 0x71),
 *                         around the kernel: registers A B C D, the time
 *                         registers, and an NVRAM byte (0x41) written and read
 *   rtc-check dev PATH    the kernel's RTC character device: RTC_RD_TIME, the
 *                         update interrupt (RTC_UIE_ON), an alarm two seconds
 *                         ahead (RTC_ALM_SET, RTC_AIE_ON) and periodic
 *                         interrupts at 2 Hz (RTC_IRQP_SET, RTC_PIE_ON)
 *
 * Every result is printed, failures as "err=ERRNO" (the number, so that a
 * test can compare it exactly); the exit status is 0 unless the arguments
 * are wrong.  Built static: the guest's root holds busybox and this only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <unistd.h>

static int port_rd(int fd, unsigned idx, unsigned *val)
{
	unsigned char b = (unsigned char)idx;
	if (pwrite(fd, &b, 1, 0x70) != 1 || pread(fd, &b, 1, 0x71) != 1)
		return -1;
	*val = b;
	return 0;
}

static int port_wr(int fd, unsigned idx, unsigned val)
{
	unsigned char i = (unsigned char)idx, v = (unsigned char)val;
	return pwrite(fd, &i, 1, 0x70) == 1 && pwrite(fd, &v, 1, 0x71) == 1 ? 0 : -1;
}

static int do_port(void)
{
	static const unsigned idx[] = { 0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x02, 0x04, 0x07, 0x08, 0x09 };
	unsigned v[sizeof idx / sizeof idx[0]], nv;
	int fd = open("/dev/port", O_RDWR);
	if (fd < 0) {
		printf("port open err=%d\n", errno);
		return 0;
	}
	for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
		if (port_rd(fd, idx[i], &v[i]) < 0) {
			printf("port read err=%d\n", errno);
			close(fd);
			return 0;
		}
	}
	printf("port a=%02x b=%02x c=%02x d=%02x time=%02x%02x%02x-%02x:%02x:%02x\n", v[0], v[1],
	       v[2], v[3], v[9], v[8], v[7], v[6], v[5], v[4]);
	if (port_wr(fd, 0x41, 0xa5) < 0 || port_rd(fd, 0x41, &nv) < 0)
		printf("port nvram err=%d\n", errno);
	else
		printf("port nvram index=41 wrote=a5 read=%02x\n", nv);
	close(fd);
	return 0;
}

/* wait_irq FD SECS -> number of RTC interrupts read within SECS (at most 2), -1 on error. */
static int wait_irq(int fd, int secs, int want)
{
	int n = 0;
	while (n < want) {
		fd_set r;
		struct timeval tv = { .tv_sec = secs, .tv_usec = 0 };
		unsigned long data;
		FD_ZERO(&r);
		FD_SET(fd, &r);
		int rc = select(fd + 1, &r, NULL, NULL, &tv);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		if (read(fd, &data, sizeof data) != (ssize_t)sizeof data)
			return -1;
		n++;
	}
	return n;
}

#define TRY(call) ((call) < 0 ? errno : 0)

static int do_dev(const char *path)
{
	struct rtc_time tm;
	int fd = open(path, O_RDONLY), e;
	if (fd < 0) {
		printf("dev open err=%d\n", errno);
		return 0;
	}
	printf("dev open ok\n");
	memset(&tm, 0, sizeof tm);
	e = TRY(ioctl(fd, RTC_RD_TIME, &tm));
	if (e)
		printf("dev rd_time err=%d\n", e);
	else
		printf("dev rd_time ok time=%04d-%02d-%02dT%02d:%02d:%02d\n", tm.tm_year + 1900,
		       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);

	e = TRY(ioctl(fd, RTC_UIE_ON, 0));
	printf("dev uie on=%d irqs=%d\n", e, e ? 0 : wait_irq(fd, 3, 2));
	ioctl(fd, RTC_UIE_OFF, 0);

	struct rtc_time al = tm;
	e = TRY(ioctl(fd, RTC_RD_TIME, &al));
	if (!e) {
		al.tm_sec += 2;
		if (al.tm_sec >= 60) {
			al.tm_sec -= 60;
			al.tm_min = (al.tm_min + 1) % 60;
		}
		e = TRY(ioctl(fd, RTC_ALM_SET, &al));
	}
	int on = e ? e : TRY(ioctl(fd, RTC_AIE_ON, 0));
	printf("dev alarm set=%d on=%d irqs=%d\n", e, on, e || on ? 0 : wait_irq(fd, 5, 1));
	ioctl(fd, RTC_AIE_OFF, 0);

	e = TRY(ioctl(fd, RTC_IRQP_SET, 2UL));
	on = e ? e : TRY(ioctl(fd, RTC_PIE_ON, 0));
	printf("dev periodic set=%d on=%d irqs=%d\n", e, on, e || on ? 0 : wait_irq(fd, 3, 2));
	ioctl(fd, RTC_PIE_OFF, 0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "port") == 0)
		return do_port();
	if (argc == 3 && strcmp(argv[1], "dev") == 0)
		return do_dev(argv[2]);
	fprintf(stderr, "usage: rtc-check port | rtc-check dev PATH\n");
	return 2;
}
