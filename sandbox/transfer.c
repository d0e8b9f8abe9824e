#include "sandbox/transfer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/strutil.h"

/* The stream: records of a fixed header, then name_len bytes of name, then data_len bytes.
 *
 *   DIR      name, mode            create a directory and enter it
 *   END_DIR  b, c = mtime          leave it (its mode is applied now, so that a read-only
 *                                  directory can still be filled)
 *   FILE     name, mode, a = link group (0: none; else the next unused number)
 *   DATA     a = offset, data      a piece of the open file
 *   END_FILE a = size, b, c = mtime
 *                                  close the open file
 *   SYMLINK  name, data = target
 *   LINK     name, a = link group  a hard link to the first file of that group
 *   DONE                           the end; a stream without it is truncated
 *
 * Both halves run in the same kernel and architecture, so the header is in host order. */
enum {
        REC_DIR = 1,
        REC_END_DIR,
        REC_FILE,
        REC_DATA,
        REC_END_FILE,
        REC_SYMLINK,
        REC_LINK,
        REC_DONE,
};

struct rec {
        uint32_t type;
        uint32_t mode;
        uint32_t name_len;
        uint32_t data_len;
        uint64_t a;
        int64_t b;
        int64_t c;
};

#define CHUNK (64 * 1024)

/* One component that names an entry: not empty, ".", ".." or too long. */
static bool valid_name(const char *s, size_t len)
{
        if (len == 0 || len > NAME_MAX || memchr(s, '/', len) || memchr(s, '\0', len))
                return false;
        return !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

bool transfer_is_plain_path(const char *path)
{
        for (const char *p = path;;) {
                size_t n = strcspn(p, "/");
                if (!valid_name(p, n))
                        return false;
                if (!p[n])
                        return true;
                p += n + 1;
        }
}

int transfer_source_name(const char *path, char *buf, size_t size)
{
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/')
                len--;
        const char *start = path + len;
        while (start > path && start[-1] != '/')
                start--;
        size_t n = (size_t)(path + len - start);
        if (n > NAME_MAX || n >= size)
                return -ENAMETOOLONG;
        if (!valid_name(start, n))
                return -EINVAL;
        memcpy(buf, start, n);
        buf[n] = '\0';
        return 0;
}

/* A relative path kept for messages and hard links, pushed and popped by component. */
struct relpath {
        char s[PATH_MAX];
        size_t len;
};

static int relpath_push(struct relpath *p, const char *name, size_t *saved)
{
        size_t n = strlen(name);
        size_t need = p->len + (p->len ? 1 : 0) + n;
        if (need >= sizeof(p->s))
                return -ENAMETOOLONG;
        *saved = p->len;
        if (p->len)
                p->s[p->len++] = '/';
        memcpy(p->s + p->len, name, n + 1);
        p->len += n;
        return 0;
}

static void relpath_pop(struct relpath *p, size_t saved)
{
        p->len = saved;
        p->s[saved] = '\0';
}

/* A directory fd of our own for dirfd (which may be AT_FDCWD). */
static int dup_dir(int dirfd)
{
        if (dirfd == AT_FDCWD)
                return open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
}

static const char *esc(char *buf, size_t n, const char *s)
{
        gx_escape(buf, n, s);
        return buf;
}

/* ---- sender -------------------------------------------------------------------------- */

struct link_slot {
        dev_t dev;
        ino_t ino;
        uint64_t group; /* 0: empty */
};

struct sender {
        int out;
        unsigned flags;
        dev_t dev;
        uint64_t entries;
        uint64_t groups;
        struct link_slot *links; /* open addressing on (dev, ino), kept under half full */
        size_t links_cap;
        struct relpath path;
        char *buf;
        struct transfer_stats *stats;
        struct gx_error *err;
};

static int send_fail(struct sender *s, int errnum, const char *fmt, ...) _printf_(3, 4);
static int send_fail(struct sender *s, int errnum, const char *fmt, ...)
{
        char e[256], what[128];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return gx_fail(s->err, GX_CLIENT, errnum, "%s: %s", esc(e, sizeof(e), s->path.s), what);
}

static int put(struct sender *s, const struct rec *r, const char *name, const void *data)
{
        int w = gx_write_full(s->out, r, sizeof(*r));
        if (w == 0 && r->name_len)
                w = gx_write_full(s->out, name, r->name_len);
        if (w == 0 && r->data_len)
                w = gx_write_full(s->out, data, r->data_len);
        if (w == -EPIPE)
                return gx_fail(s->err, GX_SYSTEM, EPIPE, "the receiving side of the copy stopped");
        if (w < 0)
                return gx_fail(s->err, GX_SYSTEM, -w, "writing the copy stream");
        return 0;
}

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
        uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ULL) ^
                     ((uint64_t)ino * 0xc2b2ae3d27d4eb4fULL);
        return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct link_slot *link_find(struct link_slot *v, size_t cap, dev_t dev, ino_t ino)
{
        size_t i = link_hash(dev, ino, cap);
        while (v[i].group && !(v[i].dev == dev && v[i].ino == ino))
                i = (i + 1) & (cap - 1);
        return &v[i];
}

