/* store_dir.c — the store interface over a directory tree (store_dir.h). */
#include "toolstack/xenstore/store_dir.h"
#include "toolstack/xenstore/watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define VALUE_NAME ".value"
#define DIR_MASK                                                                         \
	(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR | \
	 IN_DONT_FOLLOW | IN_EXCL_UNLINK)

struct dir_watch {
	int wd;
	char *node; /* node path of the directory ("/" for the root) */
};

struct store_dir {
	struct store base;
	char *root;
	int ifd, epfd;
	struct dir_watch *dirs;
	size_t n_dirs;
	struct xs_watches w;
};

static struct store_dir *dir_of(struct store *s)
{
	return (struct store_dir *)s;
}

/* xenstored's path rules, plus: no component starting with '.'. */
static bool path_ok(const char *path)
{
	return xs_path_ok(path) && !strstr(path, "/.");
}

/* ROOT + node path into buf.  0 or -1 (ENAMETOOLONG). */
static int fs_path(const struct store_dir *d, const char *node, const char *leaf, char *buf,
                   size_t len)
{
	int n = snprintf(buf, len, "%s%s%s%s", d->root, strcmp(node, "/") ? node : "",
	                 leaf ? "/" : "", leaf ? leaf : "");
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Child node path of `node` named `name`. */
static int child_node(const char *node, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", strcmp(node, "/") ? node : "", name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---- directory watches ----------------------------------------------------------- */

static struct dir_watch *find_wd(struct store_dir *d, int wd)
{
	for (size_t i = 0; i < d->n_dirs; i++)
		if (d->dirs[i].wd == wd)
			return &d->dirs[i];
	return NULL;
}

static void drop_wd(struct store_dir *d, int wd)
{
	for (size_t i = 0; i < d->n_dirs; i++) {
		if (d->dirs[i].wd == wd) {
			free(d->dirs[i].node);
			d->dirs[i] = d->dirs[--d->n_dirs];
			return;
		}
	}
}

/* Watch the directory of `node` and, recursively, what is below it.  With
 * `report`, values found are reported as writes (a tree that appeared
 * between inotify events). */
static void watch_tree(struct store_dir *d, const char *node, bool report, unsigned depth)
{
	char fs[PATH_MAX], child[STORE_MAX_PATH + 2];

	if (depth > 64 || fs_path(d, node, NULL, fs, sizeof(fs)) < 0)
		return;
	int wd = inotify_add_watch(d->ifd, fs, DIR_MASK);
	if (wd < 0)
		return;
	struct dir_watch *w = find_wd(d, wd);
	if (w) {
		/* Same directory again (a rename): refresh its node path. */
		char *n = strdup(node);
		if (n) {
			free(w->node);
			w->node = n;
		}
	} else if (d->n_dirs < STORE_DIR_MAX_DIRS) {
		char *n = strdup(node);
		if (!n) {
			inotify_rm_watch(d->ifd, wd);
			return;
		}
		d->dirs[d->n_dirs].wd = wd;
		d->dirs[d->n_dirs].node = n;
		d->n_dirs++;
	} else {
		inotify_rm_watch(d->ifd, wd);
		return;
	}
	DIR *dir = opendir(fs);
	if (!dir)
		return;
	for (struct dirent *e = readdir(dir); e; e = readdir(dir)) {
		if (report && strcmp(e->d_name, VALUE_NAME) == 0) {
			xs_watches_fire(&d->w, node, false);
			continue;
		}
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		if (child_node(node, e->d_name, child, sizeof(child)) == 0 && path_ok(child))
			watch_tree(d, child, report, depth + 1);
	}
	closedir(dir);
}

/* Turn pending inotify records into watch events. */
static void read_inotify(struct store_dir *d)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	char node[STORE_MAX_PATH + 2];

	for (;;) {
		ssize_t n = read(d->ifd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_IGNORED) {
				drop_wd(d, ev->wd);
				continue;
			}
			const struct dir_watch *w = find_wd(d, ev->wd);
			if (!w || !ev->len)
				continue;
			char parent[STORE_MAX_PATH + 2];
			snprintf(parent, sizeof(parent), "%s", w->node);
			if (strcmp(ev->name, VALUE_NAME) == 0) {
				if (ev->mask & (IN_MOVED_TO | IN_CLOSE_WRITE))
					xs_watches_fire(&d->w, parent, false);
				continue;
			}
			if (ev->name[0] == '.' || !(ev->mask & IN_ISDIR) ||
			    child_node(parent, ev->name, node, sizeof(node)) < 0 || !path_ok(node))
				continue;
			if (ev->mask & (IN_CREATE | IN_MOVED_TO))
				watch_tree(d, node, true, 0);
			else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
				xs_watches_fire(&d->w, node, true);
		}
	}
}

/* ---- store operations ------------------------------------------------------------- */

