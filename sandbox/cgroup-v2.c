/* cgroup v2: one directory per payload below the slot, the payload cloned straight into it.
 *
 * The leaf split. A v2 cgroup that holds processes cannot give controllers to its children
 * ("no internal processes"), and with cgroup_parent = auto the slot always holds at least the
 * glexec process itself. So, when the policy allows it, the slot's processes move into
 * <slot>/glexec-leaf and cpu, memory and pids are enabled in the slot's subtree_control; the
 * payload cgroups become siblings of the leaf.
 *
 * The split is never undone by this layer: the leaf holds the pilot (and the supervisor)
 * until the pilot ends, later and concurrent launches in the same slot rely on it (a launch
 * running in the leaf uses its parent as slot, see resolve_auto), and undoing it would race
 * with a concurrent launch between its check of subtree_control and its mkdir. A delegating
 * manager (systemd, HTCondor) removes the whole delegated subtree when the slot ends. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cgroup-internal.h"
#include "common/fdutil.h"
#include "common/macro.h"

#define V2_CTRLS (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS)

static const struct {
        const char *name;
        unsigned bit;
} v2_ctrls[] = {{"cpu", CG_CTRL_CPU}, {"memory", CG_CTRL_MEMORY}, {"pids", CG_CTRL_PIDS}};

/* "cpu, pids" for messages, or "+cpu +pids" for subtree_control. */
static void ctrl_list(unsigned mask, const char *prefix, const char *sep, char *buf, size_t n)
{
        size_t o = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(v2_ctrls); i++)
                if (mask & v2_ctrls[i].bit) {
                        int w = snprintf(buf + o, n - o, "%s%s%s", o ? sep : "", prefix,
                                         v2_ctrls[i].name);
                        if (w < 0 || (size_t)w >= n - o)
                                return;
                        o += (size_t)w;
                }
}

/* After an earlier launch split the caller's cgroup, the caller runs in <slot>/glexec-leaf;
 * the slot stays the parent, or every launch would nest one level deeper. Only a root-owned
 * leaf counts: the caller cannot make one, so it cannot steer us to its cgroup's parent. */