/* The group of a multiply-linked file: found (*is_new false) or assigned. */
static int link_group(struct sender *s, dev_t dev, ino_t ino, uint64_t *group, bool *is_new)
{
        if ((s->groups + 1) * 2 > s->links_cap) {
                size_t cap = s->links_cap ? s->links_cap * 2 : 64;
                struct link_slot *v = calloc(cap, sizeof(*v));
                if (!v)
                        return gx_fail(s->err, GX_SYSTEM, ENOMEM, "hard link table");
                for (size_t i = 0; i < s->links_cap; i++)
                        if (s->links[i].group)
                                *link_find(v, cap, s->links[i].dev, s->links[i].ino) = s->links[i];
                free(s->links);
                s->links = v;
                s->links_cap = cap;
        }
        struct link_slot *slot = link_find(s->links, s->links_cap, dev, ino);
        *is_new = slot->group == 0;
        if (*is_new)
                *slot = (struct link_slot){.dev = dev, .ino = ino, .group = ++s->groups};
        *group = slot->group;
        return 0;
}

static int send_data(struct sender *s, int fd, off_t *end)
{
        off_t off = 0;
        while (off < *end) {
                off_t data = lseek(fd, off, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break;
                if (data < 0)
                        data = off;
                if (data >= *end)
                        break;
                off_t hole = lseek(fd, data, SEEK_HOLE);
                if (hole < 0 || hole > *end)
                        hole = *end;
                while (data < hole) {
                        size_t want = hole - data < CHUNK ? (size_t)(hole - data) : CHUNK;
                        ssize_t n = pread(fd, s->buf, want, data);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return send_fail(s, errno, "reading");
                        if (n == 0) {
                                /* Shrunk while we read: copy what there was. */
                                *end = data;
                                return 0;
                        }
                        struct rec r = {.type = REC_DATA, .data_len = (uint32_t)n,
                                        .a = (uint64_t)data};
                        int w = put(s, &r, NULL, s->buf);
                        if (w < 0)
                                return w;
                        s->stats->bytes += (uint64_t)n;
                        data += n;
                }
                off = hole;
        }
        return 0;
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
               (a->st_mode & S_IFMT) == (b->st_mode & S_IFMT);
}

static int send_file(struct sender *s, int dirfd, const char *name, const struct stat *st,
                     bool follow)
{
        /* O_NONBLOCK and O_NOCTTY: harmless for the regular file we expect, and what keeps a
         * FIFO or terminal swapped in since the fstatat from blocking or attaching us. */
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
                                                             (follow ? 0 : O_NOFOLLOW));
        if (fd < 0)
                return send_fail(s, errno, "cannot open");
        struct stat now;
        if (fstat(fd, &now) < 0)
                return send_fail(s, errno, "fstat");
        if (!same_inode(st, &now))
                return send_fail(s, 0, "replaced while being copied");

        size_t nlen = strlen(name);
        uint64_t group = 0;
        if (now.st_nlink > 1) {
                bool is_new = false;
                int r = link_group(s, now.st_dev, now.st_ino, &group, &is_new);
                if (r < 0)
                        return r;
                if (!is_new) {
                        struct rec l = {.type = REC_LINK, .name_len = (uint32_t)nlen, .a = group};
                        s->stats->hardlinks++;
                        return put(s, &l, name, NULL);
                }
        }
        struct rec f = {.type = REC_FILE, .mode = now.st_mode & 0777, .name_len = (uint32_t)nlen,
                        .a = group};
        int r = put(s, &f, name, NULL);
        if (r < 0)
                return r;
        /* Bounded by the size at open: a file that keeps growing cannot keep us here. */
        off_t end = now.st_size;
        r = send_data(s, fd, &end);
        if (r < 0)
                return r;
        struct rec e = {.type = REC_END_FILE, .a = (uint64_t)end, .b = now.st_mtim.tv_sec,
                        .c = now.st_mtim.tv_nsec};
        s->stats->files++;
        return put(s, &e, NULL, NULL);
}

static int send_entry(struct sender *s, int dirfd, const char *name, const struct stat *st,
                      bool follow, unsigned depth);

