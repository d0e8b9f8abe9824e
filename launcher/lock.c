#include "lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "sandbox/stage.h"

#define LOCK_SUFFIX ".lock"
#define NEW_SUFFIX ".new"
/* A ".new" file older than this was left by a launch that died while creating its lock. */
#define NEW_MAX_AGE_SECONDS 60

static bool id_with_suffix(const char *entry, const char *suffix, char id[LAUNCH_ID_LEN + 1])
{
        if (strlen(entry) != LAUNCH_ID_LEN + strlen(suffix) ||
            strcmp(entry + LAUNCH_ID_LEN, suffix) != 0 ||
            strspn(entry, "0123456789abcdef") != LAUNCH_ID_LEN)
                return false;
        memcpy(id, entry, LAUNCH_ID_LEN);
        id[LAUNCH_ID_LEN] = '\0';
        return true;
}

/* The lock file must never be visible unlocked, or a sweeper could take it (and remove it)
 * between our open and our flock: it is made nameless (O_TMPFILE), locked, then linked in. */
static int create_locked_tmpfile(int base_fd, const char *name)
{
        int fd = openat(base_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0 ||
            linkat(AT_FDCWD, path, base_fd, name, AT_SYMLINK_FOLLOW) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

/* Without O_TMPFILE (some network file systems): locked under a name sweepers leave alone
 * while it is young, then renamed. */
static int create_locked_renamed(int base_fd, const char *id, const char *name)
{
        char tmp[LAUNCH_ID_LEN + 8];
        snprintf(tmp, sizeof(tmp), "%s" NEW_SUFFIX, id);
        int fd = openat(base_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0 || renameat(base_fd, tmp, base_fd, name) < 0) {
                int e = errno;
                unlinkat(base_fd, tmp, 0);
                close(fd);
                return -e;
        }
        return fd;
}

int lock_create(int base_fd, const char *id, struct gx_error *err)
{
        char name[LAUNCH_ID_LEN + 8];
        snprintf(name, sizeof(name), "%s" LOCK_SUFFIX, id);
        int fd = create_locked_tmpfile(base_fd, name);
        if (fd == -EOPNOTSUPP || fd == -EISDIR || fd == -EINVAL)
                fd = create_locked_renamed(base_fd, id, name);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, -fd, "creating lock file %s", name);
        return fd;
}

/* Returns an fd holding the lock of a dead launch, or -1. */
static int take_dead_lock(int base_fd, const char *id)
{
        char name[LAUNCH_ID_LEN + 8];
        snprintf(name, sizeof(name), "%s" LOCK_SUFFIX, id);
        int fd = openat(base_fd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -1;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

int lock_is_alive(int base_fd, const char *id)
{
        int fd = take_dead_lock(base_fd, id);
        if (fd < 0)
                return 1;
        close(fd);
        return 0;
}

void lock_remove(int base_fd, const char *id)
{
        char name[LAUNCH_ID_LEN + 8];
        snprintf(name, sizeof(name), "%s" LOCK_SUFFIX, id);
        unlinkat(base_fd, name, 0);
}

unsigned lock_sweep_stale(int base_fd, const char *own_id)
{
        int dfd = openat(base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return 0;
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return 0;
        }
        unsigned removed = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                char id[LAUNCH_ID_LEN + 1];
                if (id_with_suffix(de->d_name, NEW_SUFFIX, id)) {
                        struct stat st;
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                            st.st_mtime + NEW_MAX_AGE_SECONDS < time(NULL))
                                unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }
                if (!id_with_suffix(de->d_name, LOCK_SUFFIX, id) || strcmp(id, own_id) == 0)
                        continue;
                int fd = take_dead_lock(base_fd, id);
                if (fd < 0)
                        continue;
                struct gx_error err;
                /* Holding the dead launch's lock, nobody else sweeps it at the same time. */
                if (stage_remove(base_fd, id, &err) == 0) {
                        lock_remove(base_fd, id);
                        removed++;
                }
                close(fd);
        }
        closedir(d);
        return removed;
}
