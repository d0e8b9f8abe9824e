/* The payload's seccomp filter, compiled at most once per profile text and host. */
#pragma once

#include "common/error.h"
#include "sandbox/seccomp.h"

/* Compile the profile at profile_path (root-owned along its path), or take the program
 * compiled from the same bytes on the same host by an earlier launch from the cache
 * directory, GLEXEC_LOCALSTATEDIR/cache/glexec-ng. Errors are the profile's (GX_SYSTEM); a
 * missing, unusable or damaged cache only means compiling (and, when root, storing). */
int seccomp_filter_get(const char *profile_path, struct sc_filter *ret, struct gx_error *err);