static int send_dir(struct sender *s, int parent, const char *name, const struct stat *st,
                    bool follow, unsigned depth)
{
        if (depth >= TRANSFER_MAX_DEPTH)
                return send_fail(s, 0, "too deep");
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY |
                                             (follow ? 0 : O_NOFOLLOW));
        if (fd < 0)
                return send_fail(s, errno, "cannot open");
        struct stat now;
        if (fstat(fd, &now) < 0 || !same_inode(st, &now)) {
                close(fd);
                return send_fail(s, 0, "replaced while being copied");
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return send_fail(s, errno, "cannot read");
        }
        struct rec r = {.type = REC_DIR, .mode = now.st_mode & 0777,
                        .name_len = (uint32_t)strlen(name)};
        int ret = put(s, &r, name, NULL);
        struct dirent *de;
        while (ret == 0) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                ret = send_fail(s, errno, "reading the directory");
                        break;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                struct stat cst;
                if (fstatat(dirfd(d), de->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        char e[128];
                        ret = send_fail(s, errno, "%s", esc(e, sizeof(e), de->d_name));
                        break;
                }
                ret = send_entry(s, dirfd(d), de->d_name, &cst, false, depth + 1);
        }
        closedir(d);
        if (ret < 0)
                return ret;
        struct rec e = {.type = REC_END_DIR, .b = now.st_mtim.tv_sec, .c = now.st_mtim.tv_nsec};
        s->stats->dirs++;
        return put(s, &e, NULL, NULL);
}

static int send_symlink(struct sender *s, int dirfd, const char *name)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
        if (n < 0)
                return send_fail(s, errno, "readlink");
        if (n == 0 || (size_t)n >= sizeof(target))
                return send_fail(s, ENAMETOOLONG, "readlink");
        struct rec r = {.type = REC_SYMLINK, .name_len = (uint32_t)strlen(name),
                        .data_len = (uint32_t)n};
        s->stats->symlinks++;
        return put(s, &r, name, target);
}

static int send_entry(struct sender *s, int dirfd, const char *name, const struct stat *st,
                      bool follow, unsigned depth)
{
        /* The top is already in s->path, as the caller named it. */
        size_t saved = s->path.len;
        if (depth > 0 && relpath_push(&s->path, name, &saved) < 0)
                return send_fail(s, ENAMETOOLONG, "path");
        int r = 0;
        if (++s->entries > TRANSFER_MAX_ENTRIES)
                r = send_fail(s, 0, "more than %d entries", TRANSFER_MAX_ENTRIES);
        else if (depth > 0 && st->st_dev != s->dev)
                s->stats->skipped++; /* a mount point: another file system */
        else if (S_ISREG(st->st_mode))
                r = send_file(s, dirfd, name, st, follow);
        else if (S_ISDIR(st->st_mode))
                r = send_dir(s, dirfd, name, st, follow, depth);
        else if (S_ISLNK(st->st_mode) && (s->flags & TRANSFER_SYMLINKS))
                r = send_symlink(s, dirfd, name);
        else
                s->stats->skipped++;
        relpath_pop(&s->path, saved);
        return r;
}

