/* companion.c — QEMU's stream + rtcdm's image + trailer (see companion.h). */
#include "saverestore/companion.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sr_companion_trailer(uint8_t out[SR_COMPANION_TRAILER_LEN], uint64_t qemu_len,
                          uint32_t image_len)
{
	memcpy(out, SR_COMPANION_MAGIC, 8);
	sr_put32(out + 8, SR_COMPANION_VERSION);
	sr_put32(out + 12, image_len);
	sr_put64(out + 16, qemu_len);
	sr_put64(out + 24, 0);
}

/* Exactly n bytes at off: read into rbuf, or written from wbuf (rbuf NULL).
 * 0 or -1. */
static int io_at(int fd, void *rbuf, const void *wbuf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = rbuf ? pread(fd, (uint8_t *)rbuf + done, n - done, (off_t)(off + done))
		                 : pwrite(fd, (const uint8_t *)wbuf + done, n - done,
		                          (off_t)(off + done));

		if (r > 0)
			done += (size_t)r;
		else if (r == 0 || errno != EINTR)
			return -1; /* a short file reads as the end, errno 0 */
	}
	return 0;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	return io_at(fd, buf, NULL, n, off);
}

#define BAD(...)                                                          \
	do {                                                              \
		char why_[SR_ERR_MAX];                                     \
		snprintf(why_, sizeof(why_), __VA_ARGS__);                \
		snprintf(err, errlen, "rtcdm trailer: %s", why_);          \
		return -1;                                                \
	} while (0)

int sr_companion_find(int fd, uint64_t base, uint64_t len, struct sr_companion *out, char *err,
                      size_t errlen)
{
	uint8_t t[SR_COMPANION_TRAILER_LEN], head[4], last;
	uint32_t version, image_len;
	uint64_t qemu_len, reserved;
	uint8_t *image;
	struct sr_image img;
	char why[SR_ERR_MAX / 2];
	int rc;

	err[0] = '\0';
	if (len < SR_COMPANION_TRAILER_LEN)
		return 0;
	errno = 0;
	if (pread_all(fd, t, sizeof(t), base + len - sizeof(t)) < 0)
		BAD("cannot read the last %u bytes: %s", SR_COMPANION_TRAILER_LEN,
		    errno ? strerror(errno) : "short read");
	if (memcmp(t, SR_COMPANION_MAGIC, 8) != 0)
		return 0;
	version = sr_get32(t + 8);
	image_len = sr_get32(t + 12);
	qemu_len = sr_get64(t + 16);
	reserved = sr_get64(t + 24);
	if (version != SR_COMPANION_VERSION)
		BAD("version %" PRIu32 " (this rtcdm reads %u)", version, SR_COMPANION_VERSION);
	if (reserved != 0)
		BAD("reserved field is %#" PRIx64 ", expected 0", reserved);
	if (image_len == 0 || image_len > SR_IMAGE_MAX)
		BAD("rtcdm's image of %" PRIu32 " bytes (1..%u)", image_len, SR_IMAGE_MAX);
	if (qemu_len > len || len - qemu_len != (uint64_t)image_len + SR_COMPANION_TRAILER_LEN)
		BAD("lengths do not add up: QEMU's stream %" PRIu64 " + rtcdm's image %" PRIu32
		    " + trailer %u != context %" PRIu64 " bytes",
		    qemu_len, image_len, SR_COMPANION_TRAILER_LEN, len);
	if (qemu_len < 9 || pread_all(fd, head, 4, base) < 0 || memcmp(head, "QEVM", 4) != 0)
		BAD("the context does not start with QEMU's stream (\"QEVM\")");
	if (pread_all(fd, &last, 1, base + qemu_len - 1) < 0 || last != SR_QEMU_VM_EOF)
		BAD("QEMU's stream does not end with QEMU_VM_EOF at byte %" PRIu64, qemu_len - 1);
	image = malloc(image_len);
	if (!image)
		BAD("out of memory");
	if (pread_all(fd, image, image_len, base + qemu_len) < 0) {
		free(image);
		BAD("cannot read rtcdm's image");
	}
	rc = sr_load(image, image_len, &img, why, sizeof(why));
	free(image);
	if (rc < 0)
		BAD("rtcdm's image at byte %" PRIu64 ": %s", qemu_len, why);
	out->qemu_len = qemu_len;
	out->image_len = image_len;
	out->image = img;
	return 1;
}

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	return io_at(fd, NULL, buf, n, off);
}

int sr_companion_append(int fd, const uint8_t *image, size_t image_len, char *err, size_t errlen)
{
	uint8_t t[SR_COMPANION_TRAILER_LEN];
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot append rtcdm's image: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
		snprintf(err, errlen, "cannot append rtcdm's image: %s",
		         S_ISREG(st.st_mode) ? "QEMU wrote no device state" : "not a regular file");
		return -1;
	}
	if (image_len == 0 || image_len > SR_IMAGE_MAX) {
		snprintf(err, errlen, "cannot append rtcdm's image of %zu bytes", image_len);
		return -1;
	}
	sr_companion_trailer(t, (uint64_t)st.st_size, (uint32_t)image_len);
	if (pwrite_all(fd, image, image_len, (uint64_t)st.st_size) < 0 ||
	    pwrite_all(fd, t, sizeof(t), (uint64_t)st.st_size + image_len) < 0) {
		int e = errno;

		(void)!ftruncate(fd, st.st_size);
		snprintf(err, errlen, "cannot append rtcdm's image: %s", strerror(e ? e : EIO));
		return -1;
	}
	return 0;
}

void sr_companion_dump_text(FILE *out, int found, uint64_t len, const struct sr_companion *c)
{
	if (found != 1) {
		fprintf(out, "device-model context: %" PRIu64 " bytes, no rtcdm part "
		             "(a stock qemu-xen context)\n", len);
		return;
	}
	fprintf(out, "device-model context: %" PRIu64 " bytes in companion mode\n", len);
	fprintf(out, "  QEMU's stream: bytes 0..%" PRIu64 " (%" PRIu64
	             " bytes, ends with QEMU_VM_EOF)\n", c->qemu_len - 1, c->qemu_len);
	fprintf(out, "  rtcdm's image: bytes %" PRIu64 "..%" PRIu64 " (%" PRIu32 " bytes)\n",
	        c->qemu_len, c->qemu_len + c->image_len - 1, c->image_len);
	fprintf(out, "  trailer: version %u, %u bytes\n", SR_COMPANION_VERSION,
	        SR_COMPANION_TRAILER_LEN);
	sr_dump_image_text(out, &c->image);
}

char *sr_companion_dump_json(int found, uint64_t len, const struct sr_companion *c)
{
	json_object *o = json_object_new_object();
	json_object *img = NULL;
	char *image_text = NULL, *s;

	if (!o)
		return NULL;
	json_object_object_add(o, "context_bytes", json_object_new_int64((int64_t)len));
	json_object_object_add(o, "qemu_stream_bytes",
	                       json_object_new_int64(found == 1 ? (int64_t)c->qemu_len : (int64_t)len));
	json_object_object_add(o, "rtcdm_image_bytes",
	                       found == 1 ? json_object_new_int64(c->image_len) : NULL);
	if (found == 1) {
		image_text = sr_dump_image_json(&c->image);
		img = image_text ? json_tokener_parse(image_text) : NULL;
		free(image_text);
	}
	json_object_object_add(o, "rtcdm", img);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}
