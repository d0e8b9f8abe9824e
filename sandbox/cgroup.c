/* Per-payload cgroups: mode detection, the pure parsers, and the logic both backends share
 * (create, attach, destroy, stale cleanup). */
#include "sandbox/cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/sched.h>

#include "cgroup-internal.h"
#include "common/fdutil.h"
#include "common/macro.h"
#include "common/parse.h"
#include "common/strutil.h"

/* ---- Pure parsers ---------------------------------------------------------------------- */

bool cg_path_is_valid(const char *path)
{
        if (!path || path[0] != '/' || strlen(path) >= PATH_MAX)
                return false;
        if (strcmp(path, "/") == 0)
                return true;
        const char *p = path + 1;
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                if (len == 0 || len > NAME_MAX)
                        return false;
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (!slash)
                        return true;
                p = slash + 1;
        }
}

/* The next line of text (without its newline) at *pos; false at the end. */
static bool next_line(const char *text, size_t *pos, const char **ret_line, size_t *ret_len)
{
        const char *start = text + *pos;
        if (!*start)
                return false;
        const char *nl = strchr(start, '\n');
        size_t len = nl ? (size_t)(nl - start) : strlen(start);
        *pos += len + (nl ? 1 : 0);
        *ret_line = start;
        *ret_len = len;
        return true;
}

static bool list_has(const char *list, size_t len, char sep, const char *word)
{
        size_t wlen = strlen(word);
        const char *end = list + len;
        for (const char *p = list; p <= end;) {
                const char *s = memchr(p, sep, (size_t)(end - p));
                size_t tlen = s ? (size_t)(s - p) : (size_t)(end - p);
                if (tlen == wlen && memcmp(p, word, wlen) == 0)
                        return true;
                if (!s)
                        break;
                p = s + 1;
        }
        return false;
}

#define PROC_CGROUP_MAX_LINES 128

int cg_parse_proc_cgroup(const char *text, const char *controller, char **ret_path)
{
        uint64_t ids[PROC_CGROUP_MAX_LINES];
        size_t n_ids = 0, pos = 0, len;
        const char *line, *found = NULL;
        size_t found_len = 0;

        while (next_line(text, &pos, &line, &len)) {
                const char *c1 = memchr(line, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
                if (!c2 || c1 == line || (size_t)(c1 - line) > 20)
                        return -EINVAL;
                char idbuf[21];
                memcpy(idbuf, line, (size_t)(c1 - line));
                idbuf[c1 - line] = '\0';
                uint64_t id;
                if (gx_parse_u64(idbuf, &id) < 0)
                        return -EINVAL;
                if (n_ids == ELEMENTSOF(ids))
                        return -EINVAL;
                for (size_t i = 0; i < n_ids; i++)
                        if (ids[i] == id)
                                return -EINVAL;
                ids[n_ids++] = id;

                const char *ctrls = c1 + 1;
                size_t ctrls_len = (size_t)(c2 - ctrls);
                const char *path = c2 + 1;
                size_t path_len = len - (size_t)(path - line);
                if (path_len == 0)
                        return -EINVAL;
                bool match = controller
                                     ? ctrls_len > 0 && list_has(ctrls, ctrls_len, ',', controller)
                                     : id == 0 && ctrls_len == 0;
                if (!match)
                        continue;
                if (found)
                        return -EINVAL;
                found = path;
                found_len = path_len;
        }
        if (!found)
                return -ENOENT;
        char *p = strndup(found, found_len);
        if (!p)
                return -ENOMEM;
        if (!cg_path_is_valid(p)) {
                free(p);
                return -EINVAL;
        }
        *ret_path = p;
        return 0;
}

void cg_mount_done(struct cg_mount *m)
{
        free(m->mount_point);
        free(m->root);
        m->mount_point = m->root = NULL;
}

/* Undo the kernel's octal escaping of blanks and backslashes in mountinfo fields. */
static int unescape_field(const char *s, size_t len, char **ret)
{
        _cleanup_free_ char *out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] != '\\') {
                        out[o++] = s[i];
                        continue;
                }
                if (i + 3 >= len)
                        return -EINVAL;
                unsigned v = 0;
                for (size_t k = 1; k <= 3; k++) {
                        if (s[i + k] < '0' || s[i + k] > '7')
                                return -EINVAL;
                        v = v * 8 + (unsigned)(s[i + k] - '0');
                }
                if (v == 0 || v > 0xff)
                        return -EINVAL;
                out[o++] = (char)v;
                i += 3;
        }
        out[o] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

