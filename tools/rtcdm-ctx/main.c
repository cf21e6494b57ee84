/*
 * rtcdm-ctx — inspect and edit rtcdm save images and xl save images.
 *
 *   rtcdm-ctx dump FILE [--json]
 *   rtcdm-ctx upgrade IN OUT
 *   rtcdm-ctx set-offset FILE SECONDS [--set]
 *   rtcdm-ctx xl-older IN OUT          (an xl image as Xen <= 4.13 wrote it)
 *   rtcdm-ctx wallclock --domid N      (built with Xen: a live domain)
 *
 * Exit status: 0 success, 1 refused file (one message on stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "saverestore/companion.h"
#include "saverestore/sr.h"
#include "tools/rtcdm-ctx/xl_older.h"
#if RTCDM_HAVE_XEN
#include "tools/rtcdm-ctx/wallclock.h"
#endif

#define EXIT_REFUSED 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: rtcdm-ctx COMMAND [ARGS]\n"
	"Inspect and edit rtcdm save images (Xen HVM save format with rtcdm records)\n"
	"and whole `xl save` images.\n"
	"\n"
	"  dump FILE [--json]            print every record in words (or as JSON);\n"
	"                                FILE is an rtcdm image or an xl save image\n"
	"  upgrade IN OUT                rewrite IN with every record in its current\n"
	"                                form into OUT (atomically)\n"
	"  set-offset FILE SECONDS [--set]\n"
	"                                replace the saved time offset (whole seconds,\n"
	"                                sub-second phase kept); --set marks it as set\n"
	"                                by the toolstack, otherwise the flag is cleared\n"
	"  xl-older IN OUT               rewrite an xl save image of an HVM domain as\n"
	"                                Xen <= 4.13 wrote it: 16-byte Xen RTC record,\n"
	"                                emulator image without rtcdm's records\n"
#if RTCDM_HAVE_XEN
	"  wallclock --domid N           a live domain's PV wallclock, its offset from\n"
	"                                the host wallclock, and Xen's RTC record\n"
#endif
	"  --help                        this text\n"
	"  --version                     the version\n"
	"\n"
	"Exit status: 0 success, 1 file refused, 2 usage error.\n";

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "rtcdm-ctx: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see rtcdm-ctx --help)\n");
	return EXIT_USAGE;
}

static int refused(const char *file, const char *msg)
{
	fprintf(stderr, "rtcdm-ctx: %s: %s\n", file, msg);
	return EXIT_REFUSED;
}

/* Arguments without the options we know; counts the options. */
struct args {
	const char *pos[4];
	int npos;
	bool json, set;
};

static int parse_args(int argc, char **argv, struct args *a, bool allow_json, bool allow_set)
{
	memset(a, 0, sizeof(*a));
	for (int i = 2; i < argc; i++) {
		const char *s = argv[i];
		if (allow_json && strcmp(s, "--json") == 0)
			a->json = true;
		else if (allow_set && strcmp(s, "--set") == 0)
			a->set = true;
		else if (s[0] == '-' && s[1] == '-')
			return usage_error("unknown option '%s'", s);
		else if (a->npos == (int)(sizeof(a->pos) / sizeof(a->pos[0])))
			return usage_error("too many arguments at '%s'", s);
		else
			a->pos[a->npos++] = s;
	}
	return 0;
}

static int load_file(const char *path, struct sr_image *img)
{
	uint8_t *buf;
	size_t len;
	char err[SR_ERR_MAX];
	if (sr_read_file(path, SR_IMAGE_MAX, &buf, &len, err, sizeof(err)))
		return refused(path, err);
	if (sr_looks_like_xl(buf, len)) {
		free(buf);
		return refused(path, "an xl save image, not an rtcdm image (use dump to read it)");
	}
	int rc = sr_load(buf, len, img, err, sizeof(err));
	free(buf);
	return rc ? refused(path, err) : 0;
}

static int save_file(const char *path, const struct sr_image *img)
{
	uint8_t buf[1024];
	char err[SR_ERR_MAX];
	size_t n = sr_encode(img, buf, sizeof(buf));
	if (n > sizeof(buf))
		return refused(path, "image too large");
	if (sr_write_file_atomic(path, buf, n, err, sizeof(err)))
		return refused(path, err);
	return 0;
}

static int print_json(char *s)
{
	if (!s) {
		fprintf(stderr, "rtcdm-ctx: out of memory\n");
		return EXIT_REFUSED;
	}
	printf("%s\n", s);
	free(s);
	return 0;
}

/* A device-model context of QEMU's (len bytes of fd at base): its own part
 * and rtcdm's, when there is one (saverestore/companion.h). */
