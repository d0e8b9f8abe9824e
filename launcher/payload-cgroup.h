/* The payload's cgroup: the site's limits lowered by the caller's requests, placed below the
 * caller's own cgroup (or cgroup_parent), with accounting read back at the end. */
#pragma once

#include "common/error.h"
#include "launch.h"
#include "sandbox/cgroup.h"

struct launch_limits {
        struct cg_parent *parent;
        struct cg *cg; /* NULL when the tree allows none and require_cgroup = no */
};

/* The limits in force: the site maximum, or the caller's lower request. */
void limits_effective(const struct launch *l, struct cg_limits *ret);

/* Remove cgroups of dead launches in the parent (liveness from the lock files in base_fd),
 * then create this launch's cgroup. Sets l->cgroup. */
int limits_create(struct launch *l, int base_fd, struct launch_limits *ret, struct gx_error *err);

/* Read usage into l->result (CPU, peak memory, OOM). */
void limits_read_usage(struct launch *l, const struct launch_limits *ll);

/* Kill what is left in the cgroup and remove it. */
void limits_finish(struct launch *l, struct launch_limits *ll);

/* glexec --cleanup: remove the cgroups of dead launches below cgroup_parent (for "auto", the
 * calling process's cgroup). */
int limits_sweep(const struct config *cfg, int base_fd, unsigned *ret_removed,
                 struct gx_error *err);
