/* File-descriptor helpers: EINTR-safe I/O, bounded reads, and opening root-owned files
 * through a symlink-checked walk. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/error.h"

ssize_t gx_read_full(int fd, void *buf, size_t len);
int gx_write_full(int fd, const void *buf, size_t len);

/* Read all of fd (at most max bytes; more is -EFBIG) into a NUL-terminated malloc'd buffer. */
int gx_read_all(int fd, size_t max, char **ret_buf, size_t *ret_len);

/* Open path so that it can be trusted to carry site policy: every directory on the way and the
 * file itself must be owned by root and not writable by group or other. A root-owned
 * directory with the sticky bit (like /tmp) is accepted on the way, since no one else can
 * replace root's entries in it. Root-owned symlinks in trusted directories are followed.
 * flags are open(2) flags for the final component (O_CLOEXEC|O_NOFOLLOW are added). */
int gx_open_trusted(const char *path, int flags, struct gx_error *err);

/* The same, for a directory whose entries are created or read later with *at() calls. */
int gx_open_trusted_dir(const char *path, struct gx_error *err);

/* True if st describes something only root can change. */
bool gx_stat_is_trusted(const struct stat *st);

/* n close-on-exec pipes, or none (-errno, every pipe made so far closed again). */
int gx_pipes(int (*pipes)[2], size_t n);

/* Mark every fd from `from` upwards close-on-exec, or close it. */
int gx_cloexec_from(int from);
int gx_close_from(int from, const int *keep, size_t n_keep);
