/* dm_unix_connect: a client connection by path, with the flags asked for. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/unix_socket.h"
#include "tests/support/support.h"

void suite_base_unix_socket(void);

static void test_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[256], path[300], lng[200];
	int lfd, fd;

	CU_ASSERT_FATAL(support_tmpdir(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/s", dir);
	/* nothing listens there yet */
	CU_ASSERT_EQUAL(dm_unix_connect(path, 0), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	                listen(lfd, 2) == 0);
	fd = dm_unix_connect(path, 0);
	CU_ASSERT_TRUE(fd >= 0);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	fd = dm_unix_connect(path, SOCK_NONBLOCK);
	CU_ASSERT_TRUE(fd >= 0);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	close(fd);
	close(lfd);
	/* a path longer than a socket address holds */
	memset(lng, 'x', sizeof(lng) - 1);
	lng[0] = '/';
	lng[sizeof(lng) - 1] = '\0';
	CU_ASSERT_EQUAL(dm_unix_connect(lng, 0), -1);
	CU_ASSERT_EQUAL(errno, ENAMETOOLONG);
	support_rmtree(dir);
}

void suite_base_unix_socket(void)
{
	CU_pSuite s = CU_add_suite("base_unix_socket", NULL, NULL);
	CU_add_test(s, "connect by path: flags, no listener, too long", test_connect);
}
