/* One lock file per launch, <sandbox_base>/<id>.lock, held (flock) by the supervisor and
 * its reaper for as long as the launch owns anything: a sandbox directory, a cgroup. A later
 * launch that can take the lock knows the owner is gone and may remove what it left. */
#pragma once

#include "common/error.h"

/* Create and lock this launch's file (exclusive create: never someone else's). */
int lock_create(int base_fd, const char *id, struct gx_error *err);

/* 0 if the launch is certainly dead (its lock can be taken), 1 if alive or unknown. */
int lock_is_alive(int base_fd, const char *id);

/* Remove what launches whose lock can be taken left in the sandbox base: their sandbox
 * directories, then their lock files. Returns how many were removed. */
unsigned lock_sweep_stale(int base_fd, const char *own_id);

void lock_remove(int base_fd, const char *id);