static char *dir_read(struct store *s, const char *path)
{
	struct store_dir *d = dir_of(s);
	char fs[PATH_MAX];
	struct stat st;

	if (!path_ok(path)) {
		errno = EINVAL;
		return NULL;
	}
	if (fs_path(d, path, NULL, fs, sizeof(fs)) < 0)
		return NULL;
	if (lstat(fs, &st) < 0)
		return NULL; /* errno: ENOENT for a missing node */
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOENT;
		return NULL;
	}
	if (fs_path(d, path, VALUE_NAME, fs, sizeof(fs)) < 0)
		return NULL;
	int fd = open(fs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? strdup("") : NULL;
	char *v = malloc(STORE_MAX_VALUE + 1);
	size_t got = 0;
	if (!v) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, v + got, STORE_MAX_VALUE - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == STORE_MAX_VALUE)
			break;
	}
	close(fd);
	v[got] = '\0';
	return v;
}

/* mkdir -p for the directory of node (mode 0700). */
static int make_node_dirs(struct store_dir *d, const char *node)
{
	char fs[PATH_MAX];
	size_t rootlen = strlen(d->root);

	if (fs_path(d, node, NULL, fs, sizeof(fs)) < 0)
		return -1;
	for (char *p = fs + rootlen + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(fs, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

/* Parent node path of `node` (not the root). */
static void parent_node(const char *node, char *buf, size_t len)
{
	snprintf(buf, len, "%s", node);
	char *slash = strrchr(buf, '/');
	if (slash == buf)
		slash[1] = '\0'; /* a child of the root */
	else if (slash)
		*slash = '\0';
}

/* Write `value` as dir/.value: a temporary file beside it, renamed over it.
 * Fails with ENOENT when `dir` does not exist (any more). */
static int write_value_in(const char *dir, const char *value, size_t len)
{
	char fs[PATH_MAX], tmp[PATH_MAX];

	if ((size_t)snprintf(fs, sizeof(fs), "%s/" VALUE_NAME, dir) >= sizeof(fs) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/" VALUE_NAME ".XXXXXX", dir) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	const char *p = value;
	size_t left = len;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			unlink(tmp);
			errno = e;
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	if (close(fd) < 0 || rename(tmp, fs) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/*
 * A node appears together with its value, as with xenstored: a reader (or a
 * watch firing at that moment) must never find a new node still empty, or a
 * half-written settimeoffset would be read as "" and refused.  An existing
 * node gets its value replaced in place; a new one is built in a hidden
 * directory beside it (names starting with '.' are not nodes) and renamed
 * into place.  If the node appears or vanishes in between, try again.
 */
static int dir_write(struct store *s, const char *path, const char *value)
{
	struct store_dir *d = dir_of(s);
	char node_fs[PATH_MAX], parent[STORE_MAX_PATH + 2], fresh[PATH_MAX];
	size_t len = strlen(value);

	if (!path_ok(path) || strcmp(path, "/") == 0 || len > STORE_MAX_VALUE) {
		errno = EINVAL;
		return -1;
	}
	parent_node(path, parent, sizeof(parent));
	if ((strcmp(parent, "/") && make_node_dirs(d, parent) < 0) ||
	    fs_path(d, path, NULL, node_fs, sizeof(node_fs)) < 0 ||
	    fs_path(d, parent, ".new.XXXXXX", fresh, sizeof(fresh)) < 0)
		return -1;
	for (int tries = 0; tries < 8; tries++) {
		if (write_value_in(node_fs, value, len) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
		char tmpdir[PATH_MAX];
		memcpy(tmpdir, fresh, sizeof(tmpdir));
		if (!mkdtemp(tmpdir))
			return -1;
		if (write_value_in(tmpdir, value, len) == 0 && rename(tmpdir, node_fs) == 0)
			return 0;
		int e = errno;
		char leftover[PATH_MAX];
		if ((size_t)snprintf(leftover, sizeof(leftover), "%s/" VALUE_NAME, tmpdir) <
		    sizeof(leftover))
			unlink(leftover);
		rmdir(tmpdir);
		if (e != EEXIST && e != ENOTEMPTY) {
			errno = e;
			return -1;
		}
		/* The node was created meanwhile: replace its value instead. */
	}
	errno = EAGAIN;
	return -1;
}

/* Remove dirfd/name and everything below it (no symlink is followed). */
static int remove_tree_at(int dirfd, const char *name, unsigned depth)
{
	if (depth > 64) {
		errno = ELOOP;
		return -1;
	}
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	if (errno != ENOTEMPTY && errno != EEXIST)
		return unlinkat(dirfd, name, 0);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -1;
	}
	int rc = 0;
	for (struct dirent *e = readdir(dir); e; e = readdir(dir)) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_type == DT_DIR) {
			if (remove_tree_at(fd, e->d_name, depth + 1) < 0)
				rc = -1;
		} else if (unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT) {
			rc = -1;
		}
	}
	closedir(dir);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

static int dir_rm(struct store *s, const char *path)
{
	struct store_dir *d = dir_of(s);
	char fs[PATH_MAX];

	if (!path_ok(path) || strcmp(path, "/") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (fs_path(d, path, NULL, fs, sizeof(fs)) < 0)
		return -1;
	/* Atomic for readers and writers, as with xenstored: the node leaves
	 * the tree at once under a hidden name in its parent (replacing an
	 * empty directory made for it), and is deleted from there. */
	char parent[STORE_MAX_PATH + 2], gone[PATH_MAX];
	parent_node(path, parent, sizeof(parent));
	if (fs_path(d, parent, ".gone.XXXXXX", gone, sizeof(gone)) < 0)
		return -1;
	if (!mkdtemp(gone))
		return errno == ENOENT ? 0 : -1; /* no parent: no node */
	if (rename(fs, gone) < 0) {
		int e = errno;
		rmdir(gone);
		if (e == ENOENT)
			return 0;
		if (e != ENOTDIR) {
			errno = e;
			return -1;
		}
		return remove_tree_at(AT_FDCWD, fs, 0); /* not a node directory */
	}
	return remove_tree_at(AT_FDCWD, gone, 0);
}

static int dir_watch(struct store *s, const char *path, const char *token)
{
	struct store_dir *d = dir_of(s);

	if (!path_ok(path)) {
		errno = EINVAL;
		return -1;
	}
	if (xs_watches_check(&d->w, path, token) < 0)
		return -1;
	/* Changes made before the watch existed are not reported: take the
	 * inotify records pending now first. */
	read_inotify(d);
	return xs_watches_add(&d->w, path, token);
}

static int dir_unwatch(struct store *s, const char *path, const char *token)
{
	return xs_watches_remove(&dir_of(s)->w, path, token);
}

static int dir_fd(struct store *s)
{
	return dir_of(s)->epfd;
}

static int dir_dispatch(struct store *s, store_watch_cb *cb, void *arg)
{
	struct store_dir *d = dir_of(s);

	if (xs_watches_clear_fd(&d->w) < 0)
		return -1;
	read_inotify(d);
	if (xs_watches_clear_fd(&d->w) < 0)
		return -1;
	return xs_watches_deliver(&d->w, cb, arg);
}

static void dir_close(struct store *s)
{
	struct store_dir *d = dir_of(s);

	for (size_t i = 0; i < d->n_dirs; i++)
		free(d->dirs[i].node);
	free(d->dirs);
	xs_watches_free(&d->w);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->ifd >= 0)
		close(d->ifd);
	free(d->root);
	free(d);
}

static const struct store_ops dir_ops = {
	.read = dir_read,
	.write = dir_write,
	.rm = dir_rm,
	.watch = dir_watch,
	.unwatch = dir_unwatch,
	.fd = dir_fd,
	.dispatch = dir_dispatch,
	.close = dir_close,
};

struct store *store_dir_open(const char *root, char *err, size_t errlen)
{
	struct store_dir *d = calloc(1, sizeof(*d));
	struct stat st;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->base.ops = &dir_ops;
	d->ifd = d->epfd = -1;
	d->w.efd = -1;
	if (!root || !*root) {
		snprintf(err, errlen, "simulated xenstore: empty directory name");
		goto fail;
	}
	if (mkdir(root, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "simulated xenstore '%s': %s", root, strerror(errno));
		goto fail;
	}
	if (lstat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "simulated xenstore '%s': not a directory", root);
		goto fail;
	}
	d->root = realpath(root, NULL);
	d->dirs = calloc(STORE_DIR_MAX_DIRS, sizeof(*d->dirs));
	if (!d->root || !d->dirs ||
	    xs_watches_init(&d->w, STORE_DIR_MAX_WATCHES, STORE_DIR_MAX_EVENTS, true) < 0) {
		snprintf(err, errlen, "simulated xenstore '%s': %s", root, strerror(errno));
		goto fail;
	}
	d->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->ifd < 0 || d->epfd < 0) {
		snprintf(err, errlen, "simulated xenstore: %s", strerror(errno));
		goto fail;
	}
	struct epoll_event ev = {.events = EPOLLIN};
	ev.data.fd = d->ifd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->ifd, &ev) < 0)
		goto fail_errno;
	ev.data.fd = d->w.efd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->w.efd, &ev) < 0)
		goto fail_errno;
	watch_tree(d, "/", false, 0);
	if (d->n_dirs == 0) {
		snprintf(err, errlen, "simulated xenstore '%s': cannot watch it: %s", root,
		         strerror(errno));
		goto fail;
	}
	return &d->base;
fail_errno:
	snprintf(err, errlen, "simulated xenstore: %s", strerror(errno));
fail:
	dir_close(&d->base);
	return NULL;
}
