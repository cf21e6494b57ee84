/*
 * fake-qemu — a stand-in for qemu-xen 7.2 in companion-mode tests.
 *
 * It reads only what concerns it from a QEMU argument list and ignores the
 * rest: -chardev socket,id=ID,path=P|fd=N,server=on[,wait=off] with
 * -mon chardev=ID,mode=control (each such monitor serves one client at a
 * time, like QEMU's chardev socket server), -S (start in "prelaunch"),
 * -incoming fd:N (a device-state stream, loaded at start), -add-fd
 * fd=N,set=S (as QEMU checks it: an inherited descriptor), -chroot DIR and
 * -runas USER (taken once its monitors are open, as QEMU does: from then
 * on it reaches no path outside DIR, and none inside a DIR of mode 0000).
 *
 * QMP as QEMU 7.2 speaks it: the greeting
 *   {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "..."}, "capabilities": ["oob"]}}
 * then qmp_capabilities, query-status, query-version, stop, cont (STOP and
 * RESUME events to every negotiated client), add-fd (a descriptor passed
 * with SCM_RIGHTS; fdset-id as given or the next free one from 0),
 * remove-fd, xen-save-devices-state
 * {"filename": "/dev/fdset/N" (a descriptor of the set opened write-only,
 * as QEMU matches the access mode; else "Permission denied") | PATH,
 * "live": as QEMU, true unless given, and a live save of a machine not
 * running logs "fake-qemu: block devices inactivated (...)", a save of a
 * running machine "fake-qemu: machine stopped and started again for the
 * save" with STOP and RESUME events},
 * human-monitor-command with the HMP port commands "o /b 0x70 N" (selects
 * CMOS byte N) and "i /b 0x71" (answers "portb[0x0071] = 0xNN\r\n", as
 * QEMU 7.2's hmp_ioport_read), quit (SHUTDOWN event, exit 0); anything
 * else is CommandNotFound.  Ids are echoed.
 *
 * Its CMOS holds the configuration bytes QEMU sets for a boot, as far as
 * tests look at them: memory above 16 MiB at 0x34-0x35 from -m MB (default
 * 128), boot order "c" at 0x3d (0x02), one CPU at 0x5f (0); the rest 0.
 *
 * The device-state stream, as QEMU's save_device_state lays it out
 * (FAKE_STREAM_LEN = 209 bytes):
 *   "QEVM" be32 3 | 0x04 (section full) be32 0 (section id) 0x08 "fake-dev"
 *   be32 0 (instance) be32 1 (version) be32 10 "FAKE-STATE" |
 *   0x7e (footer) be32 0 | 0x04 be32 1 0x0b "mc146818rtc" be32 0 be32 3
 *   cmos_data[128] cmos_index | 0x7e be32 1 | 0x00 (QEMU_VM_EOF)
 * (fake-dev's be32 payload length stands in for what QEMU's vmstate knows;
 * the RTC's section is laid out as QEMU's begins, cmos_data first, and
 * holds the stand-in's CMOS; registers A and B are QEMU's reset values
 * 0x26 and 0x02).  A load (-incoming fd:N) reads from the descriptor's
 * position section by section, never past QEMU_VM_EOF, as QEMU does with
 * suppress-vmdesc, takes the CMOS from the RTC's section, and logs
 * "fake-qemu: loaded N bytes of device state, stopped at QEMU_VM_EOF".
 * As QEMU, it loads once its monitors answer: until then query-status says
 * "inmigrate"; the load happens right after the second query-status
 * answer (a client that asks once, at readiness, sees it still loading),
 * and then the status is "running" ("paused" with -S).
 * FAKE_QEMU_LOADED_CMOS=IDX=VAL (hex) stands for the guest's CMOS byte in
 * QEMU's RTC state of the stream: the byte is set when the stream is loaded.
 *
 * SIGTERM, SIGINT and SIGHUP: "fake-qemu: terminating on signal N", exit 0
 * (as QEMU); with FAKE_QEMU_DIE_BY_SIGNAL=1 it dies by the signal instead.
 * FAKE_QEMU_ARGV=FILE writes the argument list there, one per line.
 * FAKE_QEMU_SIGNALS=FILE writes its SigBlk and SigIgn lines of
 * /proc/self/status there (the signals it started with blocked, ignored).
 * FAKE_QEMU_EXIT=N exits with status N at once (after writing the argv).
 * FAKE_QEMU_NO_GREETING=1 accepts clients but never greets them.
 * FAKE_QEMU_NO_HMP=1 answers human-monitor-command with CommandNotFound.
 * FAKE_QEMU_REFUSE=NAME answers the command NAME with a GenericError
 * "NAME refused by the stand-in" and does nothing else.
 * FAKE_QEMU_REG_A=HEX sets its register A (QEMU resets it to 26).
 * FAKE_QEMU_SAVE_DELAY_MS=N waits N ms before each xen-save-devices-state
 * (as a QEMU that stops its machine and writes the file takes its time).
 * HMP "o /b 0x70 N" selects CMOS byte N, "o /b 0x71 V" writes it, "i /b
 * 0x71" reads it; a save logs "fake-qemu: saved; NVRAM bytes not 0: II=VV
 * ..." (what QEMU's RTC state in the stream would hold).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_MON 8
#define MAX_FDSETS 128

struct mon {
	char id[256];
	int listen_fd;
	int client;        /* -1: none */
	bool negotiated;
	char buf[65536];
	struct json_tokener *tok;
	int pending_fd;    /* from SCM_RIGHTS, for add-fd */
};

