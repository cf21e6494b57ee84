/*
 * store_dir.h — the store interface (xs.h) over a directory tree, so that a
 * separate process (a test, the demo) can play the toolstack against a
 * device model on the simulated platform through plain files.
 *
 * Layout under ROOT: node /a/b is the directory ROOT/a/b; its value is the
 * file ROOT/a/b/.value (missing: the empty value, as a node xenstored
 * created implicitly).  A value is replaced atomically: written to a
 * temporary file in the node's directory, then renamed over .value.  A node
 * is removed with its whole directory.  Path components must follow
 * xenstored's rules and must not start with '.' (that name space belongs
 * to the store itself; it also keeps "." and ".." out).
 *
 * Watches follow xs.h (xenstored's semantics) and are fed by inotify on
 * every directory of the tree: a value landing in .value is a write of that
 * node, a directory leaving is a removal of that subtree.  Writes by any
 * process sharing ROOT are seen, including the store's own.  Creating a
 * directory alone fires nothing: a node counts as written when its value
 * lands, so a watcher never sees a half-made node.  Events still pending
 * for the same path and token are not queued twice (a recursive removal
 * reaches a watch once per directory level).
 */
#ifndef RTCDM_STORE_DIR_H
#define RTCDM_STORE_DIR_H

#include <stddef.h>

#include "toolstack/xenstore/store.h"

/* Directories watched at most (further ones are used but not watched). */
#define STORE_DIR_MAX_DIRS 4096u
#define STORE_DIR_MAX_WATCHES 128u
#define STORE_DIR_MAX_EVENTS 1024u

/* Open (creating ROOT with mode 0700 when missing; its parent must exist).
 * NULL with a one-line reason in err. */
struct store *store_dir_open(const char *root, char *err, size_t errlen);

#endif
