#include "sandbox/stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdutil.h"

#define STAGE_MAX_DEPTH 256

int stage_open_base(const char *base, bool privileged, struct gx_error *err)
{
        if (privileged) {
                int fd = gx_open_trusted_dir(base, err);
                if (fd < 0)
                        gx_error_prefix(err, "sandbox_base");
                return fd;
        }
        int fd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "sandbox_base %s", base);
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return gx_fail(err, GX_SYSTEM, e, "sandbox_base %s", base);
        }
        bool own = st.st_uid == getuid() && !(st.st_mode & (S_IWGRP | S_IWOTH));
        bool sticky_root = st.st_uid == 0 && (st.st_mode & S_ISVTX);
        if (!own && !sticky_root) {
                close(fd);
                return gx_fail(err, GX_SYSTEM, 0,
                               "sandbox_base %s must be owned by the caller (or root and sticky) "
                               "when glexec is not installed setuid",
                               base);
        }
        return fd;
}

int stage_create(int base_fd, const char *name, uid_t uid, gid_t gid, struct gx_error *err)
{
        if (mkdirat(base_fd, name, 0700) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "creating sandbox %s", name);
        int fd = openat(base_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening sandbox %s", name);
        /* Ownership and mode through the fd: the name could have been swapped in between only
         * by root, but the fd is what we hand on, so that is what we fix. */
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0700) < 0) {
                int e = errno;
                close(fd);
                return gx_fail(err, GX_SYSTEM, e, "setting owner of sandbox %s", name);
        }
        return fd;
}

static int remove_tree_at(int dfd, dev_t dev, int depth)
{
        if (depth > STAGE_MAX_DEPTH)
                return -ELOOP;
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                r = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode) && st.st_dev == dev) {
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                r = -errno;
                                continue;
                        }
                        int rr = remove_tree_at(sub, dev, depth + 1);
                        if (rr < 0)
                                r = rr;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                r = -errno;
                } else if (S_ISDIR(st.st_mode)) {
                        /* A mount point inside the sandbox: never descend into it. */
                        r = -EXDEV;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        r = -errno;
                }
        }
        closedir(d);
        return r;
}

int stage_remove(int base_fd, const char *name, struct gx_error *err)
{
        int fd = openat(base_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return gx_fail(err, GX_SYSTEM, errno, "opening sandbox %s for removal", name);
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return gx_fail(err, GX_SYSTEM, e, "sandbox %s", name);
        }
        /* Directories made read-only by the payload are still removable: root ignores
         * permission bits, and an unprivileged caller only removes its own files. */
        int r = remove_tree_at(fd, st.st_dev, 0);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "removing the contents of sandbox %s", name);
        if (unlinkat(base_fd, name, AT_REMOVEDIR) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "removing sandbox %s", name);
        return 0;
}
