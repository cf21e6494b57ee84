/*
 * fuzz_qmp — arbitrary bytes from a QMP client, delivered in arbitrary
 * pieces, must never crash the server, leak, or make it stop answering.
 * Byte 0 picks the piece size; byte 1 bit 0 attaches a descriptor (as
 * add-fd expects) to the first piece.
 */
#include <fcntl.h>
#include <stdint.h>

#include "tests/support/qmp_fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Send bytes with one descriptor attached (SCM_RIGHTS). */
static ssize_t send_fd(int sock, const uint8_t *buf, size_t len, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
	                    .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(&ctl, 0, sizeof(ctl));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

static void drain(int fd)
{
	char sink[4096];
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_dm f = {.state = DM_RUN_PAUSED, .payload = "state"};
	char err[256];
	int sv[2];

	if (size < 2)
		return 0;
	size_t piece = data[0] % 65;
	bool pass_fd = data[1] & 1;
	unsigned vcpus = data[1] >> 4;
	data += 2;
	size -= 2;
	if (piece == 0)
		piece = size ? size : 1;

	struct qmp_server *s = fake_server(&f, vcpus);
	if (!s || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (qmp_server_add_client(s, sv[1], err, sizeof(err)) < 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);

	size_t off = 0;
	int spins = 0;
	while (off < size && qmp_server_clients(s) > 0 && spins < 100000) {
		size_t len = size - off < piece ? size - off : piece;
		ssize_t n;
		if (pass_fd && off == 0 && len > 0) {
			int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
			n = send_fd(sv[0], data, len, nul);
			close(nul);
		} else {
			n = send(sv[0], data + off, len, MSG_NOSIGNAL);
		}
		if (n > 0)
			off += (size_t)n;
		else
			spins++;
		pump(&f, s);
		drain(sv[0]);
	}
	/* The server still answers a well-formed request, unless it hung up. */
	if (qmp_server_clients(s) > 0) {
		send(sv[0], "\n{\"execute\":\"qmp_capabilities\"}\n", 33, MSG_NOSIGNAL);
		pump(&f, s);
	}
	shutdown(sv[0], SHUT_WR);
	for (int i = 0; i < 100 && qmp_server_clients(s) > 0; i++) {
		pump(&f, s);
		drain(sv[0]);
	}
	qmp_server_free(s);
	close(sv[0]);
	return 0;
}