/* Open the directory holding the source's last component. */
static int open_source_parent(struct sender *s, int dirfd, const char *source, char *name,
                              struct gx_error *err)
{
        char e[256];
        if (transfer_source_name(source, name, NAME_MAX + 1) < 0)
                return gx_fail(err, GX_CLIENT, 0, "%s has no name to copy to",
                               esc(e, sizeof(e), source));
        if (s->flags & TRANSFER_FOLLOW_TOP) {
                /* Resolved like any path the source's owner names: we run with its ids. */
                char dir[PATH_MAX];
                if (gx_strlcpy(dir, source, sizeof(dir)) < 0)
                        return gx_fail(err, GX_CLIENT, ENAMETOOLONG, "%s",
                                       esc(e, sizeof(e), source));
                size_t len = strlen(dir);
                while (len > 1 && dir[len - 1] == '/')
                        dir[--len] = '\0';
                char *slash = strrchr(dir, '/');
                const char *parent = ".";
                if (slash == dir)
                        parent = "/";
                else if (slash) {
                        *slash = '\0';
                        parent = dir;
                }
                /* O_PATH: a directory its owner may search but not list still works. */
                int fd = openat(dirfd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return gx_fail(err, GX_CLIENT, errno, "%s", esc(e, sizeof(e), source));
                return fd;
        }
        /* Every component a plain name, none a symlink: the path cannot leave dirfd. */
        if (!transfer_is_plain_path(source))
                return gx_fail(err, GX_CLIENT, 0, "%s must be a relative path of plain names",
                               esc(e, sizeof(e), source));
        const char *p = source;
        int cur = dirfd;
        for (const char *slash; (slash = strchr(p, '/')); p = slash + 1) {
                char comp[NAME_MAX + 1];
                size_t n = (size_t)(slash - p);
                memcpy(comp, p, n);
                comp[n] = '\0';
                int next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int saved_errno = errno;
                if (cur != dirfd)
                        close(cur);
                if (next < 0)
                        return gx_fail(err, GX_CLIENT, saved_errno, "%s",
                                       esc(e, sizeof(e), source));
                cur = next;
        }
        if (cur == dirfd) {
                cur = dup_dir(dirfd);
                if (cur < 0)
                        return gx_fail(err, GX_SYSTEM, errno, "duplicating a directory fd");
        }
        return cur;
}

int transfer_send(int dirfd, const char *source, unsigned flags, int out_fd,
                  struct transfer_stats *stats, struct gx_error *err)
{
        struct sender s = {.out = out_fd, .flags = flags, .stats = stats, .err = err};
        char name[NAME_MAX + 1], e[256];
        _cleanup_close_ int parent = open_source_parent(&s, dirfd, source, name, err);
        if (parent < 0)
                return parent;
        bool follow = flags & TRANSFER_FOLLOW_TOP;
        struct stat st;
        if (fstatat(parent, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
                return gx_fail(err, GX_CLIENT, errno, "%s", esc(e, sizeof(e), source));
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
            !(S_ISLNK(st.st_mode) && (flags & TRANSFER_SYMLINKS)))
                return gx_fail(err, GX_CLIENT, 0, "%s is not a regular file or directory",
                               esc(e, sizeof(e), source));
        s.buf = malloc(CHUNK);
        if (!s.buf)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "copy buffer");
        s.dev = st.st_dev;
        gx_strlcpy(s.path.s, source, sizeof(s.path.s));
        s.path.len = strlen(s.path.s);
        while (s.path.len > 1 && s.path.s[s.path.len - 1] == '/')
                s.path.s[--s.path.len] = '\0';
        int r = send_entry(&s, parent, name, &st, follow, 0);
        if (r == 0) {
                struct rec done = {.type = REC_DONE};
                r = put(&s, &done, NULL, NULL);
        }
        free(s.buf);
        free(s.links);
        return r;
}

/* ---- receiver ------------------------------------------------------------------------ */

struct rdir {
        int fd;
        bool created; /* by us: its mode and mtime are applied when it ends */
        uint32_t mode;
        size_t saved_path;
};

struct receiver {
        int in;
        unsigned flags;
        const char *top;
        bool top_done;
        uint32_t mask;
        uid_t uid;
        struct rdir dirs[TRANSFER_MAX_DEPTH + 1]; /* dirs[0]: the destination, not ours */
        unsigned depth;
        struct relpath path;
        uint64_t entries;

        char **groups; /* relative path of each link group's first file */
        uint64_t n_groups;
        size_t groups_cap;

        int file_fd; /* the open file, -1 if none */
        uint32_t file_mode;
        char file_name[NAME_MAX + 1];
        char file_tmp[32]; /* non-empty: written here, renamed over file_name at the end */
        size_t file_saved_path;