static int dump_context(const char *path, int fd, uint64_t base, uint64_t len, bool json)
{
	struct sr_companion *c = malloc(sizeof(*c));
	char err[SR_ERR_MAX];
	int found, rc = 0;

	if (!c)
		return refused(path, "out of memory");
	found = sr_companion_find(fd, base, len, c, err, sizeof(err));
	if (found < 0)
		rc = refused(path, err);
	else if (json)
		rc = print_json(sr_companion_dump_json(found, len, c));
	else
		sr_companion_dump_text(stdout, found, len, c);
	free(c);
	return rc;
}

static int dump_xl(const char *path, int fd, bool json)
{
	struct sr_reader r;
	struct sr_fd_source src;
	struct sr_xl_info *info = malloc(sizeof(*info));
	char err[SR_ERR_MAX];
	if (!info)
		return refused(path, "out of memory");
	sr_reader_fd(&r, &src, fd);
	if (sr_walk_xl(&r, info, err, sizeof(err))) {
		free(info);
		return refused(path, err);
	}
	int rc = json ? print_json(sr_dump_xl_json(info)) : (sr_dump_xl_text(stdout, info), 0);
	if (rc == 0 && !json && info->emulator_kind == SR_EMU_QEMU)
		rc = dump_context(path, fd, info->emulator_at, info->emulator_len, false);
	if (rc == 0 && info->emulator_kind == SR_EMU_INVALID) {
		fprintf(stderr, "rtcdm-ctx: %s: EMULATOR_CONTEXT: %s\n", path, info->emu_error);
		rc = EXIT_REFUSED;
	}
	free(info);
	return rc;
}

static int cmd_dump(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, &a, true, false);
	if (rc)
		return rc;
	if (a.npos != 1)
		return usage_error("%s", "dump needs exactly one FILE");
	const char *path = a.pos[0];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return refused(path, strerror(errno));
	uint8_t head[48];
	ssize_t n = pread(fd, head, sizeof(head), 0);
	if (n >= 0 && sr_looks_like_xl(head, (size_t)n)) {
		rc = dump_xl(path, fd, a.json);
		close(fd);
		return rc;
	}
	struct stat st;
	if (n >= 4 && memcmp(head, "QEVM", 4) == 0 && fstat(fd, &st) == 0) {
		/* qemu-save.<domid> / qemu-resume.<domid>: the context on its own */
		rc = dump_context(path, fd, 0, (uint64_t)st.st_size, a.json);
		close(fd);
		return rc;
	}
	close(fd);
	struct sr_image img;
	if ((rc = load_file(path, &img)))
		return rc;
	if (a.json)
		return print_json(sr_dump_image_json(&img));
	sr_dump_image_text(stdout, &img);
	return 0;
}

static int cmd_upgrade(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, &a, false, false);
	if (rc)
		return rc;
	if (a.npos != 2)
		return usage_error("%s", "upgrade needs IN and OUT");
	struct sr_image img;
	if ((rc = load_file(a.pos[0], &img)))
		return rc;
	return save_file(a.pos[1], &img);
}

static int parse_seconds(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v > SR_OFFSET_LIMIT || v < -SR_OFFSET_LIMIT)
		return -1;
	*out = v;
	return 0;
}

static int cmd_set_offset(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, &a, false, true);
	if (rc)
		return rc;
	if (a.npos != 2)
		return usage_error("%s", "set-offset needs FILE and SECONDS");
	int64_t secs;
	if (parse_seconds(a.pos[1], &secs))
		return usage_error("SECONDS '%s' is not a whole number of seconds within "
		                   "+-1099511627776", a.pos[1]);
	struct sr_image img;
	if ((rc = load_file(a.pos[0], &img)))
		return rc;
	if (!sr_has(&img, SR_REC_OFFSET))
		img.offset.phase_ns = 0;
	img.offset.seconds = secs;
	img.offset.set = a.set ? 1 : 0;
	img.present |= 1u << SR_REC_OFFSET;
	img.rtc.rtc_offset = secs; /* keep Xen's view consistent */
	return save_file(a.pos[0], &img);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "missing COMMAND");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("rtcdm-ctx %s\n", RTCDM_VERSION);
		return 0;
	}
	if (strcmp(cmd, "dump") == 0)
		return cmd_dump(argc, argv);
	if (strcmp(cmd, "upgrade") == 0)
		return cmd_upgrade(argc, argv);
	if (strcmp(cmd, "set-offset") == 0)
		return cmd_set_offset(argc, argv);
	if (strcmp(cmd, "xl-older") == 0)
		return sr_ctx_xl_older(argc, argv);
	if (strcmp(cmd, "wallclock") == 0)
#if RTCDM_HAVE_XEN
		return sr_ctx_wallclock(argc, argv);
#else
		return usage_error("%s", "wallclock needs a build with the Xen libraries");
#endif
	return usage_error("unknown command '%s'", cmd);
}