struct fake {
	struct mon mons[MAX_MON];
	size_t n_mons;
	const char *status;
	int fdsets[MAX_FDSETS]; /* fd of fdset i, -1: free */
	bool no_greeting;
	bool no_hmp;
	const char *refuse; /* FAKE_QEMU_REFUSE */
	unsigned save_delay_ms; /* FAKE_QEMU_SAVE_DELAY_MS: before a device-state save */
	uint8_t cmos[128];
	uint8_t cmos_index;
	int incoming_fd;        /* -1: none, or not yet loaded */
	unsigned incoming_queries; /* query-status answered while loading */
	const char *after_load; /* status once loaded */
};

#define FAKE_STREAM_LEN 209

static const uint8_t stream_head[] = {
	'Q', 'E', 'V', 'M', 0, 0, 0, 3,
	0x04, 0, 0, 0, 0, 8, 'f', 'a', 'k', 'e', '-', 'd', 'e', 'v',
	0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 10,
	'F', 'A', 'K', 'E', '-', 'S', 'T', 'A', 'T', 'E',
	0x7e, 0, 0, 0, 0,
	0x04, 0, 0, 0, 1, 11, 'm', 'c', '1', '4', '6', '8', '1', '8', 'r', 't', 'c',
	0, 0, 0, 0, 0, 0, 0, 3,
};

static void load_incoming(struct fake *f);

static void fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->n_mons; i++)
		json_tokener_free(f->mons[i].tok);
}

static void die(const char *msg)
{
	fprintf(stderr, "fake-qemu: %s\n", msg);
	exit(1);
}

/* "key=value" in a QEMU option string (no ",," escapes); NULL if absent. */
static const char *opt_val(const char *s, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = s; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = strcspn(p + kl + 1, ",");

			snprintf(out, len, "%.*s", (int)vl, p + kl + 1);
			return out;
		}
	}
	return NULL;
}

static int listen_path(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		die("cannot listen on a chardev path");
	return fd;
}

static void send_msg(struct mon *m, const char *text)
{
	char line[4096];
	int n = snprintf(line, sizeof(line), "%s\r\n", text);

	if (m->client >= 0 && n > 0)
		(void)!send(m->client, line, (size_t)n, MSG_NOSIGNAL);
}

static void event_all(struct fake *f, const char *name, const char *data)
{
	char msg[512];

	snprintf(msg, sizeof(msg),
	         "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 0}, "
	         "\"event\": \"%s\"%s%s}",
	         name, data ? ", \"data\": " : "", data ? data : "");
	for (size_t i = 0; i < f->n_mons; i++)
		if (f->mons[i].negotiated)
			send_msg(&f->mons[i], msg);
}