int cg_strip_root(const char *cgpath, const char *root, const char **ret_rel)
{
        if (strcmp(root, "/") == 0) {
                *ret_rel = cgpath + 1;
                return 0;
        }
        size_t n = strlen(root);
        if (strncmp(cgpath, root, n) != 0)
                return -EXDEV;
        if (cgpath[n] == '\0') {
                *ret_rel = cgpath + n;
                return 0;
        }
        if (cgpath[n] != '/')
                return -EXDEV;
        *ret_rel = cgpath + n + 1;
        return 0;
}

#define MOUNTINFO_MAX_FIELDS 64

int cg_parse_mountinfo(const char *text, const char *controller, const char *cgpath,
                       struct cg_mount *ret)
{
        size_t pos = 0, len;
        const char *line;
        bool mounted = false;
        const char *best_root = NULL, *best_mp = NULL;
        size_t best_root_len = 0, best_mp_len = 0;

        while (next_line(text, &pos, &line, &len)) {
                const char *f[MOUNTINFO_MAX_FIELDS];
                size_t fl[MOUNTINFO_MAX_FIELDS], n = 0;
                const char *end = line + len;
                for (const char *p = line; p < end;) {
                        const char *sp = memchr(p, ' ', (size_t)(end - p));
                        size_t l = sp ? (size_t)(sp - p) : (size_t)(end - p);
                        if (l == 0 || n == ELEMENTSOF(f))
                                return -EINVAL;
                        f[n] = p;
                        fl[n++] = l;
                        if (!sp)
                                break;
                        p = sp + 1;
                        if (p == end)
                                return -EINVAL;
                }
                /* id parent maj:min root mount-point options [optional...] - type source super */
                size_t sep = 6;
                while (sep < n && !(fl[sep] == 1 && f[sep][0] == '-'))
                        sep++;
                if (n < 10 || sep + 4 != n)
                        return -EINVAL;
                if (!(fl[sep + 1] == 6 && memcmp(f[sep + 1], "cgroup", 6) == 0))
                        continue;
                if (!list_has(f[sep + 3], fl[sep + 3], ',', controller))
                        continue;
                mounted = true;

                _cleanup_free_ char *root = NULL;
                int r = unescape_field(f[3], fl[3], &root);
                if (r < 0)
                        return r;
                const char *rel;
                if (!cg_path_is_valid(root) || cg_strip_root(cgpath, root, &rel) < 0)
                        continue;
                if (!best_root || fl[3] < best_root_len) {
                        best_root = f[3];
                        best_root_len = fl[3];
                        best_mp = f[4];
                        best_mp_len = fl[4];
                }
        }
        if (!best_root)
                return mounted ? -EXDEV : -ENOENT;