static int resolve_auto(int mount_fd, const char *own, char **ret_cgpath)
{
        const char *slash = strrchr(own, '/');
        struct stat st;
        char *cgpath;
        if (strcmp(slash + 1, CG_LEAF_NAME) == 0 &&
            fstatat(mount_fd, own + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 && gx_stat_is_trusted(&st))
                cgpath = slash == own ? strdup("/") : strndup(own, (size_t)(slash - own));
        else
                cgpath = strdup(own);
        if (!cgpath)
                return -ENOMEM;
        *ret_cgpath = cgpath;
        return 0;
}

/* As systemd (Delegate=yes) and HTCondor hand a cgroup to a user: the directory and the files
 * that let it manage processes and children belong to that user. */
static bool delegated_to(int fd, uid_t uid)
{
        static const char *const files[] = {"cgroup.procs", "cgroup.subtree_control"};
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid != uid)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (fstatat(fd, files[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_uid != uid)
                        return false;
        return true;
}

/* The leaf shared by all launches in this slot: made by root, or reused if root made it. */
static int open_leaf_procs(const struct cg_hier *h, int *ret_fd, struct gx_error *err)
{
        if (mkdirat(h->fd, CG_LEAF_NAME, 0755) < 0 && errno != EEXIST)
                return gx_fail(err, GX_SYSTEM, errno, "creating cgroup %s/%s", h->path,
                               CG_LEAF_NAME);
        _cleanup_close_ int fd = openat(h->fd, CG_LEAF_NAME, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                                                    O_CLOEXEC);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening %s/%s", h->path, CG_LEAF_NAME);
        struct stat st;
        struct statfs sfs;
        if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "stat %s/%s", h->path, CG_LEAF_NAME);
        if (sfs.f_type != CGROUP2_SUPER_MAGIC || !gx_stat_is_trusted(&st))
                return gx_fail(err, GX_SYSTEM, EPERM,
                               "%s/%s exists but was not made by glexec (owner uid %u)", h->path,
                               CG_LEAF_NAME, (unsigned)st.st_uid);
        int pfd = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (pfd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening %s/%s/cgroup.procs", h->path,
                               CG_LEAF_NAME);
        *ret_fd = pfd;
        return 0;
}

/* Move every process of the slot into the leaf, until none is left (processes may fork or
 * be added while we move; bounded). Exited processes (ESRCH) are fine. */
#define MOVE_ROUNDS 100

static int move_to_leaf(struct cg_parent *p, const struct cg_hier *h, int *leaf_procs,
                        struct gx_error *err)
{
        for (unsigned round = 0; round < MOVE_ROUNDS; round++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_free_ pid_t *pids = NULL;
                size_t n;
                int r = cg_read_file(h->fd, h->path, "cgroup.procs", &text, err);
                if (r < 0)
                        return r;
                r = cg_parse_procs(text, &pids, &n);
                if (r < 0)
                        return gx_fail(err, GX_SYSTEM, -r, "parsing %s/cgroup.procs", h->path);
                if (n == 0)
                        return 0;
                if (*leaf_procs < 0) {
                        r = open_leaf_procs(h, leaf_procs, err);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < n; i++) {
                        char buf[24];
                        int len = snprintf(buf, sizeof(buf), "%d", (int)pids[i]);
                        if (write(*leaf_procs, buf, (size_t)len) < 0 && errno != ESRCH)
                                return gx_fail(err, GX_SYSTEM, errno,
                                               "moving process %d from %s into %s/%s",
                                               (int)pids[i], h->path, h->path, CG_LEAF_NAME);
                }
                p->leaf_split = true;
        }
        return gx_fail(err, GX_SYSTEM, EBUSY, "processes keep appearing in %s", h->path);
}

#define ENABLE_TRIES 20

static int enable_controllers(struct cg_parent *p, const struct cg_hier *h, unsigned need,
                              bool root, struct gx_error *err)
{
        char value[32];
        ctrl_list(need, "+", " ", value, sizeof(value));
        _cleanup_close_ int leaf_procs = -1;
        unsigned delay = 1;
        for (unsigned t = 1;; t++) {
                /* The root cgroup may hold processes and still enable controllers. */
                if (!root) {
                        int r = move_to_leaf(p, h, &leaf_procs, err);
                        if (r < 0)
                                return r;
                }
                int r = cg_write_at(h->fd, "cgroup.subtree_control", value);
                if (r == 0)
                        return 0;
                /* EBUSY: a process arrived in the slot after the move (or the kernel has not
                 * finished moving one): move again and retry, as crun does. */
                if (r != -EBUSY || t == ENABLE_TRIES)
                        return gx_fail(err, GX_SYSTEM, -r,
                                       "writing \"%s\" to %s/cgroup.subtree_control", value,
                                       h->path);
                cg_sleep_ms(delay);
                delay = delay * 2 > 50 ? 50 : delay * 2;
        }
}

static int prepare_slot(const struct cg_parent_request *req, struct cg_parent *p,
                        const struct cg_hier *h, struct gx_error *err)
{
        _cleanup_free_ char *text = NULL;
        unsigned offered, enabled;
        char names[64];
        int r = cg_read_file(h->fd, h->path, "cgroup.controllers", &text, err);
        if (r < 0)
                return r;
        if (cg_parse_controllers(text, &offered) < 0)
                return gx_fail(err, GX_SYSTEM, EINVAL, "%s/cgroup.controllers is malformed",
                               h->path);
        if ((offered & V2_CTRLS) != V2_CTRLS) {
                ctrl_list(V2_CTRLS & ~offered, "", ", ", names, sizeof(names));
                text[strcspn(text, "\n")] = '\0';
                return cg_unavailable(err,
                                      "cgroup %s lacks the controllers %s (cgroup.controllers: "
                                      "\"%s\"): they are not delegated to it",
                                      h->cgpath, names, text);
        }
        free(text);
        text = NULL;
        r = cg_read_file(h->fd, h->path, "cgroup.subtree_control", &text, err);
        if (r < 0)
                return r;
        if (cg_parse_controllers(text, &enabled) < 0)
                return gx_fail(err, GX_SYSTEM, EINVAL, "%s/cgroup.subtree_control is malformed",
                               h->path);
        unsigned need = V2_CTRLS & ~enabled;
        if (!need)
                return 0;

        /* Enabling controllers (and moving processes) writes into a cgroup that belongs to
         * someone else unless it was delegated to the caller: a batch system's step cgroup
         * must not be restructured (systemd's single-writer rule; slurm.md section 4). */
        bool root = strcmp(h->cgpath, "/") == 0;
        bool populated = false;
        if (!root) {
                free(text);
                text = NULL;
                r = cg_read_file(h->fd, h->path, "cgroup.procs", &text, err);
                if (r < 0)
                        return r;
                populated = text[0] != '\0';
        }
        char what[128];
        ctrl_list(need, "", ", ", names, sizeof(names));
        if (populated)
                snprintf(what, sizeof(what), "holds processes");
        else
                snprintf(what, sizeof(what), "does not enable %s for its children", names);
        switch (req->leaf_move) {
        case CG_LEAF_MOVE_NEVER:
                return cg_unavailable(err, "cgroup %s %s (cgroup_leaf_move = never)", h->cgpath,
                                      what);
        case CG_LEAF_MOVE_DELEGATED:
                if (!delegated_to(h->fd, req->caller_uid))
                        return cg_unavailable(err,
                                              "cgroup %s %s and is not delegated to the caller "
                                              "(cgroup_leaf_move = delegated)",
                                              h->cgpath, what);
                break;
        case CG_LEAF_MOVE_ALWAYS:
                break;
        }
        return enable_controllers(p, h, need, root, err);
}

int cg_v2_parent_open(const struct cg_parent_request *req, struct cg_parent *p,
                      struct gx_error *err)
{
        bool automatic = !req->parent || strcmp(req->parent, "auto") == 0;
        _cleanup_close_ int mfd = open(CG_V2_MOUNT, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (mfd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening %s", CG_V2_MOUNT);
        _cleanup_free_ char *cgpath = NULL;
        int r;
        if (automatic) {
                _cleanup_close_ int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
                _cleanup_free_ char *self = NULL, *own = NULL;
                if (fd < 0)
                        return gx_fail(err, GX_SYSTEM, errno, "opening /proc/self/cgroup");
                r = gx_read_all(fd, 1U << 16, &self, NULL);
                if (r < 0)
                        return gx_fail(err, GX_SYSTEM, -r, "reading /proc/self/cgroup");
                r = cg_own_path(self, NULL, &own, err);
                if (r == -ENOENT)
                        return gx_fail(err, GX_SYSTEM, ENOENT,
                                       "/proc/self/cgroup has no line for the unified hierarchy");
                if (r < 0)
                        return r;
                r = resolve_auto(mfd, own, &cgpath);
        } else {
                cgpath = strdup(req->parent);
                r = cgpath ? 0 : -ENOMEM;
        }
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "cgroup path");

        struct cg_hier *h = &p->hier[0];
        /* No mountinfo here (it costs milliseconds on hosts with many mounts): the path from
         * /proc/self/cgroup is used below /sys/fs/cgroup as is. In a cgroup namespace both
         * are relative to the namespace root; a bind-mounted subtree without one makes the
         * open below fail. */
        r = cg_open_parent(mfd, CG_V2_MOUNT, cgpath + 1, CGROUP2_SUPER_MAGIC, &h->fd, err);
        if (r < 0) {
                if (r == -ENOENT)
                        gx_error_prefix(err, "cgroup %s not found below %s", cgpath,
                                        CG_V2_MOUNT);
                return r;
        }
        p->n_hier = 1;
        h->ctrls = V2_CTRLS | CG_CTRL_CPUACCT;
        h->key = NULL;
        if (asprintf(&h->path, "%s%s", CG_V2_MOUNT, strcmp(cgpath, "/") ? cgpath : "") < 0) {
                h->path = NULL;
                return gx_fail(err, GX_SYSTEM, ENOMEM, "cgroup path");
        }
        h->cgpath = TAKE_PTR(cgpath);
        return prepare_slot(req, p, h, err);
}

int cg_v2_set_limits(struct cg *cg, const struct cg_limits *limits, struct gx_error *err)
{
        const struct cg_dir *d = &cg->dir[0];
        char v[48];
        int r;
        if (limits->memory_max) {
                snprintf(v, sizeof(v), "%" PRIu64, limits->memory_max);
                r = cg_write_file(d->fd, d->path, "memory.max", v, err);
                if (r < 0)
                        return r;
                /* As memsw on v1: no swap on top of the memory limit. Absent without swap
                 * accounting. */
                if (cg_file_exists(d->fd, "memory.swap.max")) {
                        r = cg_write_file(d->fd, d->path, "memory.swap.max", "0", err);
                        if (r < 0)
                                return r;
                }
        }
        /* An OOM kill takes the whole payload rather than one process of it (4.19+). */
        if (cg_file_exists(d->fd, "memory.oom.group")) {
                r = cg_write_file(d->fd, d->path, "memory.oom.group", "1", err);
                if (r < 0)
                        return r;
        }
        if (limits->cpu_max_milli) {
                snprintf(v, sizeof(v), "%" PRIu64 " %d", cg_cpu_quota_us(limits->cpu_max_milli),
                         CG_CPU_PERIOD_US);
                r = cg_write_file(d->fd, d->path, "cpu.max", v, err);
                if (r < 0)
                        return r;
        }
        if (limits->pids_max) {
                snprintf(v, sizeof(v), "%" PRIu64, limits->pids_max);
                r = cg_write_file(d->fd, d->path, "pids.max", v, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cg_v2_sample(struct cg *cg)
{
        uint64_t v;
        int r = cg_read_value_at(cg->dir[0].fd, "memory.current", &v);
        if (r < 0)
                return r;
        if (v > cg->sampled_peak)
                cg->sampled_peak = v;
        return 0;
}

static int64_t to_i64(uint64_t v)
{
        return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Keys that older kernels or disabled controllers lack read as absent (false); a malformed
 * file is an error. */
static int keyed(const char *text, const char *key, uint64_t *ret)
{
        int r = cg_parse_keyed(text, key, ret);
        return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

int cg_v2_read_stats(struct cg *cg, struct cg_stats *s, struct gx_error *err)
{
        const struct cg_dir *d = &cg->dir[0];
        _cleanup_free_ char *cpu = NULL, *mem = NULL, *pids = NULL;
        uint64_t v, v2;
        int r = cg_read_file(d->fd, d->path, "cpu.stat", &cpu, err);
        if (r < 0)
                return r;
        if (cg_parse_keyed(cpu, "user_usec", &s->cpu_user_usec) < 0 ||
            cg_parse_keyed(cpu, "system_usec", &s->cpu_system_usec) < 0 ||
            keyed(cpu, "nr_throttled", &s->cpu_nr_throttled) < 0)
                return gx_fail(err, GX_SYSTEM, EINVAL, "%s/cpu.stat is malformed", d->path);

        /* memory.peak exists since 5.19; before, the supervisor's samples are all we have. */
        r = cg_read_value_at(d->fd, "memory.peak", &v);
        if (r == -ENOENT) {
                if (cg_v2_sample(cg) == 0 || cg->sampled_peak > 0)
                        s->memory_peak_bytes = to_i64(cg->sampled_peak);
        } else if (r < 0) {
                return gx_fail(err, GX_SYSTEM, -r, "reading %s/memory.peak", d->path);
        } else {
                s->memory_peak_bytes = to_i64(v);
        }

        r = cg_read_file(d->fd, d->path, "memory.events", &mem, err);
        if (r < 0)
                return r;
        /* oom_kill counts each killed process, oom_group_kill (6.x) each group kill. */
        if ((r = keyed(mem, "oom_kill", &v)) < 0 || keyed(mem, "max", &s->memory_limit_hits) < 0)
                return gx_fail(err, GX_SYSTEM, EINVAL, "%s/memory.events is malformed", d->path);
        if (r > 0) {
                s->oom_kills = to_i64(v);
                if (keyed(mem, "oom_group_kill", &v2) > 0 && v2 > v)
                        s->oom_kills = to_i64(v2);
        }

        r = cg_read_value_at(d->fd, "pids.peak", &v);
        if (r == 0)
                s->pids_peak = to_i64(v);
        else if (r != -ENOENT)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s/pids.peak", d->path);
        r = cg_read_file(d->fd, d->path, "pids.events", &pids, err);
        if (r < 0)
                return r;
        if (keyed(pids, "max", &s->pids_limit_hits) < 0)
                return gx_fail(err, GX_SYSTEM, EINVAL, "%s/pids.events is malformed", d->path);
        return 0;
}

static int read_populated(int events_fd, uint64_t *ret)
{
        char buf[256];
        ssize_t n = pread(events_fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return cg_parse_keyed(buf, "populated", ret);
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* cgroup.kill (5.14+) kills the whole subtree atomically, forks in flight included. Before
 * it: freeze (5.2+) so that nobody forks during the sweep, SIGKILL each member (a frozen
 * task still dies of SIGKILL), thaw. */
static void kill_once(const struct cg_dir *d, bool have_kill, bool have_freeze)
{
        if (have_kill) {
                cg_write_at(d->fd, "cgroup.kill", "1");
                return;
        }
        if (have_freeze)
                cg_write_at(d->fd, "cgroup.freeze", "1");
        cg_kill_listed(d);
        if (have_freeze)
                cg_write_at(d->fd, "cgroup.freeze", "0");
}

#define KILL_WAIT_MS 3000
#define KILL_REPEAT_MS 100

int cg_v2_kill(struct cg *cg, struct gx_error *err)
{
        if (cg->n_dir == 0 || cg->dir[0].removed)
                return 0;
        const struct cg_dir *d = &cg->dir[0];
        _cleanup_close_ int ev = openat(d->fd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (ev < 0)
                return errno == ENOENT || errno == ENODEV
                               ? 0
                               : gx_fail(err, GX_SYSTEM, errno, "opening %s/cgroup.events",
                                         d->path);
        uint64_t populated;
        int r = read_populated(ev, &populated);
        if (r == -ENODEV || r == -ENOENT)
                return 0;
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s/cgroup.events", d->path);
        if (!populated)
                return 0;

        bool have_kill = cg_file_exists(d->fd, "cgroup.kill");
        bool have_freeze = cg_file_exists(d->fd, "cgroup.freeze");
        uint64_t start = now_ms();
        for (;;) {
                kill_once(d, have_kill, have_freeze);
                /* Killing is asynchronous; cgroup.events signals POLLPRI when "populated"
                 * changes. A fork racing with cgroup.kill was fixed only in 2025 stable
                 * kernels, hence the repeated kill. */
                uint64_t slice_end = now_ms() + KILL_REPEAT_MS;
                for (;;) {
                        r = read_populated(ev, &populated);
                        if (r < 0)
                                return r == -ENODEV ? 0
                                                    : gx_fail(err, GX_SYSTEM, -r,
                                                              "reading %s/cgroup.events",
                                                              d->path);
                        if (!populated)
                                return 0;
                        uint64_t now = now_ms();
                        if (now >= slice_end)
                                break;
                        struct pollfd pfd = {.fd = ev, .events = POLLPRI};
                        if (poll(&pfd, 1, (int)(slice_end - now)) < 0 && errno != EINTR)
                                return gx_fail(err, GX_SYSTEM, errno, "poll %s/cgroup.events",
                                               d->path);
                }
                if (now_ms() - start >= KILL_WAIT_MS)
                        return gx_fail(err, GX_SYSTEM, EBUSY,
                                       "processes remain in %s after %d ms of killing", d->path,
                                       KILL_WAIT_MS);
        }
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* struct clone_args up to the cgroup field (CLONE_ARGS_SIZE_VER2, 88 bytes). */
struct cg_clone_args {
        uint64_t flags;
        uint64_t pidfd;
        uint64_t child_tid;
        uint64_t parent_tid;
        uint64_t exit_signal;
        uint64_t stack;
        uint64_t stack_size;
        uint64_t tls;
        uint64_t set_tid;
        uint64_t set_tid_size;
        uint64_t cgroup;
};

pid_t cg_v2_clone3(const struct cg *cg, uint64_t flags, int *ret_pidfd)
{
        int pidfd = -1;
        struct cg_clone_args a = {
                .flags = flags | CLONE_INTO_CGROUP,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t)cg->dir[0].fd,
        };
        if (flags & CLONE_PIDFD)
                a.pidfd = (uint64_t)(uintptr_t)&pidfd;
        long pid = syscall(SYS_clone3, &a, sizeof(a));
        if (pid < 0)
                return -errno;
        if (pid > 0 && ret_pidfd && (flags & CLONE_PIDFD))
                *ret_pidfd = pidfd;
        return (pid_t)pid;
}