static void reply(struct mon *m, const char *ret, struct json_object *id)
{
	char msg[1024];

	if (id)
		snprintf(msg, sizeof(msg), "{\"return\": %s, \"id\": %s}", ret,
		         json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN));
	else
		snprintf(msg, sizeof(msg), "{\"return\": %s}", ret);
	send_msg(m, msg);
}

static void error(struct mon *m, const char *cls, const char *desc, struct json_object *id)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "{\"error\": {\"class\": \"%s\", \"desc\": \"%s\"}%s%s}", cls,
	         desc, id ? ", \"id\": " : "",
	         id ? json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN) : "");
	send_msg(m, msg);
}

static int save_to(struct fake *f, const char *filename, char *why, size_t len)
{
	int fd, own = 0;
	unsigned set;

	if (sscanf(filename, "/dev/fdset/%u", &set) == 1) {
		if (set >= MAX_FDSETS || f->fdsets[set] < 0) {
			snprintf(why, len, "Could not open '%s': No such file or directory", filename);
			return -1;
		}
		/* Like QEMU: a descriptor of the set with the access mode the
		 * file is opened with (write-only), or EACCES. */
		if ((fcntl(f->fdsets[set], F_GETFL) & O_ACCMODE) != O_WRONLY) {
			snprintf(why, len, "Could not open '%s': Permission denied", filename);
			return -1;
		}
		fd = dup(f->fdsets[set]);
		own = 1;
	} else {
		fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		own = 1;
	}
	if (fd < 0) {
		snprintf(why, len, "Could not open '%s': %s", filename, strerror(errno));
		return -1;
	}
	uint8_t stream[FAKE_STREAM_LEN];
	size_t n = sizeof(stream_head);

	memcpy(stream, stream_head, n);
	memcpy(stream + n, f->cmos, 128);
	n += 128;
	stream[n++] = f->cmos_index;
	memcpy(stream + n, "\x7e\0\0\0\x01\0", 6);
	n += 6;
	if (write(fd, stream, n) != (ssize_t)n) {
		snprintf(why, len, "write failed");
		close(fd);
		return -1;
	}
	if (own)
		close(fd);
	/* One write: rtcdm's processes log to the same stderr. */
	char line[64 + 6 * 114];
	size_t at = (size_t)snprintf(line, sizeof(line), "fake-qemu: saved; NVRAM bytes not 0:");

	for (int i = 14; i < 128; i++)
		if (f->cmos[i])
			at += (size_t)snprintf(line + at, sizeof(line) - at, " %02x=%02x", i, f->cmos[i]);
	fprintf(stderr, "%s\n", line);
	return 0;
}

