#include "lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "launch.h"
#include "sandbox/stage.h"

#define LOCK_SUFFIX ".lock"

static bool name_of_lock(const char *entry, char id[LAUNCH_ID_LEN + 1])
{
        if (strlen(entry) != LAUNCH_ID_LEN + strlen(LOCK_SUFFIX) ||
            strcmp(entry + LAUNCH_ID_LEN, LOCK_SUFFIX) != 0 ||
            strspn(entry, "0123456789abcdef") != LAUNCH_ID_LEN)
                return false;
        memcpy(id, entry, LAUNCH_ID_LEN);
        id[LAUNCH_ID_LEN] = '\0';
        return true;
}

int lock_create(int base_fd, const char *id, struct gx_error *err)
{
        char name[LAUNCH_ID_LEN + 8];
        snprintf(name, sizeof(name), "%s" LOCK_SUFFIX, id);
        int fd = openat(base_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "creating lock file %s", name);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                close(fd);
                return gx_fail(err, GX_SYSTEM, e, "locking %s", name);
        }
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
                if (!name_of_lock(de->d_name, id) || strcmp(id, own_id) == 0)
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
