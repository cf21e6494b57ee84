/* QMP save/restore path: libxl's save sequence, add-fd/SCM_RIGHTS, fdsets. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "tests/support/qmp_fake.h"
#include "toolstack/qmp/fdset.h"

void suite_qmp_save(void);

#define BUFSZ 8192

/* A temp file opened with the given flags (unlinked at once). */
static int temp_file(int flags)
{
	char dir[256], path[300];
	if (support_tmpdir(dir, sizeof(dir)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/f", dir);
	int w = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	int fd = open(path, flags | O_CLOEXEC);
	close(w);
	unlink(path);
	rmdir(dir);
	return fd;
}

/* Integer member `key` of the "return" object of a reply, or -1. */
static long long ret_int(const char *reply, const char *key)
{
	struct json_object *o = json_tokener_parse(reply), *r, *v;
	long long val = -1;
	if (o && json_object_object_get_ex(o, "return", &r) && json_object_object_get_ex(r, key, &v))
		val = json_object_get_int64(v);
	json_object_put(o);
	return val;
}

/* add-fd with fd attached; the reply is left in buf (BUFSZ bytes). */
static int add_fd(struct fake_dm *f, struct qmp_server *s, int c, int fd, const char *args, long long *server_fd,
                  char *buf)
{
	char req[256];
	snprintf(req, sizeof(req), "{\"execute\":\"add-fd\"%s%s%s}\r\n", args ? ",\"arguments\":" : "",
	         args ? args : "", "");
	if (support_send_fds(c, req, &fd, fd >= 0 ? 1 : 0) < 0)
		return -2;
	pump(f, s);
	recv_text(c, buf, BUFSZ, NULL);
	if (server_fd)
		*server_fd = ret_int(buf, "fd");
	return (int)ret_int(buf, "fdset-id");
}

/* One libxl operation: connect, negotiate, one command, close. */
static void libxl_op(struct fake_dm *f, struct qmp_server *s, const char *path, const char *cmd, const char *expect)
{
	char line[512], buf[BUFSZ];
	int c = support_unix_connect(path);
	CU_ASSERT_FATAL(c >= 0);
	pump(f, s);
	recv_text(c, buf, sizeof(buf), NULL);
	CU_ASSERT_STRING_EQUAL(xchg(f, s, c, "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n", buf,
	                            sizeof(buf)),
	                       "{\"return\":{},\"id\":1}\r\n");
	snprintf(line, sizeof(line), "%s\r\n", cmd);
	xchg(f, s, c, line, buf, sizeof(buf));
	/* Skip an event line (STOP) before the reply. */
	const char *reply = strncmp(buf, "{\"timestamp\"", 12) == 0 ? strstr(buf, "\r\n") + 2 : buf;
	CU_ASSERT_STRING_EQUAL(reply, expect);
	close(c);
	pump(f, s);
}

static void test_libxl_save_sequence(void)
{
	char buf[BUFSZ];
	struct fake_dm f = {.state = DM_RUN_RUNNING, .payload = "RTCDM-STATE-IMAGE"};
	struct qmp_server *s = fake_server(&f, 1);
	char dir[256], path[300], err[256], expect[512];

	CU_ASSERT_FATAL(support_tmpdir(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/qmp-libxl-7", dir);
	CU_ASSERT_FATAL(qmp_server_listen_path(s, path, err, sizeof(err)) == 0);

	snprintf(expect, sizeof(expect),
	         "{\"return\":[{\"cpu-index\":0,\"qom-path\":\"/machine/unattached/device[0]\","
	         "\"thread-id\":%d,\"props\":{\"core-id\":0,\"thread-id\":0,\"node-id\":0,"
	         "\"socket-id\":0},\"target\":\"x86_64\"}],\"id\":2}\r\n",
	         (int)getpid());
	libxl_op(&f, s, path, "{\"execute\":\"query-cpus-fast\",\"id\":2}", expect);
	libxl_op(&f, s, path,
	         "{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true},\"id\":3}",
	         "{\"return\":{},\"id\":3}\r\n");
	libxl_op(&f, s, path, "{\"execute\":\"stop\",\"id\":4}", "{\"return\":{},\"id\":4}\r\n");
	CU_ASSERT_EQUAL(f.state, DM_RUN_PAUSED);

	/* add-fd and the save on one connection. */
	int file = temp_file(O_WRONLY);
	CU_ASSERT_FATAL(file >= 0);
	int c = support_unix_connect(path);
	pump(&f, s);
	recv_text(c, buf, sizeof(buf), NULL);
	xchg(&f, s, c, "{\"execute\":\"qmp_capabilities\",\"id\":5}\r\n", buf, sizeof(buf));
	CU_ASSERT_FATAL(support_send_fds(c, "{\"execute\":\"add-fd\",\"id\":6}\r\n", &file, 1) == 0);
	pump(&f, s);
	recv_text(c, buf, sizeof(buf), NULL);
	long long sfd = ret_int(buf, "fd");
	CU_ASSERT(sfd >= 3 && sfd != file);
	snprintf(expect, sizeof(expect), "{\"return\":{\"fdset-id\":0,\"fd\":%lld},\"id\":6}\r\n", sfd);
	CU_ASSERT_STRING_EQUAL(buf, expect);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c,
	                            "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"live\":"
	                            "false,\"filename\":\"/dev/fdset/0\"},\"id\":7}\r\n",
	                            buf, sizeof(buf)),
	                       "{\"return\":{},\"id\":7}\r\n");
	close(c);
	pump(&f, s);
	/* The state went into the toolstack's descriptor, before the reply. */
	char got[64] = "";
	struct stat st;
	CU_ASSERT(fstat(file, &st) == 0 && st.st_size == (off_t)strlen("RTCDM-STATE-IMAGE"));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", file);
	int again = open(proc, O_RDONLY | O_CLOEXEC);
	CU_ASSERT_FATAL(again >= 0);
	ssize_t n = read(again, got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	CU_ASSERT_STRING_EQUAL(got, "RTCDM-STATE-IMAGE");
	close(again);

	libxl_op(&f, s, path,
	         "{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":false},\"id\":8}",
	         "{\"return\":{},\"id\":8}\r\n");
	CU_ASSERT_STRING_EQUAL(f.calls, "stop;save_fd live=0;");
	/* Paused and no client: the set is kept (as QEMU, only a running guest
	 * with no client drops them). */
	c = ready_client(&f, s);
	snprintf(expect, sizeof(expect), "{\"return\":[{\"fdset-id\":0,\"fds\":[{\"fd\":%lld}]}]}\r\n",
	         sfd);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-fdsets\"}\n", buf, sizeof(buf)), expect);
	close(c);
	pump(&f, s);
	qmp_server_free(s);
	close(file);
	rmdir(dir);
}

