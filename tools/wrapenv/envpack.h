/* The GLEXEC_ENV format of gLExec's glexec_wrapenv.pl and glexec_unwrapenv.pl, so that either
 * side can be the old script or ours:
 *
 *     GLEXEC_ENV = base64( zlib-deflate( base64(K1=V1) " " base64(K2=V2) " " ... ) )
 *
 * base64 is the standard alphabet with padding and without line breaks; zlib is the zlib
 * container (RFC 1950). Every byte of a value but NUL round-trips: newlines, quotes, '=' and
 * spaces included, since each KEY=VALUE is base64-encoded on its own. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Inflated size above which a packed environment is refused: no exec could take more. */
#define ENVPACK_MAX_DECODED (4u << 20)

/* Pack vars ("KEY=VALUE" strings, NULL-terminated) into a malloc'd NUL-terminated string. */
int envpack_encode(char *const *vars, char **ret);

/* Unpack text (len bytes; ASCII white space is ignored) into a NULL-terminated vector of
 * malloc'd "KEY=VALUE" strings, free with envpack_free. Every entry has a non-empty KEY and
 * no NUL. Errors: -EINVAL malformed, -E2BIG too large, -ENOMEM. */
int envpack_decode(const char *text, size_t len, char ***ret);

void envpack_free(char **vars);

/* What glexec sets for the payload itself, never packed nor unpacked: HOME, LOGNAME, USER,
 * X509_USER_PROXY and "_" (as in gLExec's scripts). NULL-terminated. */
extern const char *const envpack_default_excludes[];

/* Add the names of one --exclude value ("A,B,...") to the NULL-terminated list *list of *n
 * malloc'd names. */
int envpack_exclude_add(char ***list, size_t *n, const char *names);

/* Add envpack_default_excludes, where both tools start. */
int envpack_exclude_defaults(char ***list, size_t *n);

/* The exclusion option both tools take, "--exclude=A,B" or "--exclude A,B", at argv[*i]:
 * returns 1 when it was one (*i moved past its value), 0 when not, or a negative errno. */
int envpack_exclude_option(int argc, char **argv, int *i, char ***list, size_t *n);

/* Is the variable var ("NAME=value" or "NAME") named in list? Names match exactly. (gLExec's
 * scripts used each variable's name as a regular expression against the excluded names, so
 * a variable whose name occurs inside an excluded one was dropped too: PATH when
 * LD_LIBRARY_PATH was excluded, PROXY always. That was never documented behaviour.) */
bool envpack_excluded(char *const *list, const char *var);
