#include "common/fdutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macro.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

ssize_t gx_read_full(int fd, void *buf, size_t len)
{
        size_t done = 0;
        while (done < len) {
                ssize_t n = read(fd, (char *)buf + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t)n;
        }
        return (ssize_t)done;
}

int gx_write_full(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int gx_pipes(int (*pipes)[2], size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (pipe2(pipes[i], O_CLOEXEC) == 0)
                        continue;
                int e = errno;
                while (i-- > 0) {
                        close(pipes[i][0]);
                        close(pipes[i][1]);
                }
                return -e;
        }
        return 0;
}

int gx_read_all(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap >= max + 1)
                                return -EFBIG;
                        size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
                        char *n = realloc(buf, ncap + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        cap = ncap;
                }
                ssize_t r = read(fd, buf + len, cap - len);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                len += (size_t)r;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

bool gx_stat_is_trusted(const struct stat *st)
{
        return st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

static bool dir_is_trusted_on_the_way(const struct stat *st)
{
        if (gx_stat_is_trusted(st))
                return true;
        /* /tmp-like: root-owned and sticky, so only root can rename or unlink root's entries. */
        return S_ISDIR(st->st_mode) && st->st_uid == 0 && (st->st_mode & S_ISVTX);
}

#define MAX_DEPTH 64
#define MAX_SYMLINKS 32

struct walk {
        int fds[MAX_DEPTH]; /* fds[0] is "/", fds[depth-1] the current directory */
        int depth;
        int borrowed;       /* fds[0..borrowed-1] belong to a walk_memo entry */
        char walked[PATH_MAX]; /* "/a/b": the directories in fds[1..], while plain */
        bool plain;            /* no symlink, "." or ".." on the way so far */
};

/* Walks that verified a directory and everything above it, kept for later walks below the
 * same directory: a launch checks some twenty paths, most of them below a few directories,
 * and every component costs four syscalls. What such a walk verified can only be changed by
 * root (every directory on it is root's and writable by nobody else, or root's and sticky),
 * so it holds for the rest of the process. Each entry keeps the walk's whole stack of
 * O_PATH fds, so that ".." and absolute symlinks further on are still followed from the
 * right place. Entries are never evicted, only forgotten when gx_close_from() closes fds. */
#define WALK_MEMO_MAX 8
static struct walk_memo {
        char path[PATH_MAX]; /* as walk.walked */
        int fds[MAX_DEPTH];
        int depth;
        dev_t dev; /* of fds[depth-1], checked before each use */
        ino_t ino;
} walk_memo[WALK_MEMO_MAX];
static int n_walk_memo;

static void walk_pop(struct walk *w)
{
        if (w->depth > 1) {
                w->depth--;
                if (w->depth >= w->borrowed)
                        w->fds[w->depth] = safe_close(w->fds[w->depth]);
                else
                        w->borrowed = w->depth;
        }
}

static void walk_free(struct walk *w)
{
        while (w->depth > w->borrowed) {
                w->depth--;
                w->fds[w->depth] = safe_close(w->fds[w->depth]);
        }
        w->depth = 0;
}

/* Length of path's prefix naming m's directory, if path continues below it; else 0. */
static size_t memo_prefix(const struct walk_memo *m, const char *path)
{
        const char *a = m->path, *b = path;
        while (*a) {
                /* both at a '/' here: compare the next component */
                while (*b == '/')
                        b++;
                a++;
                size_t n = strcspn(a, "/");
                if (strncmp(a, b, n) != 0 || (b[n] != '/' && b[n] != '\0'))
                        return 0;
                a += n;
                b += n;
        }
        while (*b == '/')
                b++;
        return *b ? (size_t)(b - path) : 0;
}

/* Start w from the longest remembered walk that path goes below; the offset in path where
 * the walk goes on, or 0 when there is none. */
static size_t walk_from_memo(struct walk *w, const char *path)
{
        struct walk_memo *best = NULL;
        size_t best_len = 0;
        for (int i = 0; i < n_walk_memo; i++) {
                size_t len = memo_prefix(&walk_memo[i], path);
                if (len > best_len) {
                        best = &walk_memo[i];
                        best_len = len;
                }
        }
        struct stat st;
        if (!best || fstat(best->fds[best->depth - 1], &st) < 0 || st.st_dev != best->dev ||
            st.st_ino != best->ino)
                return 0;
        memcpy(w->fds, best->fds, (size_t)best->depth * sizeof(w->fds[0]));
        w->depth = w->borrowed = best->depth;
        memcpy(w->walked, best->path, sizeof(w->walked));
        return best_len;
}

/* Remember a plain walk that verified more than "/"; w no longer owns its fds after this. */
static void walk_remember(struct walk *w)
{
        struct stat st;
        if (!w->plain || w->depth <= w->borrowed || n_walk_memo >= WALK_MEMO_MAX ||
            fstat(w->fds[w->depth - 1], &st) < 0)
                return;
        struct walk_memo *m = &walk_memo[n_walk_memo++];
        memcpy(m->path, w->walked, sizeof(m->path));
        memcpy(m->fds, w->fds, (size_t)w->depth * sizeof(m->fds[0]));
        m->depth = w->depth;
        m->dev = st.st_dev;
        m->ino = st.st_ino;
        w->borrowed = w->depth;
}

/* Walk `path` component by component with O_PATH|O_NOFOLLOW, checking each directory.
 * Leaves w at the parent of the last component and copies that component into last. */
static int walk_to_parent(struct walk *w, const char *path, char *last, size_t last_size,
                          struct gx_error *err)
{
        char rest[PATH_MAX];
        int symlinks = 0;

        if (path[0] != '/')
                return gx_fail(err, GX_SYSTEM, EINVAL, "%s: not an absolute path", path);
        if (strlen(path) >= sizeof(rest))
                return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "%s", path);
        snprintf(rest, sizeof(rest), "%s", path);

        *w = (struct walk){.plain = true};
        char *p = rest + walk_from_memo(w, rest);
        if (w->depth == 0) {
                w->fds[0] = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (w->fds[0] < 0)
                        return gx_fail(err, GX_SYSTEM, errno, "open /");
                w->depth = 1;
        }

        for (;;) {
                while (*p == '/')
                        p++;
                char *slash = strchr(p, '/');
                char *next = slash ? slash + 1 : p + strlen(p);
                size_t clen = slash ? (size_t)(slash - p) : strlen(p);
                while (*next == '/')
                        next++;
                if (clen == 0 && *next == '\0')
                        return gx_fail(err, GX_SYSTEM, EINVAL, "%s: names a directory", path);
                if (clen >= NAME_MAX + 1)
                        return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "%s", path);
                char comp[NAME_MAX + 1];
                memcpy(comp, p, clen);
                comp[clen] = '\0';
                bool is_last = *next == '\0';

                if (strcmp(comp, ".") == 0) {
                        w->plain = false;
                        p = next;
                        if (is_last)
                                return gx_fail(err, GX_SYSTEM, EINVAL, "%s: ends in '.'", path);
                        continue;
                }
                if (strcmp(comp, "..") == 0) {
                        w->plain = false;
                        if (is_last)
                                return gx_fail(err, GX_SYSTEM, EINVAL, "%s: ends in '..'", path);
                        walk_pop(w);
                        p = next;
                        continue;
                }

                struct stat st;
                int cur = w->fds[w->depth - 1];
                if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        /* A missing last component is for the caller's open to judge
                         * (O_CREAT may make it). */
                        if (errno == ENOENT && is_last) {
                                if ((size_t)snprintf(last, last_size, "%s", comp) >= last_size)
                                        return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "%s", path);
                                return 0;
                        }
                        return gx_fail(err, GX_SYSTEM, errno, "%s", path);
                }
                if (S_ISLNK(st.st_mode)) {
                        /* Only root can have made a symlink in a trusted directory; still
                         * insist that root owns it, then continue from its target. */
                        if (st.st_uid != 0)
                                return gx_fail(err, GX_SYSTEM, EPERM,
                                               "%s: symlink %s not owned by root", path, comp);
                        w->plain = false;
                        if (++symlinks > MAX_SYMLINKS)
                                return gx_fail(err, GX_SYSTEM, ELOOP, "%s", path);
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(cur, comp, target, sizeof(target) - 1);
                        if (n < 0)
                                return gx_fail(err, GX_SYSTEM, errno, "%s", path);
                        target[n] = '\0';
                        char joined[PATH_MAX];
                        int len = snprintf(joined, sizeof(joined), "%s%s%s", target,
                                           *next ? "/" : "", next);
                        if (len < 0 || (size_t)len >= sizeof(joined))
                                return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "%s", path);
                        if (target[0] == '/')
                                while (w->depth > 1)
                                        walk_pop(w);
                        memcpy(rest, joined, (size_t)len + 1);
                        p = rest;
                        continue;
                }
                if (is_last) {
                        if ((size_t)snprintf(last, last_size, "%s", comp) >= last_size)
                                return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "%s", path);
                        return 0;
                }
                if (!S_ISDIR(st.st_mode))
                        return gx_fail(err, GX_SYSTEM, ENOTDIR, "%s", path);
                if (w->depth >= MAX_DEPTH)
                        return gx_fail(err, GX_SYSTEM, ELOOP, "%s: too deep", path);
                int fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return gx_fail(err, GX_SYSTEM, errno, "%s", path);
                w->fds[w->depth++] = fd;
                /* Check the opened directory itself, not the name we looked at. */
                if (fstat(fd, &st) < 0)
                        return gx_fail(err, GX_SYSTEM, errno, "%s", path);
                if (!dir_is_trusted_on_the_way(&st))
                        return gx_fail(err, GX_SYSTEM, EPERM,
                                       "%s: directory %s is not owned by root or is writable by "
                                       "group or other",
                                       path, comp);
                size_t wl = strlen(w->walked);
                if (w->plain && wl + 1 + clen < sizeof(w->walked)) {
                        w->walked[wl] = '/';
                        memcpy(w->walked + wl + 1, comp, clen + 1);
                } else {
                        w->plain = false;
                }
                p = next;
        }
}