        struct cg_mount m = {};
        int r = unescape_field(best_root, best_root_len, &m.root);
        if (r >= 0)
                r = unescape_field(best_mp, best_mp_len, &m.mount_point);
        if (r >= 0 && m.mount_point[0] != '/')
                r = -EINVAL;
        if (r < 0) {
                cg_mount_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}

static bool is_key_char(char c)
{
        return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* Parse a decimal u64 of exactly len bytes. */
static int parse_u64_n(const char *s, size_t len, uint64_t *ret)
{
        char buf[24];
        if (len == 0 || len >= sizeof(buf))
                return len == 0 ? -EINVAL : -ERANGE;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return gx_parse_u64(buf, ret);
}

int cg_parse_keyed(const char *text, const char *key, uint64_t *ret)
{
        size_t pos = 0, len, klen = strlen(key);
        const char *line;
        bool found = false;
        uint64_t value = 0;

        while (next_line(text, &pos, &line, &len)) {
                const char *sp = memchr(line, ' ', len);
                if (!sp || sp == line)
                        return -EINVAL;
                for (const char *p = line; p < sp; p++)
                        if (!is_key_char(*p))
                                return -EINVAL;
                uint64_t v;
                int r = parse_u64_n(sp + 1, len - (size_t)(sp + 1 - line), &v);
                if (r < 0)
                        return r;
                if (!found && (size_t)(sp - line) == klen && memcmp(line, key, klen) == 0) {
                        found = true;
                        value = v;
                }
        }
        if (!found)
                return -ENOENT;
        *ret = value;
        return 0;
}

int cg_parse_value(const char *text, uint64_t *ret)
{
        size_t len = strlen(text);
        if (len > 0 && text[len - 1] == '\n')
                len--;
        if (len == 3 && memcmp(text, "max", 3) == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        return parse_u64_n(text, len, ret);
}

static const struct {
        const char *name;
        unsigned bit;
} ctrl_names[] = {
        {"cpu", CG_CTRL_CPU},         {"cpuacct", CG_CTRL_CPUACCT}, {"memory", CG_CTRL_MEMORY},
        {"pids", CG_CTRL_PIDS},       {"freezer", CG_CTRL_FREEZER},
};

int cg_parse_controllers(const char *text, unsigned *ret_mask)
{
        size_t len = strlen(text);
        if (len > 0 && text[len - 1] == '\n')
                len--;
        unsigned mask = 0;
        const char *end = text + len;
        for (const char *p = text; p < end;) {
                const char *sp = memchr(p, ' ', (size_t)(end - p));
                size_t tlen = sp ? (size_t)(sp - p) : (size_t)(end - p);
                if (tlen == 0)
                        return -EINVAL;
                for (size_t i = 0; i < tlen; i++)
                        if (!is_key_char(p[i]))
                                return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(ctrl_names); i++)
                        if (strlen(ctrl_names[i].name) == tlen &&
                            memcmp(ctrl_names[i].name, p, tlen) == 0)
                                mask |= ctrl_names[i].bit;
                if (!sp)
                        break;
                p = sp + 1;
                if (p == end)
                        return -EINVAL;
        }
        *ret_mask = mask;
        return 0;
}

int cg_parse_procs(const char *text, pid_t **ret_pids, size_t *ret_n)
{
        size_t pos = 0, len, n = 0;
        const char *line;
        while (next_line(text, &pos, &line, &len))
                n++;
        _cleanup_free_ pid_t *pids = n ? calloc(n, sizeof(pid_t)) : NULL;
        if (n && !pids)
                return -ENOMEM;
        pos = 0;
        for (size_t i = 0; next_line(text, &pos, &line, &len); i++) {
                uint64_t v;
                if (parse_u64_n(line, len, &v) < 0 || v == 0 || v > INT_MAX)
                        return -EINVAL;
                pids[i] = (pid_t)v;
        }
        *ret_pids = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

/* ---- File access ----------------------------------------------------------------------- */

int cg_read_proc_file(const char *file, size_t max, char **ret, struct gx_error *err)
{
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening %s", file);
        int r = gx_read_all(fd, max, ret, NULL);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s", file);
        return 0;
}


int cg_read_at(int dfd, const char *file, char **ret_text)
{
        _cleanup_close_ int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return gx_read_all(fd, CG_FILE_MAX, ret_text, NULL);
}

/* Only openat, write and close: the child side of cg_attach_self uses it after fork. A
 * control file takes its value in one write. */
int cg_write_at(int dfd, const char *file, const char *value)
{
        int fd = openat(dfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        size_t len = strlen(value);
        ssize_t n;
        do
                n = write(fd, value, len);
        while (n < 0 && errno == EINTR);
        int r = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
        close(fd);
        return r;
}

int cg_read_value_at(int dfd, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        int r = cg_read_at(dfd, file, &text);
        return r < 0 ? r : cg_parse_value(text, ret);
}

int cg_read_keyed_at(int dfd, const char *file, const char *key, uint64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        int r = cg_read_at(dfd, file, &text);
        return r < 0 ? r : cg_parse_keyed(text, key, ret);
}

bool cg_file_exists(int dfd, const char *file)
{
        return faccessat(dfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int cg_write_file(int dfd, const char *dir_path, const char *file, const char *value,
                  struct gx_error *err)
{
        int r = cg_write_at(dfd, file, value);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "writing \"%s\" to %s/%s", value, dir_path,
                               file);
        return 0;
}

int cg_read_file(int dfd, const char *dir_path, const char *file, char **ret_text,
                 struct gx_error *err)
{
        int r = cg_read_at(dfd, file, ret_text);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s/%s", dir_path, file);
        return 0;
}

uint64_t cg_cpu_quota_us(uint64_t milli)
{
        if (milli > UINT64_MAX / CG_CPU_PERIOD_US)
                return UINT64_MAX / 1000;
        uint64_t q = milli * CG_CPU_PERIOD_US / 1000;
        return q < CG_CPU_QUOTA_MIN_US ? CG_CPU_QUOTA_MIN_US : q;
}

void cg_sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- Mode and parent ------------------------------------------------------------------- */

int cg_detect(enum cg_mode *ret_mode, struct gx_error *err)
{
        struct statfs sfs;
        if (statfs(CG_V2_MOUNT, &sfs) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "statfs %s", CG_V2_MOUNT);
        if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
                *ret_mode = CG_MODE_V2;
                return 0;
        }
        /* Hybrid mode (a controller-less cgroup2 at /sys/fs/cgroup/unified) is v1 for us:
         * memory, cpu and pids are only in the v1 hierarchies there. */
        if (sfs.f_type == TMPFS_MAGIC) {
                *ret_mode = CG_MODE_V1;
                return 0;
        }
        return gx_fail(err, GX_SYSTEM, EOPNOTSUPP,
                       "%s is neither cgroup2 nor a tmpfs holding cgroup v1 hierarchies "
                       "(file system type 0x%lx)",
                       CG_V2_MOUNT, (unsigned long)sfs.f_type);
}

int cg_unavailable(struct gx_error *err, const char *fmt, ...)
{
        char reason[sizeof(err->msg)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        gx_fail(err, GX_SYSTEM, 0, "%s", reason);
        return CG_UNAVAILABLE;
}

int cg_own_path(const char *proc_cgroup, const char *key, char **ret_path, struct gx_error *err)
{
        int r = cg_parse_proc_cgroup(proc_cgroup, key, ret_path);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "/proc/self/cgroup: no usable line for %s",
                               key ? key : "the unified hierarchy");
        return 0;
}

int cg_open_parent(int mount_fd, const char *mount_path, const char *rel, long magic,
                   int *ret_fd, struct gx_error *err)
{
        /* rel comes from a validated hierarchy path (no "." or ".."), and cgroupfs has no
         * symlinks; O_NOFOLLOW and the type check below hold that even if the mount moved. */
        _cleanup_close_ int fd = *rel ? openat(mount_fd, rel, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                                                      O_CLOEXEC)
                                      : fcntl(mount_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening cgroup %s/%s", mount_path, rel);
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "statfs %s/%s", mount_path, rel);
        if (sfs.f_type != magic)
                return gx_fail(err, GX_SYSTEM, EXDEV, "%s/%s is not on a %s file system",
                               mount_path, rel,
                               magic == CGROUP2_SUPER_MAGIC ? "cgroup2" : "cgroup");
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void cg_hier_done(struct cg_hier *h)
{
        free(h->cgpath);
        free(h->path);
        h->cgpath = h->path = NULL;
        h->fd = safe_close(h->fd);
}

void cg_parent_free(struct cg_parent *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_hier; i++)
                cg_hier_done(&p->hier[i]);
        free(p);
}

int cg_parent_open(enum cg_mode mode, const struct cg_parent_request *req,
                   struct cg_parent **ret, struct gx_error *err)
{
        if (req->parent && strcmp(req->parent, "auto") != 0 && !cg_path_is_valid(req->parent))
                return gx_fail(err, GX_SYSTEM, EINVAL,
                               "cgroup_parent \"%s\" is not \"auto\" or a clean absolute path",
                               req->parent);
        struct cg_parent *p = calloc(1, sizeof(*p));
        if (!p)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "cgroup parent");
        p->mode = mode;
        for (size_t i = 0; i < CG_MAX_HIER; i++)
                p->hier[i].fd = -1;
        int r = mode == CG_MODE_V2 ? cg_v2_parent_open(req, p, err)
                                   : cg_v1_parent_open(req, p, err);
        if (r != 0) {
                cg_parent_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

enum cg_mode cg_parent_mode(const struct cg_parent *p)
{
        return p->mode;
}

static const struct cg_hier *parent_main_hier(const struct cg_parent *p)
{
        for (size_t i = 0; i < p->n_hier; i++)
                if (p->hier[i].ctrls & CG_CTRL_MEMORY)
                        return &p->hier[i];
        return &p->hier[0];
}

const char *cg_parent_path(const struct cg_parent *p)
{
        return parent_main_hier(p)->path;
}

bool cg_parent_did_leaf_split(const struct cg_parent *p)
{
        return p->leaf_split;
}

/* ---- Payload cgroup -------------------------------------------------------------------- */

static bool launch_id_is_valid(const char *id)
{
        if (!id || strlen(id) != CG_LAUNCH_ID_LEN)
                return false;
        for (const char *c = id; *c; c++)
                if (!isdigit((unsigned char)*c) && !(*c >= 'a' && *c <= 'f'))
                        return false;
        return true;
}

static struct cg *cg_new(enum cg_mode mode, const char *launch_id)
{
        struct cg *cg = calloc(1, sizeof(*cg));
        if (!cg)
                return NULL;
        cg->mode = mode;
        snprintf(cg->name, sizeof(cg->name), "%s%s", CG_NAME_PREFIX, launch_id);
        for (size_t i = 0; i < CG_MAX_HIER; i++)
                cg->dir[i].fd = cg->dir[i].parent_fd = -1;
        return cg;
}

void cg_free(struct cg *cg)
{
        if (!cg)
                return;
        for (size_t i = 0; i < cg->n_dir; i++) {
                struct cg_dir *d = &cg->dir[i];
                safe_close(d->fd);
                safe_close(d->parent_fd);
                free(d->cgpath);
                free(d->path);
        }
        free(cg);
}

/* Open glexec-<id> below h and check that it is a cgroup directory that only root can
 * change: a caller who owns a delegated parent can replace our fresh directory with one of
 * its own between mkdir and open, and this is where that shows. */
static int open_payload_dir(struct cg *cg, const struct cg_hier *h, long magic,
                            struct gx_error *err)
{
        struct cg_dir *d = &cg->dir[cg->n_dir];
        _cleanup_free_ char *path = NULL, *cgpath = NULL;
        if (asprintf(&path, "%s/%s", h->path, cg->name) < 0 ||
            asprintf(&cgpath, "%s%s%s", h->cgpath, strcmp(h->cgpath, "/") ? "/" : "",
                     cg->name) < 0)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "cgroup path");
        _cleanup_close_ int fd = openat(h->fd, cg->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                                                 O_CLOEXEC);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening %s", path);
        struct stat st;
        struct statfs sfs;
        if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "stat %s", path);
        if (sfs.f_type != magic)
                return gx_fail(err, GX_SYSTEM, EXDEV, "%s is not a cgroup", path);
        if (!gx_stat_is_trusted(&st))
                return gx_fail(err, GX_SYSTEM, EPERM,
                               "%s is owned by uid %u with mode %04o, not by root without group "
                               "or other write access",
                               path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        _cleanup_close_ int pfd = fcntl(h->fd, F_DUPFD_CLOEXEC, 3);
        if (pfd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "dup");
        d->ctrls = h->ctrls;
        d->key = h->key;
        d->fd = TAKE_FD(fd);
        d->parent_fd = TAKE_FD(pfd);
        d->path = TAKE_PTR(path);
        d->cgpath = TAKE_PTR(cgpath);
        cg->n_dir++;
        return 0;
}

/* The name may now denote another directory: a caller owning a v1 parent can rename ours
 * and put one of its own in its place. Only rmdir the directory we opened. */
static int rmdir_ours(struct cg_dir *d, const char *name)
{
        struct stat ours, now;
        if (fstat(d->fd, &ours) < 0)
                return -errno;
        if (fstatat(d->parent_fd, name, &now, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (now.st_dev != ours.st_dev || now.st_ino != ours.st_ino)
                return -ESTALE;
        if (unlinkat(d->parent_fd, name, AT_REMOVEDIR) < 0)
                return -errno;
        return 0;
}

static long mode_magic(enum cg_mode mode)
{
        return mode == CG_MODE_V2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;
}

int cg_create(const struct cg_parent *p, const char *launch_id, const struct cg_limits *limits,
              struct cg **ret, struct gx_error *err)
{
        if (!launch_id_is_valid(launch_id))
                return gx_fail(err, GX_SYSTEM, EINVAL, "launch id \"%s\" is not %d hex digits",
                               launch_id ? launch_id : "", CG_LAUNCH_ID_LEN);
        struct cg *cg = cg_new(p->mode, launch_id);
        if (!cg)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "cgroup");
        int r = 0;
        for (size_t i = 0; i < p->n_hier; i++) {
                const struct cg_hier *h = &p->hier[i];
                /* Never adopt: an existing directory of this unpredictable name was put there
                 * by someone else (slurm.md section 3, hostile pre-creation). */
                if (mkdirat(h->fd, cg->name, 0755) < 0) {
                        r = gx_fail(err, GX_SYSTEM, errno, "creating cgroup %s/%s", h->path,
                                    cg->name);
                        goto fail;
                }
                r = open_payload_dir(cg, h, mode_magic(p->mode), err);
                if (r < 0) {
                        /* Remove what we made unless it is not ours to remove. */
                        if (r != -EPERM)
                                unlinkat(h->fd, cg->name, AT_REMOVEDIR);
                        goto fail;
                }
        }
        r = p->mode == CG_MODE_V2 ? cg_v2_set_limits(cg, limits, err)
                                  : cg_v1_set_limits(cg, limits, err);
        if (r < 0)
                goto fail;
        *ret = cg;
        return 0;
fail:
        for (size_t i = 0; i < cg->n_dir; i++)
                rmdir_ours(&cg->dir[i], cg->name);
        cg_free(cg);
        return r;
}

enum cg_mode cg_mode(const struct cg *cg)
{
        return cg->mode;
}

const char *cg_path(const struct cg *cg)
{
        for (size_t i = 0; i < cg->n_dir; i++)
                if (cg->dir[i].ctrls & CG_CTRL_MEMORY)
                        return cg->dir[i].path;
        return cg->n_dir ? cg->dir[0].path : "";
}

int cg_clone_fd(const struct cg *cg)
{
        return cg->mode == CG_MODE_V2 && cg->n_dir == 1 ? cg->dir[0].fd : -1;
}

pid_t cg_clone3_into(const struct cg *cg, uint64_t flags, int *ret_pidfd)
{
        if (cg->mode != CG_MODE_V2)
                return -EOPNOTSUPP;
        return cg_v2_clone3(cg, flags, ret_pidfd);
}

/* The file through which a single-threaded process moves itself ("0") at the cost of one
 * thread's migration: see cg_attach_self in cgroup.h. */
static const char *self_move_file(enum cg_mode mode)
{
        return mode == CG_MODE_V2 ? "cgroup.procs" : "tasks";
}

int cg_attach_self(const struct cg *cg)
{
        for (size_t i = 0; i < cg->n_dir; i++) {
                int r = cg_write_at(cg->dir[i].fd, self_move_file(cg->mode), "0");
                if (r < 0)
                        return r;
        }
        return 0;
}

int cg_sample(struct cg *cg)
{
        return cg->mode == CG_MODE_V2 ? cg_v2_sample(cg) : 0;
}

int cg_read_stats(struct cg *cg, struct cg_stats *ret, struct gx_error *err)
{
        struct cg_stats s = {.memory_peak_bytes = -1, .oom_kills = -1, .pids_peak = -1};
        int r = cg->mode == CG_MODE_V2 ? cg_v2_read_stats(cg, &s, err)
                                       : cg_v1_read_stats(cg, &s, err);
        if (r < 0)
                return r;
        s.oom_killed = s.oom_kills >= 0 ? s.oom_kills > 0 : s.memory_limit_hits > 0;
        *ret = s;
        return 0;
}

/* ---- Killing and removal --------------------------------------------------------------- */

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static bool is_member(pid_t pid, const struct cg_dir *d)
{
        char file[32];
        snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return false;
        _cleanup_free_ char *text = NULL, *path = NULL;
        if (gx_read_all(fd, 1U << 16, &text, NULL) < 0)
                return false;
        if (cg_parse_proc_cgroup(text, d->key, &path) < 0)
                return false;
        return strcmp(path, d->cgpath) == 0;
}

/* A pid read from cgroup.procs may belong to another process by the time we signal it, if
 * the listed one exited and the number was reused. A pidfd pins the process: while it is
 * alive its pid cannot be reused, so membership checked after pidfd_open and then a
 * pidfd_send_signal that does not fail with ESRCH hit the very process that was checked. */
static void kill_member(pid_t pid, const struct cg_dir *d)
{
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pfd < 0) {
                /* Before 5.3 there is no pidfd: check, then kill, with a small race window
                 * left. Other errors mean the process is gone. */
                if (errno == ENOSYS && is_member(pid, d))
                        kill(pid, SIGKILL);
                return;
        }
        if (is_member(pid, d))
                syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
        close(pfd);
}

int cg_kill_listed(const struct cg_dir *d)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = cg_read_at(d->fd, "cgroup.procs", &text);
        if (r < 0)
                return r;
        r = cg_parse_procs(text, &pids, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                kill_member(pids[i], d);
        return (int)(n > INT_MAX ? INT_MAX : n);
}

/* rmdir fails with EBUSY while the kernel still counts a process that was just killed; up
 * to about two seconds of retries, killing again in between. */
#define RMDIR_TRIES 12

int cg_destroy(struct cg *cg, struct gx_error *err)
{
        int r = cg->mode == CG_MODE_V2 ? cg_v2_kill(cg, err) : cg_v1_kill(cg, err);
        if (r < 0)
                return r;
        unsigned delay = 1;
        for (unsigned t = 0;; t++) {
                bool busy = false;
                for (size_t i = 0; i < cg->n_dir; i++) {
                        struct cg_dir *d = &cg->dir[i];
                        if (d->removed)
                                continue;
                        r = rmdir_ours(d, cg->name);
                        if (r == 0 || r == -ENOENT) {
                                d->removed = true;
                        } else if (r == -EBUSY) {
                                busy = true;
                        } else if (r == -ESTALE) {
                                return gx_fail(err, GX_SYSTEM, ESTALE,
                                               "%s was replaced by another directory; not "
                                               "removing it",
                                               d->path);
                        } else {
                                return gx_fail(err, GX_SYSTEM, -r, "removing %s", d->path);
                        }
                }
                if (!busy)
                        return 0;
                if (t + 1 == RMDIR_TRIES)
                        break;
                cg_sleep_ms(delay);
                delay = delay * 2 > 400 ? 400 : delay * 2;
                r = cg->mode == CG_MODE_V2 ? cg_v2_kill(cg, err) : cg_v1_kill(cg, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < cg->n_dir; i++)
                if (!cg->dir[i].removed)
                        return gx_fail(err, GX_SYSTEM, EBUSY, "removing %s after %d tries",
                                       cg->dir[i].path, RMDIR_TRIES);
        return 0;
}

/* ---- Stale cleanup --------------------------------------------------------------------- */

static bool is_payload_name(const char *name)
{
        size_t plen = strlen(CG_NAME_PREFIX);
        return strncmp(name, CG_NAME_PREFIX, plen) == 0 && launch_id_is_valid(name + plen);
}

/* The cgroup of a launch found in the parent, in every hierarchy where it exists. -EPERM
 * when any of them is not root's. */
static int open_existing(const struct cg_parent *p, const char *id, struct cg **ret,
                         struct gx_error *err)
{
        struct cg *cg = cg_new(p->mode, id);
        if (!cg)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "cgroup");
        for (size_t i = 0; i < p->n_hier; i++) {
                struct stat st;
                if (fstatat(p->hier[i].fd, cg->name, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                    errno == ENOENT)
                        continue;
                int r = open_payload_dir(cg, &p->hier[i], mode_magic(p->mode), err);
                if (r < 0) {
                        cg_free(cg);
                        return r;
                }
        }
        *ret = cg;
        return 0;
}

struct id_list {
        char (*ids)[CG_LAUNCH_ID_LEN + 1];
        size_t n, cap;
};

static int id_list_add(struct id_list *l, const char *id)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->ids[i], id) == 0)
                        return 0;
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                void *n = reallocarray(l->ids, cap, sizeof(*l->ids));
                if (!n)
                        return -ENOMEM;
                l->ids = n;
                l->cap = cap;
        }
        memcpy(l->ids[l->n++], id, CG_LAUNCH_ID_LEN + 1);
        return 0;
}

static int list_payload_ids(const struct cg_parent *p, const char *own_id, struct id_list *l,
                            struct gx_error *err)
{
        size_t plen = strlen(CG_NAME_PREFIX);
        for (size_t i = 0; i < p->n_hier; i++) {
                int fd = openat(p->hier[i].fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return gx_fail(err, GX_SYSTEM, errno, "opening %s", p->hier[i].path);
                DIR *dir = fdopendir(fd);
                if (!dir) {
                        int e = errno;
                        close(fd);
                        return gx_fail(err, GX_SYSTEM, e, "reading %s", p->hier[i].path);
                }
                struct dirent *de;
                int r = 0;
                while (r == 0 && (de = readdir(dir)))
                        if (de->d_type == DT_DIR && is_payload_name(de->d_name) &&
                            !(own_id && strcmp(de->d_name + plen, own_id) == 0))
                                r = id_list_add(l, de->d_name + plen);
                closedir(dir);
                if (r < 0)
                        return gx_fail(err, GX_SYSTEM, -r, "listing %s", p->hier[i].path);
        }
        return 0;
}

int cg_cleanup_stale(const struct cg_parent *p, const char *own_id, cg_owner_alive_fn alive,
                     void *userdata, unsigned *ret_removed, struct gx_error *err)
{
        struct id_list l = {};
        unsigned removed = 0;
        int first = list_payload_ids(p, own_id, &l, err);
        if (first < 0) {
                free(l.ids);
                return first;
        }
        for (size_t i = 0; i < l.n; i++) {
                /* The owner holds its lock from before mkdir until after rmdir, so "dead" here
                 * means that nobody will touch this cgroup again but us (and perhaps a
                 * concurrent cleanup, which only makes the rmdir below see ENOENT). */
                if (alive(l.ids[i], userdata) != 0)
                        continue;
                struct cg *cg = NULL;
                struct gx_error e = {};
                int r = open_existing(p, l.ids[i], &cg, &e);
                if (r == -EPERM)
                        continue;
                bool any = false;
                if (r >= 0) {
                        any = cg->n_dir > 0;
                        r = cg_destroy(cg, &e);
                        cg_free(cg);
                }
                if (r < 0) {
                        if (first == 0 && err)
                                *err = e;
                        first = first ? first : r;
                        continue;
                }
                removed += any;
        }
        free(l.ids);
        if (ret_removed)
                *ret_removed = removed;
        return first;
}

static int move_self_in(enum cg_mode mode, const char *mount_point)
{
        int dfd = open(mount_point, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        int r = cg_write_at(dfd, self_move_file(mode), "0");
        close(dfd);
        return r;
}

/* v1: leave our cgroup of the hierarchy carrying controller (path, from /proc/self/cgroup)
 * for the root of that hierarchy. */
static void leave_to_root(const char *mountinfo, const char *controller, const char *path)
{
        struct cg_mount m = {0};
        if (!path || strcmp(path, "/") == 0 ||
            cg_parse_mountinfo(mountinfo, controller, "/", &m) < 0)
                return;
        if (strcmp(m.root, "/") == 0)
                (void)move_self_in(CG_MODE_V1, m.mount_point);
        cg_mount_done(&m);
}

/* v1: leave every hierarchy's cgroup listed in self (/proc/self/cgroup) for its root. */
static void leave_all_v1(const char *self)
{
        static const char *const controllers[] = {"memory",  "cpu",    "cpuacct", "pids",
                                                  "freezer", "cpuset", "devices", "blkio"};
        struct gx_error err;
        _cleanup_free_ char *mountinfo = NULL;
        if (cg_read_proc_file("/proc/self/mountinfo", 16U << 20, &mountinfo, &err) < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++) {
                _cleanup_free_ char *path = NULL;
                if (cg_parse_proc_cgroup(self, controllers[i], &path) == 0)
                        leave_to_root(mountinfo, controllers[i], path);
        }
}

void cg_move_self_to_root(void)
{
        struct gx_error err;
        enum cg_mode mode;
        if (cg_detect(&mode, &err) < 0)
                return;
        if (mode == CG_MODE_V2) {
                (void)move_self_in(mode, "/sys/fs/cgroup");
                return;
        }
        _cleanup_free_ char *self = NULL;
        if (cg_read_proc_file("/proc/self/cgroup", 1U << 16, &self, &err) == 0)
                leave_all_v1(self);
}

pid_t cg_fork_outside_job(struct gx_error *err)
{
        enum cg_mode mode;
        int r = cg_detect(&mode, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *self = NULL, *path = NULL;
        r = cg_read_proc_file("/proc/self/cgroup", 1U << 16, &self, err);
        if (r < 0)
                return r;
        /* v2: batch systems kill a job's whole cgroup subtree. v1: they signal the members of
         * the job's freezer cgroup (Slurm's proctrack/cgroup), so only a caller tracked by a
         * freezer cgroup needs the child moved out at all. */
        const char *controller = mode == CG_MODE_V2 ? NULL : "freezer";
        if (cg_parse_proc_cgroup(self, controller, &path) < 0 || strcmp(path, "/") == 0) {
                pid_t pid = fork();
                return pid < 0 ? gx_fail(err, GX_SYSTEM, errno, "fork") : pid;
        }

        if (mode == CG_MODE_V2) {
                /* Born in the root cgroup: no migration at all. */
                _cleanup_close_ int root = open("/sys/fs/cgroup",
                                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct clone_args args = {
                        .flags = CLONE_INTO_CGROUP,
                        .exit_signal = SIGCHLD,
                        .cgroup = (uint64_t)root,
                };
                long pid = root >= 0 ? syscall(SYS_clone3, &args, sizeof(args)) : -1;
                if (pid >= 0)
                        return (pid_t)pid;
                pid = fork();
                if (pid == 0)
                        (void)move_self_in(mode, "/sys/fs/cgroup");
                return pid < 0 ? gx_fail(err, GX_SYSTEM, errno, "fork") : (pid_t)pid;
        }
        /* Under a batch system (v1, tracked by the freezer) the child leaves all the job's
         * cgroups, not only the freezer one: the batch system removes them as soon as the job's
         * processes are gone, and the reaper, still at work then, must not be in one. */
        pid_t pid = fork();
        if (pid == 0)
                leave_all_v1(self); /* the parent's cgroups, which are still ours */
        return pid < 0 ? gx_fail(err, GX_SYSTEM, errno, "fork") : pid;
}