static void test_fdset_numbering(void)
{
	char buf[BUFSZ];
	struct fake_dm f = {.state = DM_RUN_PAUSED};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);
	long long fds[4];
	int fd = temp_file(O_RDWR);

	/* Without an id: 0, 1, 2 (QEMU: lowest free id). */
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, NULL, &fds[0], buf), 0);
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, NULL, &fds[1], buf), 1);
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, "{\"opaque\":\"rw:/save\"}", &fds[2], buf), 2);
	/* Each received descriptor is a new one. */
	CU_ASSERT(fds[0] != fds[1] && fds[1] != fds[2] && fds[0] != fd);
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"remove-fd\",\"arguments\":{\"fdset-id\":1}}\n", buf, sizeof(buf)),
	    "{\"return\":{}}\r\n");
	CU_ASSERT_EQUAL(fcntl((int)fds[1], F_GETFD), -1); /* closed */
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, NULL, &fds[1], buf), 1);   /* the gap is reused */
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, NULL, &fds[3], buf), 3);
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, "{\"fdset-id\":9}", NULL, buf), 9);
	long long extra;
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, "{\"fdset-id\":0}", &extra, buf), 0);
	char expect[512];
	snprintf(expect, sizeof(expect),
	         "{\"return\":[{\"fdset-id\":0,\"fds\":[{\"fd\":%lld},{\"fd\":%lld}]},"
	         "{\"fdset-id\":1,\"fds\":[{\"fd\":%lld}]},"
	         "{\"fdset-id\":2,\"fds\":[{\"fd\":%lld,\"opaque\":\"rw:/save\"}]},"
	         "{\"fdset-id\":3,\"fds\":[{\"fd\":%lld}]},",
	         fds[0], extra, fds[1], fds[2], fds[3]);
	xchg(&f, s, c, "{\"execute\":\"query-fdsets\"}\n", buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf, expect, strlen(expect)), 0);

	/* Removing one descriptor of a set; errors name what was not found. */
	char req[200];
	snprintf(req, sizeof(req), "{\"execute\":\"remove-fd\",\"arguments\":{\"fdset-id\":0,\"fd\":%lld}}\n",
	         extra);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, req, buf, sizeof(buf)), "{\"return\":{}}\r\n");
	snprintf(expect, sizeof(expect),
	         "{\"error\":{\"class\":\"GenericError\",\"desc\":\"File descriptor named "
	         "'fdset-id:0, fd:%lld' not found\"}}\r\n",
	         extra);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, req, buf, sizeof(buf)), expect);
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"remove-fd\",\"arguments\":{\"fdset-id\":5}}\n", buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"File descriptor named 'fdset-id:5' "
	    "not found\"}}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":-1}}\n", buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"No file descriptor supplied via "
	    "SCM_RIGHTS\"}}\r\n");
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, "{\"fdset-id\":-1}", NULL, buf), -1);
	CU_ASSERT_STRING_EQUAL(buf, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter "
	                            "'fdset-id' expects a non-negative value\"}}\r\n");
	close(c);
	close(fd);
	qmp_server_free(s);
}