int gx_open_trusted(const char *path, int flags, struct gx_error *err)
{
        struct walk w = {.depth = 0};
        char last[NAME_MAX + 1];
        int r = walk_to_parent(&w, path, last, sizeof(last), err);
        if (r < 0) {
                walk_free(&w);
                return r;
        }
        /* 0600 matters only with O_CREAT: files glexec creates (logs) are root's alone. */
        int fd = openat(w.fds[w.depth - 1], last, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        int saved = errno;
        walk_remember(&w);
        walk_free(&w);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, saved, "%s", path);
        struct stat st;
        if (fstat(fd, &st) < 0) {
                saved = errno;
                close(fd);
                return gx_fail(err, GX_SYSTEM, saved, "%s", path);
        }
        if (!gx_stat_is_trusted(&st)) {
                close(fd);
                return gx_fail(err, GX_SYSTEM, EPERM,
                               "%s is not owned by root or is writable by group or other", path);
        }
        return fd;
}

int gx_open_trusted_dir(const char *path, struct gx_error *err)
{
        return gx_open_trusted(path, O_RDONLY | O_DIRECTORY, err);
}

int gx_cloexec_from(int from)
{
        if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
                return 0;
        /* Kernels before 5.11: walk /proc/self/fd. */
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                int fd = atoi(de->d_name);
                if (fd >= from && fd != dirfd(d))
                        fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        closedir(d);
        return 0;
}

int gx_close_from(int from, const int *keep, size_t n_keep)
{
        /* The remembered walks' fds go with the rest. */
        n_walk_memo = 0;
        /* Close the gaps between the sorted kept fds with close_range. */
        int lo = from;
        for (;;) {
                int next_keep = -1;
                for (size_t i = 0; i < n_keep; i++)
                        if (keep[i] >= lo && (next_keep < 0 || keep[i] < next_keep))
                                next_keep = keep[i];
                unsigned hi = next_keep < 0 ? ~0U : (unsigned)next_keep - 1;
                if (next_keep < 0 || next_keep > lo)
                        if (syscall(SYS_close_range, (unsigned)lo, hi, 0) < 0)
                                return -errno;
                if (next_keep < 0)
                        return 0;
                lo = next_keep + 1;
        }
}