        char *buf;
        struct transfer_stats *stats;
        struct gx_error *err;
};

static int bad_stream(struct receiver *r, const char *what)
{
        gx_fail(r->err, GX_SYSTEM, 0, "malformed copy stream: %s", what);
        return -EBADMSG;
}

static int recv_fail(struct receiver *r, enum gx_class class, int errnum, const char *fmt, ...)
        _printf_(4, 5);
static int recv_fail(struct receiver *r, enum gx_class class, int errnum, const char *fmt, ...)
{
        char e[256], what[128];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return gx_fail(r->err, class, errnum, "%s: %s", esc(e, sizeof(e), r->path.s), what);
}

static int cur_dir(const struct receiver *r)
{
        return r->dirs[r->depth].fd;
}

static int read_exact(struct receiver *r, void *buf, size_t len, bool at_record_start)
{
        ssize_t n = gx_read_full(r->in, buf, len);
        if (n < 0)
                return gx_fail(r->err, GX_SYSTEM, (int)-n, "reading the copy stream");
        if ((size_t)n < len) {
                gx_fail(r->err, GX_SYSTEM, 0, "the sending side of the copy stopped %s",
                        at_record_start && n == 0 ? "early" : "in the middle of a record");
                return -EPIPE;
        }
        return 0;
}

/* An existing entry may be replaced only when merging, and only if it is a regular file (or,
 * for want_dir, a directory) of our own; never a symlink. */
static int check_replaceable(struct receiver *r, int dfd, const char *name, bool want_dir)
{
        struct stat st;
        if (!(r->flags & TRANSFER_MERGE))
                return recv_fail(r, GX_CLIENT, EEXIST, "not replaced");
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return recv_fail(r, GX_SYSTEM, errno, "fstatat");
        bool type_ok = want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
        if (!type_ok || st.st_uid != r->uid)
                return recv_fail(r, GX_CLIENT, 0,
                                 "exists and is not a %s owned by uid %u: not replaced",
                                 want_dir ? "directory" : "regular file", (unsigned)r->uid);
        return 0;
}

static int tmp_name(char buf[32])
{
        unsigned char raw[8];
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                return -EIO;
        int o = snprintf(buf, 32, ".glexec-");
        for (size_t i = 0; i < sizeof(raw); i++)
                o += snprintf(buf + o, 32 - (size_t)o, "%02x", raw[i]);
        return 0;
}

static int enter_entry(struct receiver *r, const char *name, size_t *saved)
{
        if (r->depth == 0) {
                if (r->top_done || strcmp(name, r->top) != 0)
                        return bad_stream(r, "unexpected top-level name");
                r->top_done = true;
        }
        if (++r->entries > TRANSFER_MAX_ENTRIES)
                return recv_fail(r, GX_CLIENT, 0, "more than %d entries", TRANSFER_MAX_ENTRIES);
        if (relpath_push(&r->path, name, saved) < 0)
                return recv_fail(r, GX_CLIENT, ENAMETOOLONG, "path");
        return 0;
}

static int recv_dir(struct receiver *r, const char *name, uint32_t mode)
{
        size_t saved;
        if (r->depth >= TRANSFER_MAX_DEPTH)
                return bad_stream(r, "too deep");
        int ret = enter_entry(r, name, &saved);
        if (ret < 0)
                return ret;
        int dfd = cur_dir(r);
        bool created = true;
        if (mkdirat(dfd, name, 0700) < 0) {
                if (errno != EEXIST)
                        return recv_fail(r, GX_SYSTEM, errno, "mkdir");
                ret = check_replaceable(r, dfd, name, true);
                if (ret < 0)
                        return ret;
                created = false;
        }
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return recv_fail(r, GX_SYSTEM, errno, "opening the new directory");
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid != r->uid) {
                close(fd);
                return recv_fail(r, GX_SYSTEM, 0, "the new directory was replaced");
        }
        r->dirs[++r->depth] = (struct rdir){.fd = fd, .created = created, .mode = mode,
                                            .saved_path = saved};
        return 0;
}

static int set_times(int fd, int64_t sec, int64_t nsec)
{
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = (time_t)sec, .tv_nsec = nsec}};
        return futimens(fd, ts);
}

static int recv_end_dir(struct receiver *r, const struct rec *h)
{
        if (r->depth == 0)
                return bad_stream(r, "END_DIR outside a directory");
        if (h->c < 0 || h->c >= 1000000000)
                return bad_stream(r, "bad time");
        struct rdir *d = &r->dirs[r->depth];
        int ret = 0;
        if (d->created &&
            (fchmod(d->fd, d->mode & r->mask) < 0 || set_times(d->fd, h->b, h->c) < 0))
                ret = recv_fail(r, GX_SYSTEM, errno, "setting mode and time");
        close(d->fd);
        relpath_pop(&r->path, d->saved_path);
        r->depth--;
        if (ret == 0)
                r->stats->dirs++;
        return ret;
}

static int remember_group(struct receiver *r)
{
        if (r->n_groups == r->groups_cap) {
                size_t cap = r->groups_cap ? r->groups_cap * 2 : 16;
                char **v = realloc(r->groups, cap * sizeof(*v));
                if (!v)
                        return gx_fail(r->err, GX_SYSTEM, ENOMEM, "hard link table");
                r->groups = v;
                r->groups_cap = cap;
        }
        r->groups[r->n_groups] = strdup(r->path.s);
        if (!r->groups[r->n_groups])
                return gx_fail(r->err, GX_SYSTEM, ENOMEM, "hard link table");
        r->n_groups++;
        return 0;
}

static int recv_file(struct receiver *r, const char *name, const struct rec *h)
{
        size_t saved;
        if (h->a != 0 && h->a != r->n_groups + 1)
                return bad_stream(r, "link group out of order");
        int ret = enter_entry(r, name, &saved);
        if (ret < 0)
                return ret;
        int dfd = cur_dir(r);
        r->file_tmp[0] = '\0';
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
                ret = check_replaceable(r, dfd, name, false);
                if (ret < 0)
                        return ret;
                if (tmp_name(r->file_tmp) < 0)
                        return recv_fail(r, GX_SYSTEM, EIO, "no randomness for a temporary name");
                fd = openat(dfd, r->file_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600);
        }
        if (fd < 0) {
                r->file_tmp[0] = '\0';
                return recv_fail(r, GX_SYSTEM, errno, "creating");
        }
        r->file_fd = fd;
        r->file_mode = h->mode;
        r->file_saved_path = saved;
        memcpy(r->file_name, name, strlen(name) + 1);
        if (h->a != 0)
                return remember_group(r);
        return 0;
}

