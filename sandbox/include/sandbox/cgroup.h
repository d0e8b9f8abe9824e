/* One cgroup per payload, over plain cgroupfs, with a v1 and a v2 backend
 * (reference/cgroups.md section 4.3).
 *
 * Order of calls for one launch (the supervisor runs with euid 0 and fsuid 0 throughout):
 *
 *   cg_detect(&mode)                         statfs("/sys/fs/cgroup")
 *   cg_parent_open(mode, &req, &parent)      the slot; on v2 also the leaf split; may return
 *                                            CG_UNAVAILABLE with the reason in err
 *   cg_cleanup_stale(parent, id, alive, ...) remove glexec-* cgroups of dead launches
 *   cg_create(parent, id, &limits, &cg)      mkdir glexec-<id> in every hierarchy, limits
 *   v2: cg_clone3_into(cg, flags, ...)       the payload is born inside its cgroup
 *   v1 (or v2 fallback): fork, and the child calls cg_attach_self(cg) before it runs any
 *                        of the payload's code
 *   ... cg_sample(cg) now and then (peak memory on v2 kernels without memory.peak)
 *   cg_read_stats(cg, &stats)                before anything is killed or removed
 *   cg_destroy(cg)                           kill leftovers, wait until empty, rmdir
 *   cg_free(cg), cg_parent_free(parent)
 *
 * Every directory and control file this layer creates belongs to root; it is reached through
 * directory fds and *at() calls only, and the caller can never choose its path. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

enum cg_mode {
        CG_MODE_V1 = 1, /* legacy or hybrid: controllers in separate v1 hierarchies */
        CG_MODE_V2 = 2, /* unified: /sys/fs/cgroup is cgroup2 */
};

/* SPEC [limits] cgroup_leaf_move; same order as the launcher's enum gx_leaf_move. */
enum cg_leaf_move {
        CG_LEAF_MOVE_DELEGATED, /* only in a cgroup the caller owns, as a delegating manager
                                 * (systemd Delegate=yes, HTCondor) leaves it */
        CG_LEAF_MOVE_ALWAYS,
        CG_LEAF_MOVE_NEVER,
};

/* Returned (positive) by cg_parent_open when the cgroup tree allows no per-payload cgroup;
 * err->msg then holds the reason, e.g. "cgroup /slurm/uid_1000/job_5/step_0/task_0 holds
 * processes and is not delegated to the caller (cgroup_leaf_move = delegated)". The
 * launcher logs "per-payload limits not enforced: <reason>" and goes on, or fails with
 * GX_SYSTEM when require_cgroup = yes. */
#define CG_UNAVAILABLE 1

/* The v2 leaf that takes the processes of a populated parent. It is shared by every launch
 * in that parent and is never removed by this layer (see cgroup-v2.c). */
#define CG_LEAF_NAME "glexec-leaf"
#define CG_NAME_PREFIX "glexec-"
#define CG_LAUNCH_ID_LEN 24

struct cg_parent_request {
        /* NULL or "auto": the calling process's own cgroup (the caller's: the supervisor is
         * the caller's child). Otherwise an absolute path inside the hierarchy, as
         * /proc/self/cgroup writes it, from the site config: used as is in every hierarchy. */
        const char *parent;
        enum cg_leaf_move leaf_move;
        uid_t caller_uid; /* the real uid of the glexec process */
};

struct cg_limits {
        uint64_t memory_max;    /* bytes; 0 = none. Swap is not allowed on top of it */
        uint64_t cpu_max_milli; /* thousandths of a CPU over a 100 ms period; 0 = none */
        uint64_t pids_max;      /* 0 = none */
};

struct cg_stats {
        uint64_t cpu_user_usec;
        uint64_t cpu_system_usec;
        uint64_t cpu_nr_throttled;  /* periods in which the CPU quota stopped the payload */
        int64_t memory_peak_bytes;  /* -1: unknown */
        int64_t oom_kills;          /* OOM kills the kernel counted (with memory.oom.group the
                                     * victim may count twice); -1: no counter (v1 < 4.13) */
        uint64_t memory_limit_hits; /* v2 memory.events "max"; v1 failcnt (memsw or plain),
                                     * which 6.x kernels no longer count reliably */
        bool oom_killed;            /* oom_kills > 0; without a counter, memory_limit_hits > 0,
                                     * which the launcher should only believe together with a
                                     * SIGKILLed payload */
        int64_t pids_peak;          /* -1: no pids.peak on this kernel */
        uint64_t pids_limit_hits;   /* pids.events "max": forks refused by pids.max */
};

struct cg_parent;
struct cg;

