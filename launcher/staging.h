/* --stage-in and --stage-out (SPEC section 3): files moved between the caller's world and
 * the payload's sandbox, each side accessed with its owner's rights only, by helper processes
 * that switch fully to that owner (sandbox/transfer.h). */
#pragma once

#include "common/error.h"
#include "launch.h"

/* Before the payload: check every --stage-out NAME (a relative path of plain names, no ".."),
 * then copy every --stage-in path, read with the caller's rights (the path itself may be a
 * symlink; symlinks inside a tree are copied as links, never followed), into the sandbox,
 * owned by the target, under the path's last component. Errors: a bad NAME, a missing or
 * unreadable source, or a name already taken in the sandbox is GX_CLIENT. */
int staging_in(const struct launch *l, int sandbox_fd, struct gx_error *err);

/* After the payload has ended: copy every --stage-out entry of the sandbox, read with the
 * target's rights, into the caller's current directory under its last component, written with
 * the caller's rights: only regular files and directories, never following or copying a link
 * the payload planted, never replacing an entry that is not the caller's own regular file or
 * directory, without group or other write permission. Each failure is logged and told to the
 * caller on stderr here; the return value only summarises them. */
int staging_out(const struct launch *l, int sandbox_fd, struct gx_error *err);