static void test_fdset_bounds(void)
{
	char buf[BUFSZ];
	struct fake_dm f = {.state = DM_RUN_PAUSED};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);
	int fd = temp_file(O_RDWR);

	for (int i = 0; i < QMP_MAX_FDS_PER_SET; i++)
		CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, "{\"fdset-id\":4}", NULL, buf), 4);
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, "{\"fdset-id\":4}", NULL, buf), -1);
	CU_ASSERT_STRING_EQUAL(buf, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"fdset 4 is "
	                            "full (at most 8 descriptors)\"}}\r\n");
	for (int i = 1; i < QMP_MAX_FDSETS; i++)
		CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, NULL, NULL, buf), i <= 4 ? i - 1 : i);
	CU_ASSERT_EQUAL(add_fd(&f, s, c, fd, NULL, NULL, buf), -1);
	CU_ASSERT_STRING_EQUAL(buf, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"too many "
	                            "fdsets (at most 16)\"}}\r\n");
	/* More descriptors in one message than are kept: extra ones closed. */
	int many[6] = {fd, fd, fd, fd, fd, fd};
	CU_ASSERT(support_send_fds(c, "\n", many, 6) == 0);
	pump(&f, s);
	CU_ASSERT(strstr(f.logs, "too many descriptors") != NULL);
	close(c);
	close(fd);
	qmp_server_free(s);
}

static void test_save_and_load_errors(void)
{
	char buf[BUFSZ];
	struct fake_dm f = {.state = DM_RUN_PAUSED, .payload = "X"};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);
	int ro = temp_file(O_RDONLY);

	CU_ASSERT_EQUAL(add_fd(&f, s, c, ro, NULL, NULL, buf), 0);
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"/dev/fdset/0\"}}\n",
	         buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Could not open '/dev/fdset/0': no "
	    "descriptor open for writing\"}}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"/dev/fdset/3\"}}\n",
	         buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Could not open '/dev/fdset/3': no "
	    "such fdset\"}}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"/dev/fdset/1x\"}}\n",
	         buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Could not open '/dev/fdset/1x': not "
	    "a valid fdset name\"}}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"\"}}\n",
	         buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'filename' is empty\"}}\r\n");
	CU_ASSERT_STRING_EQUAL(f.calls, "");

	/* A path goes to the process as is; "live" defaults to true (QEMU). */
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"/var/lib/xen/qemu-save.4\"}}\n",
	         buf, sizeof(buf)),
	    "{\"return\":{}}\r\n");
	CU_ASSERT_STRING_EQUAL(f.calls, "save_path /var/lib/xen/qemu-save.4 live=1;");
	/* The process's failure reaches the toolstack word for word. */
	f.fail_save = "cannot write /x: No space left on device";
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"/x\",\"live\":true}}\n",
	         buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"cannot write /x: No space left on "
	    "device\"}}\r\n");

	/* Load: from the read-only descriptor of set 0. */
	int w = temp_file(O_RDWR);
	CU_ASSERT_EQUAL(write(w, "IMAGE-BYTES", 11), 11);
	lseek(w, 0, SEEK_SET);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w);
	int r = open(proc, O_RDONLY | O_CLOEXEC);
	CU_ASSERT_EQUAL(add_fd(&f, s, c, r, "{\"fdset-id\":2}", NULL, buf), 2);
	f.calls[0] = '\0';
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-load-devices-state\",\"arguments\":{\"filename\":\"/dev/fdset/2\"}}\n",
	         buf, sizeof(buf)),
	    "{\"return\":{}}\r\n");
	CU_ASSERT_STRING_EQUAL(f.loaded, "IMAGE-BYTES");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-load-devices-state\",\"arguments\":{\"filename\":\"/srv/img\"}}\n",
	         buf, sizeof(buf)),
	    "{\"return\":{}}\r\n");
	f.fail_load = "image refused: bad magic";
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-load-devices-state\",\"arguments\":{\"filename\":\"/srv/img\"}}\n",
	         buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"image refused: bad magic\"}}\r\n");
	CU_ASSERT_STRING_EQUAL(f.calls, "load_fd;load_path /srv/img;load_path /srv/img;");
	/* Not while the guest runs. */
	f.state = DM_RUN_RUNNING;
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"xen-load-devices-state\",\"arguments\":{\"filename\":\"/srv/img\"}}\n",
	         buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Cannot load device state while the "
	    "guest is running: stop it first\"}}\r\n");
	CU_ASSERT_STRING_EQUAL(f.calls, "load_fd;load_path /srv/img;load_path /srv/img;");

	/* Running guest, last client gone: the sets are closed (QEMU). */
	close(c);
	pump(&f, s);
	c = ready_client(&f, s);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-fdsets\"}\n", buf, sizeof(buf)),
	                       "{\"return\":[]}\r\n");
	close(c);
	close(ro);
	close(r);
	close(w);
	qmp_server_free(s);
}

void suite_qmp_save(void)
{
	CU_pSuite s = CU_add_suite("qmp_save", NULL, NULL);
	CU_add_test(s, "libxl's save sequence", test_libxl_save_sequence);
	CU_add_test(s, "fdset ids and remove-fd", test_fdset_numbering);
	CU_add_test(s, "fdset bounds", test_fdset_bounds);
	CU_add_test(s, "save/load errors and targets", test_save_and_load_errors);
}
