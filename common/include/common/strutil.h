/* String helpers: bounded copies, comma lists, escaping of caller strings for logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Copy src into dst (size n); -ENAMETOOLONG if it does not fit. */
int gx_strlcpy(char *dst, const char *src, size_t n);

/* Escape everything that is not printable ASCII (and backslash and double quote) as \xHH,
 * so that a caller-supplied string can never inject a newline or terminal control into a
 * log line. Truncates with "..." when dst is too small. */
void gx_escape(char *dst, size_t n, const char *src);

/* A NULL-terminated vector of malloc'd strings. */
char **gx_strv_split(const char *list, char sep);
void gx_strv_free(char **v);
size_t gx_strv_len(char *const *v);
bool gx_strv_contains(char *const *v, const char *s);
int gx_strv_push(char ***v, const char *s);

/* Remove leading and trailing whitespace in place; returns s. */
char *gx_strstrip(char *s);

bool gx_startswith(const char *s, const char *prefix);

/* Does the fixed-size field s (size bytes) hold a NUL, i.e. a string? For data that crossed a
 * process or file boundary. */
bool gx_terminated(const char *s, size_t size);

/* bytes[0..n) as 2n lowercase hex digits and a NUL in ret. */
void gx_hex(const void *bytes, size_t n, char *ret);

static inline void gx_strv_freep(char ***v) { gx_strv_free(*v); }
#define _cleanup_strv_free_ __attribute__((cleanup(gx_strv_freep)))
