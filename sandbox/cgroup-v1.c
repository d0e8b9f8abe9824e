/* cgroup v1 (legacy and hybrid hosts): one directory per payload in each of the memory, cpu,
 * cpuacct and pids hierarchies (cpu and cpuacct may share one), plus freezer when no batch
 * system tracks the caller with it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cgroup-internal.h"
#include "common/fdutil.h"
#include "common/macro.h"

static const struct {
        const char *key;
        unsigned bit;
} v1_ctrls[] = {
        {"memory", CG_CTRL_MEMORY},
        {"cpu", CG_CTRL_CPU},
        {"cpuacct", CG_CTRL_CPUACCT},
        {"pids", CG_CTRL_PIDS},
};

static int add_hier(struct cg_parent *p, unsigned bit, const char *key,
                    const struct cg_mount *m, const char *cgpath, struct gx_error *err)
{
        const char *rel;
        if (cg_strip_root(cgpath, m->root, &rel) < 0)
                return gx_fail(err, GX_SYSTEM, EXDEV, "cgroup %s is not below %s", cgpath,
                               m->root);
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s%s%s", m->mount_point, *rel ? "/" : "", rel) < 0)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "cgroup path");
        /* Co-mounted controllers, such as EL7's cpu,cpuacct, share one directory. */
        for (size_t i = 0; i < p->n_hier; i++)
                if (strcmp(p->hier[i].path, path) == 0) {
                        p->hier[i].ctrls |= bit;
                        return 0;
                }

        _cleanup_close_ int mfd = open(m->mount_point, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                                               O_CLOEXEC);
        if (mfd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening %s", m->mount_point);
        struct cg_hier *h = &p->hier[p->n_hier];
        int r = cg_open_parent(mfd, m->mount_point, rel, CGROUP_SUPER_MAGIC, &h->fd, err);
        if (r < 0)
                return r;
        p->n_hier++;
        h->ctrls = bit;
        h->key = key;
        h->path = TAKE_PTR(path);
        h->cgpath = strdup(cgpath);
        if (!h->cgpath)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "cgroup path");
        return 0;
}

int cg_v1_parent_open(const struct cg_parent_request *req, struct cg_parent *p,
                      struct gx_error *err)
{
        _cleanup_free_ char *self = NULL, *mountinfo = NULL;
        bool automatic = !req->parent || strcmp(req->parent, "auto") == 0;
        int r = cg_read_proc_file("/proc/self/cgroup", 1U << 16, &self, err);
        if (r < 0)
                return r;
        r = cg_read_proc_file("/proc/self/mountinfo", 16U << 20, &mountinfo, err);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(v1_ctrls); i++) {
                const char *key = v1_ctrls[i].key;
                _cleanup_free_ char *own = NULL;
                r = cg_own_path(self, key, &own, err);
                if (r == -ENOENT)
                        return cg_unavailable(err,
                                              "the cgroup v1 controller %s is not enabled (not "
                                              "in /proc/self/cgroup)",
                                              key);
                if (r < 0)
                        return r;
                const char *cgpath = automatic ? own : req->parent;
                struct cg_mount m = {};
                r = cg_parse_mountinfo(mountinfo, key, cgpath, &m);
                if (r == -ENOENT)
                        return cg_unavailable(err, "the cgroup v1 controller %s is not mounted",
                                              key);
                if (r == -EXDEV)
                        return cg_unavailable(err,
                                              "cgroup %s of the %s hierarchy is outside every "
                                              "mount of that hierarchy",
                                              cgpath, key);
                if (r < 0)
                        return gx_fail(err, GX_SYSTEM, -r, "parsing /proc/self/mountinfo");
                r = add_hier(p, v1_ctrls[i].bit, key, &m, cgpath, err);
                cg_mount_done(&m);
                if (r < 0)
                        return r;
        }

        /* Before 5.x kernels made it always 1: with use_hierarchy 0 in the parent, the
         * parent's limit would not cover a payload cgroup below it. */
        for (size_t i = 0; i < p->n_hier; i++) {
                const struct cg_hier *h = &p->hier[i];
                uint64_t v;
                if (!(h->ctrls & CG_CTRL_MEMORY) || strcmp(h->cgpath, "/") == 0)
                        continue;
                r = cg_read_value_at(h->fd, "memory.use_hierarchy", &v);
                if (r < 0)
                        return gx_fail(err, GX_SYSTEM, -r, "reading %s/memory.use_hierarchy",
                                       h->path);
                if (v == 0)
                        return cg_unavailable(err,
                                              "memory.use_hierarchy is 0 in %s: a payload "
                                              "cgroup there would escape the parent's memory "
                                              "limit",
                                              h->path);
        }
        return 0;
}

