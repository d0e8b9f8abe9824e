/* Results glexec may reuse across launches (the compiled seccomp filter, verified proxies),
 * kept in GLEXEC_LOCALSTATEDIR/cache/glexec-ng.
 *
 * Whoever can write that directory could hand glexec a result of their choosing, so it must
 * be root's along its whole path (gx_open_trusted_dir), and each entry root's and writable by
 * nobody else. Entries are named by a SHA-256 over what they were made from and over this
 * glexec binary, and carry a checksum of their own: a missing, foreign, torn or damaged entry
 * is never used, only remade. Using the cache needs root (the setuid binary); a failure of
 * the cache only costs the work it would have saved. */
#pragma once

#include <stddef.h>
#include <time.h>

#define CACHE_ENTRY_NAME_MAX (16 + 1 + 64 + 1)

/* The cache directory, created on first use when its parent is trusted; -1 if unusable
 * (what names the user of the cache in the warning about an untrusted directory). */
int cache_dir_open(const char *what);

/* "<kind>-" and the hex SHA-256 of this glexec's version and installed file, the libcrypto
 * it runs with and the verifier's installed file (so that a rebuilt or updated program never
 * takes its predecessor's results) and of the parts. kind: at most 16 characters. */
int cache_entry_name(const char *kind, const void *const *parts, const size_t *lens, size_t n,
                     char ret[CACHE_ENTRY_NAME_MAX]);

/* The whole entry name in dir, if it is a regular file of root's that nobody else may write,
 * of at most max bytes, starting with a header of header_size bytes whose first 8 are magic;
 * the header is copied to *header. -1 otherwise (the caller frees *ret). */
int cache_entry_read(int dir, const char *name, const char magic[8], void *header,
                     size_t header_size, size_t max, char **ret, size_t *ret_len);

/* Write the parts as entry name: under a private name first, then renamed over it, so that
 * readers see a whole entry or none. mtime, if not NULL, becomes the entry's modification
 * time. Failures are silent: the next launch redoes the work. */
void cache_entry_write(int dir, const char *name, const void *const *parts, const size_t *lens,
                       size_t n, const struct timespec *mtime);
