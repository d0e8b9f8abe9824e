#include "payload-cgroup.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/strutil.h"
#include "lock.h"
#include "log.h"

static uint64_t lower(uint64_t site, uint64_t requested)
{
        if (requested && (!site || requested < site))
                return requested;
        return site;
}

void limits_effective(const struct launch *l, struct cg_limits *ret)
{
        *ret = (struct cg_limits){
                .memory_max = lower(l->cfg->memory_max, l->req.memory),
                .cpu_max_milli = lower(l->cfg->cpu_max_milli, l->req.cpus_milli),
                .pids_max = lower(l->cfg->pids_max, l->req.pids),
        };
}

static int owner_alive(const char *launch_id, void *userdata)
{
        return lock_is_alive(*(const int *)userdata, launch_id);
}

int limits_create(struct launch *l, int base_fd, struct launch_limits *ret,
                  struct gx_error *err)
{
        enum cg_mode mode;
        struct cg_limits lim;
        int r;

        *ret = (struct launch_limits){0};
        r = cg_detect(&mode, err);
        if (r < 0)
                goto unavailable;
        struct cg_parent_request req = {
                .parent = l->cfg->cgroup_parent,
                .leaf_move = (enum cg_leaf_move)l->cfg->cgroup_leaf_move,
                .caller_uid = l->caller.uid,
        };
        r = cg_parent_open(mode, &req, &ret->parent, err);
        if (r == CG_UNAVAILABLE)
                goto unavailable;
        if (r < 0)
                return r;
        if (cg_parent_did_leaf_split(ret->parent))
                log_msg(LOG_LVL_NOTICE, "%s: moved the processes of %s into its leaf %s", l->id,
                        cg_parent_path(ret->parent), CG_LEAF_NAME);

        struct gx_error serr = {0};
        unsigned removed = 0;
        if (cg_cleanup_stale(ret->parent, l->id, owner_alive, &base_fd, &removed, &serr) < 0)
                log_msg(LOG_LVL_WARNING, "%s: stale cgroup cleanup: %s", l->id, serr.msg);
        else if (removed)
                log_msg(LOG_LVL_NOTICE, "%s: removed the cgroups of %u dead launches", l->id,
                        removed);

        limits_effective(l, &lim);
        r = cg_create(ret->parent, l->id, &lim, &ret->cg, err);
        if ((r == -EACCES || r == -EPERM) && geteuid() != 0) {
                /* Without the setuid bit only a cgroup delegated to the caller can hold the
                 * payload (SPEC section 2). */
                gx_error_prefix(err, "the caller's cgroup is not delegated to it");
                goto unavailable;
        }
        if (r < 0) {
                cg_parent_free(ret->parent);
                ret->parent = NULL;
                return r;
        }
        gx_strlcpy(l->cgroup, cg_path(ret->cg), sizeof(l->cgroup));
        return 0;

unavailable:
        cg_parent_free(ret->parent);
        ret->parent = NULL;
        if (l->cfg->require_cgroup) {
                err->class = GX_SYSTEM;
                gx_error_prefix(err, "no per-payload cgroup (require_cgroup = yes)");
                return -EPERM;
        }
        log_msg(LOG_LVL_WARNING, "%s: per-payload limits not enforced: %s", l->id, err->msg);
        *err = (struct gx_error){0};
        return 0;
}

void limits_read_usage(struct launch *l, const struct launch_limits *ll)
{
        struct gx_error err = {0};
        struct cg_stats st;
        if (!ll->cg)
                return;
        if (cg_read_stats(ll->cg, &st, &err) < 0) {
                log_msg(LOG_LVL_WARNING, "%s: %s", l->id, err.msg);
                return;
        }
        l->result.cpu_user_seconds = (double)st.cpu_user_usec / 1e6;
        l->result.cpu_system_seconds = (double)st.cpu_system_usec / 1e6;
        l->result.memory_peak_bytes = st.memory_peak_bytes;
        l->result.pids_peak = st.pids_peak;
        /* Without an OOM counter the limit hits are only believed together with a payload
         * that died of SIGKILL. */
        l->result.oom_killed = st.oom_kills > 0 ||
                               (st.oom_kills < 0 && st.oom_killed && l->result.signal == 9);
}

void limits_finish(struct launch *l, struct launch_limits *ll)
{
        struct gx_error err = {0};
        if (ll->cg) {
                if (cg_destroy(ll->cg, &err) < 0)
                        log_msg(LOG_LVL_WARNING, "%s: %s", l->id, err.msg);
                cg_free(ll->cg);
                ll->cg = NULL;
        }
        cg_parent_free(ll->parent);
        ll->parent = NULL;
}

int limits_sweep(const struct config *cfg, int base_fd, unsigned *ret_removed,
                 struct gx_error *err)
{
        enum cg_mode mode;
        struct cg_parent *parent = NULL;
        int r = cg_detect(&mode, err);
        if (r < 0)
                return r;
        /* Never restructure anything just to look for leftovers. */
        struct cg_parent_request req = {
                .parent = cfg->cgroup_parent,
                .leaf_move = CG_LEAF_MOVE_NEVER,
                .caller_uid = getuid(),
        };
        r = cg_parent_open(mode, &req, &parent, err);
        if (r == CG_UNAVAILABLE) {
                *ret_removed = 0;
                return 0;
        }
        if (r < 0)
                return r;
        r = cg_cleanup_stale(parent, NULL, owner_alive, &base_fd, ret_removed, err);
        cg_parent_free(parent);
        return r;
}
