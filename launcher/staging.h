/* --stage-in and --stage-out (SPEC section 3): files moved between the caller's world and
 * the payload's sandbox, each side accessed with its owner's rights only. */
#pragma once

#include "common/error.h"
#include "launch.h"

/* Copy every --stage-in path (read with the caller's rights, symlinks never followed out of
 * the source tree) into the sandbox, owned by the target. Errors: missing or unreadable
 * source is GX_CLIENT. */
int staging_in(const struct launch *l, int sandbox_fd, struct gx_error *err);

/* After the payload has ended: copy every --stage-out entry of the sandbox into the caller's
 * current directory, owned by the caller, never following a link the payload planted and
 * never overwriting a file the caller does not own. */
int staging_out(const struct launch *l, int sandbox_fd, struct gx_error *err);