/* The cgroup mode of this host. -EOPNOTSUPP with a message when /sys/fs/cgroup is neither
 * cgroup2 nor a tmpfs of v1 hierarchies. */
int cg_detect(enum cg_mode *ret_mode, struct gx_error *err);

/* Find and open the parent ("slot") of the payload cgroups in every hierarchy and, on v2,
 * make it able to hold them. Returns 0, CG_UNAVAILABLE (err says why; *ret untouched) or a
 * negative errno (err filled, GX_SYSTEM). */
int cg_parent_open(enum cg_mode mode, const struct cg_parent_request *req,
                   struct cg_parent **ret, struct gx_error *err);
void cg_parent_free(struct cg_parent *p);
enum cg_mode cg_parent_mode(const struct cg_parent *p);
/* File-system path of the parent (v1: in the memory hierarchy), for logs. */
const char *cg_parent_path(const struct cg_parent *p);
/* v2: whether this call moved the parent's processes into CG_LEAF_NAME. */
bool cg_parent_did_leaf_split(const struct cg_parent *p);

/* mkdir glexec-<launch_id> (launch_id: CG_LAUNCH_ID_LEN lower-case hex digits) in every
 * hierarchy and write the limits. An existing directory of that name is an error, never
 * adopted. On failure everything made so far is removed again. */
int cg_create(const struct cg_parent *p, const char *launch_id, const struct cg_limits *limits,
              struct cg **ret, struct gx_error *err);

enum cg_mode cg_mode(const struct cg *cg);
/* The payload cgroup's path for the report ("cgroup" field); v1: in the memory hierarchy. */
const char *cg_path(const struct cg *cg);
/* v2: an O_RDONLY|O_DIRECTORY fd (close-on-exec) of the payload cgroup, for
 * clone3(CLONE_INTO_CGROUP). -1 on v1, where no such clone exists. Owned by cg. */
int cg_clone_fd(const struct cg *cg);

/* clone3() with CLONE_INTO_CGROUP | flags, exit signal SIGCHLD: the child starts inside the
 * payload cgroup, so it pays no migration and never runs outside its limits
 * (launch-costs.md). Returns like fork(): 0 in the child, the child's pid in the parent (and
 * *ret_pidfd when flags has CLONE_PIDFD). -EOPNOTSUPP on v1; -ENOSYS (before 5.3), -E2BIG or
 * -EINVAL (5.3-5.6, no CLONE_INTO_CGROUP) mean: fall back to fork + cg_attach_self. The child
 * shares the parent's memory image as after fork(), but glibc's fork handlers did not run:
 * it must only do async-signal-safe work before execve or _exit. */
pid_t cg_clone3_into(const struct cg *cg, uint64_t flags, int *ret_pidfd);

/* Child side, before the child runs anything of the payload's: move the calling process,
 * which must be single-threaded, into the payload cgroup in every hierarchy. Only
 * openat/write/close: async-signal-safe. Returns 0 or a negative errno. Everything the child
 * forks afterwards is born inside.
 *
 * On v1 it writes "0" to each hierarchy's `tasks` file, not to `cgroup.procs`: a kernel that
 * elides the lock for a thread moving itself (6.18 here does) then skips the global
 * cgroup_threadgroup_rwsem, whose write side waits for an RCU grace period, 7-15 ms after a
 * quiet spell (launch-costs.md). Measured on the development VM: 0.05 ms against 6-15 ms. A
 * kernel that takes the lock anyway costs what cgroup.procs costs, and moves the same. For a
 * single-threaded process the thread is the whole process. v2 writes cgroup.procs; there the
 * payload normally needs no migration at all (cg_clone3_into). */
int cg_attach_self(const struct cg *cg);

/* Record memory.current into the sampled peak (v2 kernels before 5.19 have no memory.peak).
 * Cheap: one read. Returns 0 or a negative errno; no error object (called from the
 * supervision loop). */
int cg_sample(struct cg *cg);

/* Read CPU time, peak memory, OOM kills and pids peak. Call before cg_destroy. */
int cg_read_stats(struct cg *cg, struct cg_stats *ret, struct gx_error *err);

/* Kill everything left in the payload cgroup, wait until it is empty (bounded) and remove it
 * in every hierarchy. Processes are never moved anywhere. Safe to call again after a
 * failure. */
int cg_destroy(struct cg *cg, struct gx_error *err);

/* Close the fds and free; removes nothing. */
void cg_free(struct cg *cg);

/* Liveness of the launch that owns glexec-<launch_id>: return 0 only when certain that it is
 * dead (no supervisor and no reaper can still use its cgroup), > 0 when alive or unknown,
 * < 0 on error (also treated as alive). The launcher's rule: a launch holds an exclusive
 * flock on a root-only lock file named by its id from before cg_create until after
 * cg_destroy (its reaper inherits the lock); "dead" = that lock can be taken. An id whose
 * lock file is missing is unknown (another installation, say), not dead. */