int cg_v1_set_limits(struct cg *cg, const struct cg_limits *limits, struct gx_error *err)
{
        char v[32];
        int r;
        for (size_t i = 0; i < cg->n_dir; i++) {
                const struct cg_dir *d = &cg->dir[i];
                if ((d->ctrls & CG_CTRL_MEMORY) && limits->memory_max) {
                        snprintf(v, sizeof(v), "%" PRIu64, limits->memory_max);
                        r = cg_write_file(d->fd, d->path, "memory.limit_in_bytes", v, err);
                        if (r < 0)
                                return r;
                        /* memsw counts memory plus swap, so the same value forbids swap. It
                         * may never be below limit_in_bytes, hence this order. Absent when
                         * the kernel does not account swap. */
                        if (cg_file_exists(d->fd, "memory.memsw.limit_in_bytes")) {
                                r = cg_write_file(d->fd, d->path, "memory.memsw.limit_in_bytes",
                                                  v, err);
                                if (r < 0)
                                        return r;
                        }
                        /* oom_kill_disable is inherited from the parent; with it the payload
                         * would hang at its limit instead of being killed. Old kernels refuse
                         * the write below a use_hierarchy parent, so only write when set. */
                        uint64_t disabled = 0;
                        if (cg_read_keyed_at(d->fd, "memory.oom_control", "oom_kill_disable",
                                             &disabled) == 0 &&
                            disabled) {
                                r = cg_write_file(d->fd, d->path, "memory.oom_control", "0", err);
                                if (r < 0)
                                        return r;
                        }
                }
                if ((d->ctrls & CG_CTRL_CPU) && limits->cpu_max_milli) {
                        snprintf(v, sizeof(v), "%d", CG_CPU_PERIOD_US);
                        r = cg_write_file(d->fd, d->path, "cpu.cfs_period_us", v, err);
                        if (r < 0)
                                return r;
                        snprintf(v, sizeof(v), "%" PRIu64, cg_cpu_quota_us(limits->cpu_max_milli));
                        r = cg_write_file(d->fd, d->path, "cpu.cfs_quota_us", v, err);
                        if (r == -EINVAL)
                                gx_error_prefix(err, "CPU quota above the parent cgroup's");
                        if (r < 0)
                                return r;
                }
                if ((d->ctrls & CG_CTRL_PIDS) && limits->pids_max) {
                        snprintf(v, sizeof(v), "%" PRIu64, limits->pids_max);
                        r = cg_write_file(d->fd, d->path, "pids.max", v, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* A counter that older kernels lack: absent is fine, anything else is an error. */
static int read_optional(int r, const struct cg_dir *d, const char *file, struct gx_error *err)
{
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s/%s", d->path, file);
        return 1;
}

static int read_cpuacct(const struct cg_dir *d, struct cg_stats *s, struct gx_error *err)
{
        uint64_t user, sys;
        /* cpuacct.usage_user/_sys (ns, 4.7+) are exact; cpuacct.stat has USER_HZ ticks. */
        int r = cg_read_value_at(d->fd, "cpuacct.usage_user", &user);
        if (r == 0)
                r = cg_read_value_at(d->fd, "cpuacct.usage_sys", &sys);
        if (r == 0) {
                s->cpu_user_usec = user / 1000;
                s->cpu_system_usec = sys / 1000;
                return 0;
        }
        if (r != -ENOENT)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s/cpuacct.usage_user", d->path);
        long hz = sysconf(_SC_CLK_TCK);
        r = cg_read_keyed_at(d->fd, "cpuacct.stat", "user", &user);
        if (r == 0)
                r = cg_read_keyed_at(d->fd, "cpuacct.stat", "system", &sys);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s/cpuacct.stat", d->path);
        if (hz <= 0)
                hz = 100;
        s->cpu_user_usec = user * (1000000 / (uint64_t)hz);
        s->cpu_system_usec = sys * (1000000 / (uint64_t)hz);
        return 0;
}

static int read_memory(const struct cg_dir *d, struct cg_stats *s, struct gx_error *err)
{
        uint64_t v;
        int r = cg_read_value_at(d->fd, "memory.max_usage_in_bytes", &v);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s/memory.max_usage_in_bytes",
                               d->path);
        s->memory_peak_bytes = v > INT64_MAX ? INT64_MAX : (int64_t)v;
        /* The oom_kill line exists since 4.13 (commit 8e675f7af507). */
        r = cg_read_keyed_at(d->fd, "memory.oom_control", "oom_kill", &v);
        if ((r = read_optional(r, d, "memory.oom_control", err)) < 0)
                return r;
        if (r > 0)
                s->oom_kills = v > INT64_MAX ? INT64_MAX : (int64_t)v;
        /* failcnt counts hits of the limit, not kills; with memsw limited its own failcnt
         * moves instead of the plain one. */
        r = cg_read_value_at(d->fd, "memory.failcnt", &v);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s/memory.failcnt", d->path);
        s->memory_limit_hits = v;
        r = cg_read_value_at(d->fd, "memory.memsw.failcnt", &v);
        if ((r = read_optional(r, d, "memory.memsw.failcnt", err)) < 0)
                return r;
        if (r > 0 && v > s->memory_limit_hits)
                s->memory_limit_hits = v;
        return 0;
}

static int read_pids(const struct cg_dir *d, struct cg_stats *s, struct gx_error *err)
{
        uint64_t v;
        int r = cg_read_value_at(d->fd, "pids.peak", &v);
        if ((r = read_optional(r, d, "pids.peak", err)) < 0)
                return r;
        if (r > 0)
                s->pids_peak = v > INT64_MAX ? INT64_MAX : (int64_t)v;
        r = cg_read_keyed_at(d->fd, "pids.events", "max", &v);
        if ((r = read_optional(r, d, "pids.events", err)) < 0)
                return r;
        if (r > 0)
                s->pids_limit_hits = v;
        return 0;
}

int cg_v1_read_stats(struct cg *cg, struct cg_stats *s, struct gx_error *err)
{
        for (size_t i = 0; i < cg->n_dir; i++) {
                const struct cg_dir *d = &cg->dir[i];
                int r = 0;
                if (d->ctrls & CG_CTRL_CPUACCT)
                        r = read_cpuacct(d, s, err);
                if (r >= 0 && (d->ctrls & CG_CTRL_CPU)) {
                        uint64_t v;
                        r = cg_read_keyed_at(d->fd, "cpu.stat", "nr_throttled", &v);
                        if ((r = read_optional(r, d, "cpu.stat", err)) > 0)
                                s->cpu_nr_throttled = v;
                }
                if (r >= 0 && (d->ctrls & CG_CTRL_MEMORY))
                        r = read_memory(d, s, err);
                if (r >= 0 && (d->ctrls & CG_CTRL_PIDS))
                        r = read_pids(d, s, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* How long the kill loops wait for the members to go. */
#define KILL_WAIT_MS 3000

int cg_v1_kill(struct cg *cg, struct gx_error *err)
{
        /* No freezer on v1: a batch system that tracks jobs with it (Slurm's proctrack/cgroup)
         * signals only the direct members of its freezer cgroup, so a payload in a child
         * freezer cgroup would survive scancel (slurm.md section 3); and a killer killed
         * between FROZEN and THAWED would leave the payload frozen forever, deaf even to its
         * parent-death signal. Instead: kill whatever is listed until every hierarchy is
         * empty. A process with SIGKILL pending forks no more, and pids.max bounds the rest. */
        unsigned waited = 0, delay = 1;
        const char *busy = NULL;
        for (;;) {
                busy = NULL;
                for (size_t i = 0; i < cg->n_dir; i++) {
                        const struct cg_dir *d = &cg->dir[i];
                        if (d->removed)
                                continue;
                        int n = cg_kill_listed(d);
                        if (n == -ENOENT || n == -ENODEV)
                                continue;
                        if (n < 0)
                                return gx_fail(err, GX_SYSTEM, -n, "reading %s/cgroup.procs",
                                               d->path);
                        if (n > 0)
                                busy = d->path;
                }
                if (!busy)
                        return 0;
                if (waited >= KILL_WAIT_MS)
                        break;
                cg_sleep_ms(delay);
                waited += delay;
                delay = delay * 2 > 100 ? 100 : delay * 2;
        }
        return gx_fail(err, GX_SYSTEM, EBUSY, "processes remain in %s after %u ms of SIGKILL",
                       busy, waited);
}
