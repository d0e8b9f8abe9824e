/* SHA-256 for the setuid front end: audit chain, cache entry names, lease names. */
#pragma once

#include <stddef.h>

/* The digest of the concatenation of parts[0..n). */
void gx_sha256(const void *const *parts, const size_t *lens, size_t n, unsigned char ret[32]);

/* The digest of data as 64 lowercase hex digits and a NUL. */
void gx_sha256_hex(const void *data, size_t len, char ret[65]);

/* The shared library OpenSSL's SHA-256 was loaded from, "" when it is linked into the
 * program, NULL if unknown. */
const char *gx_sha256_library(void);