typedef int (*cg_owner_alive_fn)(const char *launch_id, void *userdata);

/* Remove the glexec-<id> cgroups in the parent (every hierarchy) whose owner is dead: kill
 * what is left in them, then rmdir. Skips own_id (may be NULL), CG_LEAF_NAME, anything not
 * named glexec-<24 hex> and anything not owned by root (the caller may create directories in
 * a delegated parent, but not root-owned ones). *ret_removed (may be NULL) counts the removed
 * launches. Returns the first error after trying every entry.
 * Only this parent is searched: on v1 a dead launch of another batch job may have left its
 * cpu or pids part here (a shared root) and its memory part in that job's own parent, which
 * only that job's launches (or the dead launch's reaper) see. */
int cg_cleanup_stale(const struct cg_parent *p, const char *own_id, cg_owner_alive_fn alive,
                     void *userdata, unsigned *ret_removed, struct gx_error *err);

/* ---- Pure parsers over file contents (no I/O): unit tests and fuzzers call them too ---- */

/* Controller bits of cg_parse_controllers. */
enum {
        CG_CTRL_CPU = 1U << 0,
        CG_CTRL_CPUACCT = 1U << 1,
        CG_CTRL_MEMORY = 1U << 2,
        CG_CTRL_PIDS = 1U << 3,
        CG_CTRL_FREEZER = 1U << 4,
};

/* A path inside a hierarchy: absolute, no empty, "." or ".." components, no trailing slash
 * (except "/" itself), shorter than PATH_MAX. */
bool cg_path_is_valid(const char *path);

/* From /proc/<pid>/cgroup, the path of the hierarchy carrying controller (v1, e.g. "memory")
 * or, for controller NULL, of the unified hierarchy ("0::"). -ENOENT if absent; -EINVAL for
 * a malformed text, an invalid path, or a hierarchy id or controller listed twice (a cgroup
 * name containing a newline could otherwise forge a line). */
int cg_parse_proc_cgroup(const char *text, const char *controller, char **ret_path);

struct cg_mount {
        char *mount_point; /* unescaped */
        char *root;        /* the hierarchy path mounted there, unescaped */
};
void cg_mount_done(struct cg_mount *m);

/* From /proc/self/mountinfo, the v1 ("cgroup") mount carrying controller whose root covers
 * cgpath, preferring the shortest root. -ENOENT if the controller is not mounted; -EXDEV if
 * it is, but no mount shows cgpath; -EINVAL for malformed lines. */
int cg_parse_mountinfo(const char *text, const char *controller, const char *cgpath,
                       struct cg_mount *ret);

/* cgpath below mount root root, as a path relative to the mount point ("" for the mount
 * point itself). -EXDEV if cgpath is not below root. */
int cg_strip_root(const char *cgpath, const char *root, const char **ret_rel);

/* The value of "key N" in a flat keyed file (cpu.stat, memory.events, memory.oom_control,
 * cpuacct.stat, pids.events, cgroup.events). -ENOENT if key is absent, -EINVAL if any line is
 * not "name number", -ERANGE on overflow. */
int cg_parse_keyed(const char *text, const char *key, uint64_t *ret);

/* A one-value file: "N\n"; "max\n" gives UINT64_MAX. */
int cg_parse_value(const char *text, uint64_t *ret);

/* cgroup.controllers / cgroup.subtree_control: space-separated names -> CG_CTRL_* bits of
 * the ones this layer knows (others are ignored). -EINVAL for a malformed list. */
int cg_parse_controllers(const char *text, unsigned *ret_mask);

/* cgroup.procs: one positive pid per line -> malloc'd array (NULL when empty). */
int cg_parse_procs(const char *text, pid_t **ret_pids, size_t *ret_n);

/* fork() for the launch's reaper, which must outlive a batch system's kill of the job to
 * remove what the job's glexec left: the child is placed outside the cgroup such a kill goes
 * by (v2: the job's cgroup; the child is born in the root cgroup with CLONE_INTO_CGROUP. v1:
 * the job's freezer cgroup; the child then leaves all the job's cgroups for the roots). Where
 * the caller is at the root already this is a plain fork. Returns like fork(), or a negative
 * errno with err. */
pid_t cg_fork_outside_job(struct gx_error *err);

/* Best effort: move the calling process to the root cgroup of every hierarchy. For the reaper
 * once its supervisor died: a batch system removes the job's cgroups right after the job's
 * processes are gone, and a member left in one of them would make that removal fail. */
void cg_move_self_to_root(void);
