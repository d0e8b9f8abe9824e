/* The per-launch sandbox directory: created exclusively below a root-owned base, owned by the
 * target, removed without ever following a link the payload planted. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* Open the base directory. A privileged launcher needs it root-owned along its path. An
 * unprivileged one (declare-only without the setuid bit) accepts a base owned by the caller
 * and writable only by it, or a root-owned sticky directory (like /tmp). */
int stage_open_base(const char *base, bool privileged, struct gx_error *err);

/* Create base/name (mode 0700, owned by uid:gid through the fd). Fails if it exists: a name
 * someone else created is never adopted. Returns an O_DIRECTORY fd. */
int stage_create(int base_fd, const char *name, uid_t uid, gid_t gid, struct gx_error *err);

/* Remove base/name and everything below it, with *at() calls on fds and AT_SYMLINK_NOFOLLOW,
 * never crossing into another file system. */
int stage_remove(int base_fd, const char *name, struct gx_error *err);