static void command(struct fake *f, struct mon *m, struct json_object *msg)
{
	struct json_object *exe, *id = NULL, *args = NULL, *v;
	const char *name;
	char buf[512];

	json_object_object_get_ex(msg, "id", &id);
	json_object_object_get_ex(msg, "arguments", &args);
	if (!json_object_object_get_ex(msg, "execute", &exe)) {
		error(m, "GenericError", "QMP input lacks member 'execute'", id);
		return;
	}
	name = json_object_get_string(exe);
	if (!m->negotiated) {
		if (strcmp(name, "qmp_capabilities") == 0) {
			m->negotiated = true;
			reply(m, "{}", id);
		} else {
			error(m, "CommandNotFound",
			      "Expecting capabilities negotiation with 'qmp_capabilities'", id);
		}
		return;
	}
	if (f->refuse && strcmp(name, f->refuse) == 0) {
		snprintf(buf, sizeof(buf), "%s refused by the stand-in", name);
		error(m, "GenericError", buf, id);
	} else if (strcmp(name, "qmp_capabilities") == 0) {
		error(m, "CommandNotFound", "Capabilities negotiation is already complete, command ignored", id);
	} else if (strcmp(name, "query-status") == 0) {
		snprintf(buf, sizeof(buf), "{\"status\": \"%s\", \"singlestep\": false, \"running\": %s}",
		         f->status, strcmp(f->status, "running") == 0 ? "true" : "false");
		reply(m, buf, id);
		if (f->incoming_fd >= 0 && ++f->incoming_queries == 2)
			load_incoming(f);
	} else if (strcmp(name, "query-version") == 0) {
		reply(m, "{\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"fake-qemu\"}", id);
	} else if (strcmp(name, "stop") == 0) {
		reply(m, "{}", id);
		if (strcmp(f->status, "running") == 0) {
			f->status = "paused";
			event_all(f, "STOP", NULL);
		}
	} else if (strcmp(name, "cont") == 0) {
		reply(m, "{}", id);
		if (strcmp(f->status, "running") != 0) {
			f->status = "running";
			event_all(f, "RESUME", NULL);
		}
	} else if (strcmp(name, "add-fd") == 0) {
		int set = -1;

		if (m->pending_fd < 0) {
			error(m, "GenericError", "No file descriptor supplied via SCM_RIGHTS", id);
			return;
		}
		if (args && json_object_object_get_ex(args, "fdset-id", &v))
			set = json_object_get_int(v);
		for (int i = 0; set < 0 && i < MAX_FDSETS; i++)
			if (f->fdsets[i] < 0)
				set = i;
		if (set < 0 || set >= MAX_FDSETS || f->fdsets[set] >= 0) {
			error(m, "GenericError", "fdset unavailable", id);
			return;
		}
		f->fdsets[set] = m->pending_fd;
		snprintf(buf, sizeof(buf), "{\"fdset-id\": %d, \"fd\": %d}", set, m->pending_fd);
		m->pending_fd = -1;
		reply(m, buf, id);
	} else if (strcmp(name, "remove-fd") == 0) {
		int set = args && json_object_object_get_ex(args, "fdset-id", &v) ? json_object_get_int(v) : -1;

		if (set < 0 || set >= MAX_FDSETS || f->fdsets[set] < 0) {
			error(m, "GenericError", "File descriptor named 'fdset-id' not found", id);
			return;
		}
		close(f->fdsets[set]);
		f->fdsets[set] = -1;
		reply(m, "{}", id);
	} else if (strcmp(name, "xen-save-devices-state") == 0) {
		char why[256];

		if (!args || !json_object_object_get_ex(args, "filename", &v)) {
			error(m, "GenericError", "Parameter 'filename' is missing", id);
			return;
		}
		if (f->save_delay_ms) {
			struct timespec ts = {f->save_delay_ms / 1000, (long)(f->save_delay_ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
		if (save_to(f, json_object_get_string(v), why, sizeof(why)) < 0) {
			error(m, "GenericError", why, id);
		} else {
			struct json_object *lv;
			bool live = !json_object_object_get_ex(args, "live", &lv) ||
			            json_object_get_boolean(lv);

			/* As QEMU: "live" (its default) on a machine not running
			 * hands the disks over to a migration's other side; a
			 * running machine is stopped and started again around
			 * the save (STOP and RESUME events). */
			if (live && strcmp(f->status, "running") != 0)
				fprintf(stderr, "fake-qemu: block devices inactivated (a live save "
				                "while %s)\n", f->status);
			if (strcmp(f->status, "running") == 0) {
				fprintf(stderr, "fake-qemu: machine stopped and started again for the "
				                "save\n");
				event_all(f, "STOP", NULL);
				event_all(f, "RESUME", NULL);
			}
			reply(m, "{}", id);
		}
	} else if (strcmp(name, "human-monitor-command") == 0 && !f->no_hmp) {
		const char *line = args && json_object_object_get_ex(args, "command-line", &v)
		                           ? json_object_get_string(v)
		                           : "";
		int idx;

		int val;

		if (sscanf(line, "o /b 0x70 %i", &idx) == 1) {
			f->cmos_index = (uint8_t)(idx & 0x7f);
			reply(m, "\"\"", id);
		} else if (sscanf(line, "o /b 0x71 %i", &val) == 1) {
			f->cmos[f->cmos_index] = (uint8_t)val;
			reply(m, "\"\"", id);
		} else if (strcmp(line, "i /b 0x71") == 0) {
			snprintf(buf, sizeof(buf), "\"portb[0x0071] = 0x%02x\\r\\n\"",
			         f->cmos[f->cmos_index]);
			reply(m, buf, id);
		} else {
			snprintf(buf, sizeof(buf), "\"unknown command: '%.100s'\\r\\n\"", line);
			reply(m, buf, id);
		}
	} else if (strcmp(name, "quit") == 0) {
		reply(m, "{}", id);
		event_all(f, "SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
		json_object_put(msg);
		fake_free(f);
		exit(0);
	} else {
		snprintf(buf, sizeof(buf), "The command %s has not been found", name);
		error(m, "CommandNotFound", buf, id);
	}
}

static void client_read(struct fake *f, struct mon *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = m->buf, .iov_len = sizeof(m->buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
	                    .msg_controllen = sizeof(u.buf)};
	ssize_t r = recvmsg(m->client, &mh, MSG_CMSG_CLOEXEC);

	if (r <= 0) {
		close(m->client);
		m->client = -1;
		m->negotiated = false;
		json_tokener_reset(m->tok);
		return;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			if (m->pending_fd >= 0)
				close(m->pending_fd);
			memcpy(&m->pending_fd, CMSG_DATA(c), sizeof(int));
		}
	/* A JSON stream, as QEMU parses it: messages need no line ends. */
	for (size_t off = 0; off < (size_t)r;) {
		struct json_object *msg;
		enum json_tokener_error e;

		while (off < (size_t)r && strchr(" \t\r\n", m->buf[off]))
			off++;
		if (off == (size_t)r)
			break;
		msg = json_tokener_parse_ex(m->tok, m->buf + off, (int)((size_t)r - off));
		e = json_tokener_get_error(m->tok);
		if (e == json_tokener_continue)
			break;
		if (!msg || !json_object_is_type(msg, json_type_object)) {
			error(m, "GenericError", "JSON parse error", NULL);
			json_object_put(msg);
			json_tokener_reset(m->tok);
			break;
		}
		off += json_tokener_get_parse_end(m->tok);
		json_tokener_reset(m->tok);
		command(f, m, msg);
		json_object_put(msg);
	}
}

/* Exactly n bytes of the incoming stream (counted in *got). */
static void take(int fd, void *buf, size_t n, size_t *got)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = read(fd, (uint8_t *)buf + done, n - done);

		if (r <= 0)
			die("device state stream ends early");
		done += (size_t)r;
	}
	*got += n;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* -incoming fd:N: the stream as QEMU's loader reads it, up to QEMU_VM_EOF;
 * the RTC's section gives the CMOS. */
static void load(struct fake *f, int fd)
{
	uint8_t b[256], type;
	size_t got = 0;

	take(fd, b, 8, &got);
	if (memcmp(b, "QEVM", 4) != 0 || be32(b + 4) != 3)
		die("Not a migration stream");
	for (;;) {
		take(fd, &type, 1, &got);
		if (type == 0x00)
			break;
		if (type != 0x04)
			die("Unknown savevm section type");
		take(fd, b, 5, &got);          /* section id, idstr length */
		take(fd, b + 5, b[4], &got);   /* idstr */
		if (b[4] == 11 && memcmp(b + 5, "mc146818rtc", 11) == 0) {
			take(fd, b, 8, &got);       /* instance, version */
			take(fd, f->cmos, 128, &got);
			take(fd, &f->cmos_index, 1, &got);
			take(fd, b, 5, &got);
			if (b[0] != 0x7e)
				die("Missing section footer");
			continue;
		}
		take(fd, b, 12, &got);         /* instance, version, payload length */
		if (be32(b + 8) > sizeof(b))
			die("section too large");
		take(fd, b, be32(b + 8), &got); /* payload */
		take(fd, b, 5, &got);          /* footer */
		if (b[0] != 0x7e)
			die("Missing section footer");
	}
	fprintf(stderr, "fake-qemu: loaded %zu bytes of device state, stopped at QEMU_VM_EOF\n",
	        got);
}

static void load_incoming(struct fake *f)
{
	const char *env = getenv("FAKE_QEMU_LOADED_CMOS");
	unsigned idx, val;

	load(f, f->incoming_fd);
	f->incoming_fd = -1;
	f->status = f->after_load;
	if (env && sscanf(env, "%x=%x", &idx, &val) == 2 && idx < 128)
		f->cmos[idx] = (uint8_t)val;
}

int main(int argc, char **argv)
{
	struct fake f = {.status = "running", .incoming_fd = -1};
	char chardev_ids[MAX_MON][256], chardev_paths[MAX_MON][256];
	int chardev_fds[MAX_MON];
	size_t n_chardevs = 0;
	int ram_mb = 128;
	const char *env, *chroot_dir = NULL, *runas = NULL;
	struct passwd *pw = NULL;
	sigset_t mask;
	int sfd;

	for (int i = 0; i < MAX_FDSETS; i++)
		f.fdsets[i] = -1;
	env = getenv("FAKE_QEMU_ARGV");
	if (env) {
		FILE *out = fopen(env, "w");

		if (!out)
			die("cannot write FAKE_QEMU_ARGV");
		for (int i = 0; i < argc; i++)
			fprintf(out, "%s\n", argv[i]);
		fclose(out);
	}
	env = getenv("FAKE_QEMU_SIGNALS");
	if (env) {
		FILE *in = fopen("/proc/self/status", "r"), *out = fopen(env, "w");
		char line[256];

		if (!in || !out)
			die("cannot write FAKE_QEMU_SIGNALS");
		while (fgets(line, sizeof(line), in))
			if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0)
				fputs(line, out);
		fclose(in);
		fclose(out);
	}
	env = getenv("FAKE_QEMU_EXIT");
	if (env) {
		fprintf(stderr, "fake-qemu: exiting at once with status %d\n", atoi(env));
		return atoi(env);
	}
	f.no_greeting = getenv("FAKE_QEMU_NO_GREETING") != NULL;
	f.no_hmp = getenv("FAKE_QEMU_NO_HMP") != NULL;
	f.refuse = getenv("FAKE_QEMU_REFUSE");
	env = getenv("FAKE_QEMU_SAVE_DELAY_MS");
	f.save_delay_ms = env ? (unsigned)atoi(env) : 0;
	for (int i = 1; i < argc; i++) {
		char val[256];

		if (strcmp(argv[i], "-S") == 0) {
			f.status = "prelaunch";
		} else if (strcmp(argv[i], "-chardev") == 0 && i + 1 < argc) {
			const char *s = argv[++i];

			if (strncmp(s, "socket,", 7) != 0 || n_chardevs == MAX_MON)
				continue;
			snprintf(chardev_ids[n_chardevs], 256, "%s",
			         opt_val(s, "id", val, sizeof(val)) ? val : "");
			chardev_paths[n_chardevs][0] = '\0';
			chardev_fds[n_chardevs] = -1;
			if (opt_val(s, "path", val, sizeof(val)))
				snprintf(chardev_paths[n_chardevs], 256, "%s", val);
			else if (opt_val(s, "fd", val, sizeof(val)))
				chardev_fds[n_chardevs] = atoi(val);
			n_chardevs++;
		} else if (strcmp(argv[i], "-mon") == 0 && i + 1 < argc) {
			const char *s = argv[++i];

			if (!opt_val(s, "chardev", val, sizeof(val)) || f.n_mons == MAX_MON)
				die("-mon without chardev=");
			for (size_t c = 0; c < n_chardevs; c++) {
				if (strcmp(chardev_ids[c], val) != 0)
					continue;
				struct mon *m = &f.mons[f.n_mons++];

				snprintf(m->id, sizeof(m->id), "%s", val);
				m->client = -1;
				m->pending_fd = -1;
				m->tok = json_tokener_new();
				m->listen_fd = chardev_fds[c] >= 0 ? chardev_fds[c]
				                                   : listen_path(chardev_paths[c]);
				fcntl(m->listen_fd, F_SETFD, FD_CLOEXEC);
			}
		} else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
			ram_mb = atoi(argv[++i]);
		} else if (strcmp(argv[i], "-add-fd") == 0 && i + 1 < argc) {
			/* as QEMU's parse_add_fd: an inherited descriptor (not a
			 * standard stream, FD_CLOEXEC clear), duplicated into the set */
			int fd = opt_val(argv[i + 1], "fd", val, sizeof(val)) ? atoi(val) : -1;
			int set = opt_val(argv[i + 1], "set", val, sizeof(val)) ? atoi(val) : -1;
			int fl = fd > 2 ? fcntl(fd, F_GETFD) : -1;

			i++;
			if (fl < 0 || (fl & FD_CLOEXEC) || set < 0 || set >= MAX_FDSETS ||
			    f.fdsets[set] >= 0)
				die("-add-fd: fd is not valid or already in use");
			f.fdsets[set] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
			close(fd);
		} else if (strcmp(argv[i], "-chroot") == 0 && i + 1 < argc) {
			chroot_dir = argv[++i];
		} else if (strcmp(argv[i], "-runas") == 0 && i + 1 < argc) {
			runas = argv[++i];
		} else if (strcmp(argv[i], "-incoming") == 0 && i + 1 < argc) {
			const char *s = argv[++i];

			if (strncmp(s, "fd:", 3) != 0)
				die("-incoming: only fd:N");
			f.incoming_fd = atoi(s + 3);
		}
	}
	/* As QEMU's os_setup_post: the monitors are open, then the chroot
	 * (its own "/" from now on) and the user, for good. */
	if (runas) {
		pw = getpwnam(runas);
		if (!pw)
			die("-runas: no such user");
	}
	if (chroot_dir && (chroot(chroot_dir) < 0 || chdir("/") < 0))
		die("-chroot");
	if (pw && (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0))
		die("-runas");
	if (f.incoming_fd >= 0) {
		f.after_load = strcmp(f.status, "prelaunch") == 0 ? "paused" : "running";
		f.status = "inmigrate";
	}
	/* QEMU's pc_cmos_init: (RAM - 16 MiB) / 64 KiB */
	f.cmos[0x34] = (uint8_t)(((ram_mb - 16) * 16) & 0xff);
	f.cmos[0x35] = (uint8_t)(((ram_mb - 16) * 16) >> 8);
	f.cmos[0x3d] = 0x02;
	f.cmos[0x0a] = 0x26; /* QEMU's reset values of registers A and B */
	f.cmos[0x0b] = 0x02;
	env = getenv("FAKE_QEMU_REG_A");
	if (env)
		f.cmos[0x0a] = (uint8_t)strtoul(env, NULL, 16);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	for (;;) {
		struct pollfd p[1 + 2 * MAX_MON];
		size_t n = 0;

		p[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		for (size_t i = 0; i < f.n_mons; i++) {
			struct mon *m = &f.mons[i];

			/* one client at a time, as a chardev socket server */
			p[n++] = (struct pollfd){.fd = m->client >= 0 ? m->client : m->listen_fd,
			                         .events = POLLIN};
		}
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				fprintf(stderr, "fake-qemu: terminating on signal %u\n", si.ssi_signo);
				if (getenv("FAKE_QEMU_DIE_BY_SIGNAL")) {
					signal((int)si.ssi_signo, SIG_DFL);
					sigprocmask(SIG_UNBLOCK, &mask, NULL);
					raise((int)si.ssi_signo);
				}
				fake_free(&f);
				return 0;
			}
		}
		for (size_t i = 0; i < f.n_mons; i++) {
			struct mon *m = &f.mons[i];

			if (!p[1 + i].revents)
				continue;
			if (m->client < 0) {
				m->client = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
				if (m->client >= 0 && !f.no_greeting)
					send_msg(m, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, "
					            "\"minor\": 2, \"major\": 7}, \"package\": "
					            "\"Debian 1:7.2+dfsg-7+deb12u1\"}, \"capabilities\": "
					            "[\"oob\"]}}");
			} else {
				client_read(&f, m);
			}
		}
	}
}