static void discard_file(struct receiver *r)
{
        if (r->file_fd < 0)
                return;
        close(r->file_fd);
        r->file_fd = -1;
        unlinkat(cur_dir(r), r->file_tmp[0] ? r->file_tmp : r->file_name, 0);
}

/* Put a finished temporary name in place of the existing entry it replaces. */
static int commit_tmp(struct receiver *r, int dfd, const char *name, const char *tmp)
{
        int ret = check_replaceable(r, dfd, name, false);
        if (ret == 0 && renameat(dfd, tmp, dfd, name) < 0)
                ret = recv_fail(r, GX_SYSTEM, errno, "replacing");
        if (ret < 0)
                unlinkat(dfd, tmp, 0);
        return ret;
}

static int recv_data(struct receiver *r, const struct rec *h)
{
        if (h->data_len == 0 || h->data_len > CHUNK || h->a > (uint64_t)INT64_MAX - CHUNK)
                return bad_stream(r, "bad data record");
        int ret = read_exact(r, r->buf, h->data_len, false);
        if (ret < 0)
                return ret;
        size_t done = 0;
        while (done < h->data_len) {
                ssize_t n = pwrite(r->file_fd, r->buf + done, h->data_len - done,
                                   (off_t)(h->a + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return recv_fail(r, GX_SYSTEM, n < 0 ? errno : EIO, "writing");
                done += (size_t)n;
        }
        r->stats->bytes += h->data_len;
        return 0;
}

static int recv_end_file(struct receiver *r, const struct rec *h)
{
        if (h->a > (uint64_t)INT64_MAX || h->c < 0 || h->c >= 1000000000)
                return bad_stream(r, "bad file end");
        int fd = r->file_fd;
        if (ftruncate(fd, (off_t)h->a) < 0 || fchmod(fd, r->file_mode & r->mask) < 0 ||
            set_times(fd, h->b, h->c) < 0)
                return recv_fail(r, GX_SYSTEM, errno, "finishing");
        if (close(fd) < 0) {
                r->file_fd = -1;
                unlinkat(cur_dir(r), r->file_tmp[0] ? r->file_tmp : r->file_name, 0);
                return recv_fail(r, GX_SYSTEM, errno, "writing");
        }
        r->file_fd = -1;
        int ret = 0;
        if (r->file_tmp[0])
                ret = commit_tmp(r, cur_dir(r), r->file_name, r->file_tmp);
        relpath_pop(&r->path, r->file_saved_path);
        if (ret == 0)
                r->stats->files++;
        return ret;
}

static int recv_symlink(struct receiver *r, const char *name, const struct rec *h)
{
        if (!(r->flags & TRANSFER_SYMLINKS))
                return bad_stream(r, "symbolic link not allowed");
        if (h->data_len == 0 || h->data_len >= PATH_MAX)
                return bad_stream(r, "bad symbolic link");
        char target[PATH_MAX];
        int ret = read_exact(r, target, h->data_len, false);
        if (ret < 0)
                return ret;
        target[h->data_len] = '\0';
        if (memchr(target, '\0', h->data_len))
                return bad_stream(r, "bad symbolic link");
        size_t saved;
        ret = enter_entry(r, name, &saved);
        if (ret < 0)
                return ret;
        /* Never replaces anything, merging or not. */
        if (symlinkat(target, cur_dir(r), name) < 0)
                ret = recv_fail(r, errno == EEXIST ? GX_CLIENT : GX_SYSTEM, errno, "symlink");
        else
                r->stats->symlinks++;
        relpath_pop(&r->path, saved);
        return ret;
}

/* Open the directory of a path this receiver created, component by component. */
static int open_created_parent(struct receiver *r, const char *path, const char **last)
{
        int cur = r->dirs[0].fd;
        const char *p = path;
        for (const char *slash; (slash = strchr(p, '/')); p = slash + 1) {
                char comp[NAME_MAX + 1];
                size_t n = (size_t)(slash - p);
                memcpy(comp, p, n);
                comp[n] = '\0';
                int next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int saved_errno = errno;
                if (cur != r->dirs[0].fd)
                        close(cur);
                if (next < 0) {
                        errno = saved_errno;
                        return -1;
                }
                cur = next;
        }
        *last = p;
        return cur == r->dirs[0].fd ? dup_dir(cur) : cur;
}

static int recv_link(struct receiver *r, const char *name, const struct rec *h)
{
        if (h->a == 0 || h->a > r->n_groups)
                return bad_stream(r, "unknown link group");
        size_t saved;
        int ret = enter_entry(r, name, &saved);
        if (ret < 0)
                return ret;
        const char *last;
        _cleanup_close_ int from = open_created_parent(r, r->groups[h->a - 1], &last);
        if (from < 0)
                return recv_fail(r, GX_SYSTEM, errno, "finding the file to link to");
        int dfd = cur_dir(r);
        if (linkat(from, last, dfd, name, 0) < 0) {
                if (errno != EEXIST)
                        return recv_fail(r, GX_SYSTEM, errno, "link");
                char tmp[32];
                ret = check_replaceable(r, dfd, name, false);
                if (ret < 0)
                        return ret;
                if (tmp_name(tmp) < 0)
                        return recv_fail(r, GX_SYSTEM, EIO, "no randomness for a temporary name");
                if (linkat(from, last, dfd, tmp, 0) < 0)
                        return recv_fail(r, GX_SYSTEM, errno, "link");
                ret = commit_tmp(r, dfd, name, tmp);
                if (ret < 0)
                        return ret;
        }
        r->stats->hardlinks++;
        relpath_pop(&r->path, saved);
        return 0;
}

static int receive_loop(struct receiver *r)
{
        for (;;) {
                struct rec h;
                int ret = read_exact(r, &h, sizeof(h), true);
                if (ret < 0)
                        return ret;
                bool named = h.type == REC_DIR || h.type == REC_FILE || h.type == REC_SYMLINK ||
                             h.type == REC_LINK;
                if (named != (h.name_len > 0) || h.name_len > NAME_MAX)
                        return bad_stream(r, "bad name length");
                if (h.data_len && h.type != REC_DATA && h.type != REC_SYMLINK)
                        return bad_stream(r, "unexpected data");
                if ((r->file_fd >= 0) != (h.type == REC_DATA || h.type == REC_END_FILE))
                        return bad_stream(r, "record out of place");
                char name[NAME_MAX + 1];
                if (named) {
                        ret = read_exact(r, name, h.name_len, false);
                        if (ret < 0)
                                return ret;
                        if (!valid_name(name, h.name_len))
                                return bad_stream(r, "bad name");
                        name[h.name_len] = '\0';
                }
                switch (h.type) {
                case REC_DIR:
                        ret = recv_dir(r, name, h.mode);
                        break;
                case REC_END_DIR:
                        ret = recv_end_dir(r, &h);
                        break;
                case REC_FILE:
                        ret = recv_file(r, name, &h);
                        break;
                case REC_DATA:
                        ret = recv_data(r, &h);
                        break;
                case REC_END_FILE:
                        ret = recv_end_file(r, &h);
                        break;
                case REC_SYMLINK:
                        ret = recv_symlink(r, name, &h);
                        break;
                case REC_LINK:
                        ret = recv_link(r, name, &h);
                        break;
                case REC_DONE:
                        if (!r->top_done || r->depth != 0)
                                return bad_stream(r, "ended early");
                        return 0;
                default:
                        return bad_stream(r, "unknown record");
                }
                if (ret < 0)
                        return ret;
        }
}

int transfer_receive(int in_fd, int dirfd, const char *name, unsigned flags,
                     struct transfer_stats *stats, struct gx_error *err)
{
        struct receiver r = {
                .in = in_fd,
                .flags = flags,
                .top = name,
                .mask = (flags & TRANSFER_NO_SHARED_WRITE) ? 0755 : 0777,
                .uid = geteuid(),
                .dirs[0] = {.fd = dirfd},
                .file_fd = -1,
                .stats = stats,
                .err = err,
        };
        if (!valid_name(name, strlen(name)))
                return gx_fail(err, GX_CLIENT, 0, "bad name for the copy");
        r.buf = malloc(CHUNK);
        if (!r.buf)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "copy buffer");
        int ret = receive_loop(&r);
        discard_file(&r);
        while (r.depth > 0)
                close(r.dirs[r.depth--].fd);
        for (uint64_t i = 0; i < r.n_groups; i++)
                free(r.groups[i]);
        free(r.groups);
        free(r.buf);
        return ret;
}

/* ---- the two processes ----------------------------------------------------------------- */

struct child_report {
        int32_t ret;
        struct gx_error err;
        struct transfer_stats stats;
};

static int switch_ids(const struct transfer_side *s, struct gx_error *err)
{
        if (!s->switch_ids)
                return 0;
        if (setgroups(s->n_groups, s->groups) < 0 || setresgid(s->gid, s->gid, s->gid) < 0 ||
            setresuid(s->uid, s->uid, s->uid) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "switching to uid %u", (unsigned)s->uid);
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != s->uid ||
            eu != s->uid || su != s->uid || rg != s->gid || eg != s->gid || sg != s->gid)
                return gx_fail(err, GX_SYSTEM, 0, "the switch to uid %u did not take",
                               (unsigned)s->uid);
        if (s->uid != 0 && setuid(0) == 0)
                _exit(127); /* privilege came back: touch nothing */
        /* The kernel resets dumpable to suid_dumpable on an id change; a ptrace-able helper
         * would let the other side's processes steer it. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        return 0;
}

static _noreturn_ void child_run(const struct transfer_spec *spec, bool sender, int data_fd,
                                 int report_fd, pid_t parent)
{
        const struct transfer_side *side = sender ? &spec->from : &spec->to;
        struct child_report rep = {0};
        int keep[] = {data_fd, report_fd, side->dirfd};

        signal(SIGPIPE, SIG_IGN);
        umask(077);
        rep.ret = gx_close_from(3, keep, side->dirfd >= 0 ? 3 : 2);
        if (rep.ret < 0)
                gx_fail(&rep.err, GX_SYSTEM, -rep.ret, "closing inherited fds");
        if (rep.ret == 0)
                rep.ret = switch_ids(side, &rep.err);
        /* After the switch: an id change clears the parent-death signal. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
                _exit(1);
        if (rep.ret == 0) {
                if (sender) {
                        rep.ret = transfer_send(side->dirfd, spec->source, spec->flags, data_fd,
                                                &rep.stats, &rep.err);
                } else {
                        char name[NAME_MAX + 1];
                        transfer_source_name(spec->source, name, sizeof(name));
                        rep.ret = transfer_receive(data_fd, side->dirfd, name, spec->flags,
                                                   &rep.stats, &rep.err);
                }
        }
        gx_write_full(report_fd, &rep, sizeof(rep));
        _exit(rep.ret == 0 ? 0 : 1);
}

/* What a child said, checked: a helper running as the other user may have been tampered with,
 * so its report is only ever a message and some numbers. */
static void collect(pid_t pid, int report_fd, const struct transfer_side *side,
                    struct child_report *rep)
{
        int status = 0;
        ssize_t n = gx_read_full(report_fd, rep, sizeof(*rep));
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (n != (ssize_t)sizeof(*rep)) {
                *rep = (struct child_report){.ret = -ECHILD};
                gx_fail(&rep->err, GX_SYSTEM, 0, "the copying process as uid %u died",
                        (unsigned)side->uid);
                return;
        }
        rep->err.msg[sizeof(rep->err.msg) - 1] = '\0';
        rep->err.public_msg[sizeof(rep->err.public_msg) - 1] = '\0';
        if (rep->err.class != GX_CLIENT && rep->err.class != GX_SYSTEM)
                rep->err.class = GX_SYSTEM;
        if (rep->ret == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                rep->ret = -ECHILD;
                gx_fail(&rep->err, GX_SYSTEM, 0, "the copying process as uid %u failed",
                        (unsigned)side->uid);
        }
        if (rep->ret > 0)
                rep->ret = -EIO;
}

int transfer_copy(const struct transfer_spec *spec, struct transfer_stats *ret,
                  struct gx_error *err)
{
        char name[NAME_MAX + 1], e[256];
        if (transfer_source_name(spec->source, name, sizeof(name)) < 0)
                return gx_fail(err, GX_CLIENT, 0, "%s has no name to copy to",
                               esc(e, sizeof(e), spec->source));

        int pipes[3][2];
        int made = gx_pipes(pipes, 3);
        if (made < 0)
                return gx_fail(err, GX_SYSTEM, -made, "pipe");
        int *data = pipes[0], *rep_send = pipes[1], *rep_recv = pipes[2];

        pid_t parent = getpid();
        pid_t sender = fork();
        if (sender == 0) {
                close(data[0]);
                child_run(spec, true, data[1], rep_send[1], parent);
        }
        pid_t receiver = sender < 0 ? -1 : fork();
        if (receiver == 0) {
                close(data[1]);
                child_run(spec, false, data[0], rep_recv[1], parent);
        }
        int fork_errno = errno;
        close(data[0]);
        close(data[1]);
        close(rep_send[1]);
        close(rep_recv[1]);

        struct child_report s = {0}, r = {0};
        if (sender > 0)
                collect(sender, rep_send[0], &spec->from, &s);
        if (receiver > 0)
                collect(receiver, rep_recv[0], &spec->to, &r);
        close(rep_send[0]);
        close(rep_recv[0]);
        if (sender < 0 || receiver < 0)
                return gx_fail(err, GX_SYSTEM, fork_errno, "fork");

        if (s.ret == 0 && r.ret == 0) {
                if (ret) {
                        *ret = r.stats;
                        ret->skipped = s.stats.skipped;
                }
                return 0;
        }
        /* When one side fails the other sees a broken pipe: report the cause, not the echo. */
        const struct child_report *cause = &s;
        if (s.ret == 0 || (s.ret == -EPIPE && r.ret != 0 && r.ret != -EPIPE))
                cause = &r;
        if (err)
                *err = cause->err;
        return cause->ret;
}
