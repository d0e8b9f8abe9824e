/* The payload side of privilege: ids, capabilities, no_new_privs. Each step is verified by
 * reading the state back. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* Become uid/gid with these supplementary groups (set_groups false: leave them, for an
 * unprivileged user namespace where setgroups is denied), then prove root cannot be regained. */
int ids_switch(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, bool set_groups,
               struct gx_error *err);

/* Clear every capability set (bounding, permitted, effective, inheritable, ambient) and check. */
int ids_drop_capabilities(struct gx_error *err);

/* Set no_new_privs and read it back. */
int ids_set_no_new_privs(struct gx_error *err);
