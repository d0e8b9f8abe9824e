/* Shared between cgroup.c and the two backends; not for other modules. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/cgroup.h"

/* memory, cpu, cpuacct and pids, each in a hierarchy of its own at most. */
#define CG_MAX_HIER 5
/* Largest control file read; cgroup.procs of a big cgroup is the longest. */
#define CG_FILE_MAX (4U << 20)
#define CG_NAME_MAX (sizeof(CG_NAME_PREFIX) - 1 + CG_LAUNCH_ID_LEN)
#define CG_V2_MOUNT "/sys/fs/cgroup"

/* One hierarchy's parent cgroup. */
struct cg_hier {
        unsigned ctrls;     /* CG_CTRL_* bits handled in this hierarchy (v2: all of them) */
        const char *key;    /* controller name for /proc/<pid>/cgroup; NULL for v2 */
        char *cgpath;       /* the parent's path inside the hierarchy, "/" for the root */
        char *path;         /* its file-system path, for messages */
        int fd;             /* O_PATH|O_DIRECTORY */
};

struct cg_parent {
        enum cg_mode mode;
        size_t n_hier;
        struct cg_hier hier[CG_MAX_HIER];
        bool leaf_split;
};

/* One hierarchy's payload cgroup. */
struct cg_dir {
        unsigned ctrls;
        const char *key;
        int parent_fd; /* a dup of the parent's fd, for the final rmdir */
        int fd;        /* O_RDONLY|O_DIRECTORY: usable with openat and clone3 */
        char *cgpath;  /* path inside the hierarchy, as /proc/<pid>/cgroup shows it */
        char *path;    /* file-system path */
        bool removed;
};

struct cg {
        enum cg_mode mode;
        char name[CG_NAME_MAX + 1];
        size_t n_dir;
        struct cg_dir dir[CG_MAX_HIER];
        uint64_t sampled_peak;
};

/* A /proc file of at most max bytes. */
int cg_read_proc_file(const char *file, size_t max, char **ret, struct gx_error *err);

/* Plain file access relative to a cgroup directory fd; negative errno, no error object. */
int cg_read_at(int dfd, const char *file, char **ret_text);
int cg_write_at(int dfd, const char *file, const char *value);
int cg_read_value_at(int dfd, const char *file, uint64_t *ret);
int cg_read_keyed_at(int dfd, const char *file, const char *key, uint64_t *ret);
bool cg_file_exists(int dfd, const char *file);

/* The same with an error object naming operation, path, value and errno. */
int cg_write_file(int dfd, const char *dir_path, const char *file, const char *value,
                  struct gx_error *err);
int cg_read_file(int dfd, const char *dir_path, const char *file, char **ret_text,
                 struct gx_error *err);

/* Fill err with the reason why no per-payload cgroup can be made here; returns
 * CG_UNAVAILABLE. */
int cg_unavailable(struct gx_error *err, const char *fmt, ...) _printf_(2, 3);

/* The calling process's cgroup in one hierarchy, from /proc/self/cgroup (text read once by
 * the caller). ENOENT when the hierarchy is absent. */
int cg_own_path(const char *proc_cgroup, const char *key, char **ret_path, struct gx_error *err);

/* Open the parent path cgpath below the hierarchy mounted at mount_fd (mount_path for
 * messages), checking that it is a cgroupfs directory of file-system type magic. */
int cg_open_parent(int mount_fd, const char *mount_path, const char *rel, long magic,
                   int *ret_fd, struct gx_error *err);
void cg_hier_done(struct cg_hier *h);

/* SIGKILL every process listed in d's cgroup.procs (each checked through a pidfd). Returns
 * the number of pids listed (0: empty) or a negative errno. */
int cg_kill_listed(const struct cg_dir *d);

/* Thousandths of a CPU as a CFS quota in µs per CG_CPU_PERIOD_US. The kernel refuses quotas
 * below 1 ms, so tiny requests get that minimum. */
#define CG_CPU_PERIOD_US 100000
#define CG_CPU_QUOTA_MIN_US 1000
uint64_t cg_cpu_quota_us(uint64_t milli);

void cg_sleep_ms(unsigned ms);

/* Backends. */
int cg_v1_parent_open(const struct cg_parent_request *req, struct cg_parent *p,
                      struct gx_error *err);
int cg_v1_set_limits(struct cg *cg, const struct cg_limits *limits, struct gx_error *err);
int cg_v1_read_stats(struct cg *cg, struct cg_stats *ret, struct gx_error *err);
/* Kill until every hierarchy's cgroup.procs is empty (bounded); 0, or -EBUSY if processes
 * remain. */
int cg_v1_kill(struct cg *cg, struct gx_error *err);

int cg_v2_parent_open(const struct cg_parent_request *req, struct cg_parent *p,
                      struct gx_error *err);
int cg_v2_set_limits(struct cg *cg, const struct cg_limits *limits, struct gx_error *err);
int cg_v2_read_stats(struct cg *cg, struct cg_stats *ret, struct gx_error *err);
int cg_v2_kill(struct cg *cg, struct gx_error *err);
int cg_v2_sample(struct cg *cg);
pid_t cg_v2_clone3(const struct cg *cg, uint64_t flags, int *ret_pidfd);
