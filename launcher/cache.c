#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-config.h"
#include "common/fdutil.h"
#include "common/macro.h"
#include "common/sha256.h"
#include "common/strutil.h"
#include "log.h"
#include "verifier.h"

#define CACHE_PARENT GLEXEC_LOCALSTATEDIR "/cache"
#define CACHE_NAME "glexec-ng"

int cache_dir_open(const char *what)
{
        const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        struct gx_error e = {0};
        _cleanup_close_ int parent = gx_open_trusted_dir(CACHE_PARENT, &e);
        if (parent < 0)
                return -1;
        /* Made once; every later launch only opens it. */
        int fd = openat(parent, CACHE_NAME, flags);
        if (fd < 0 && errno == ENOENT &&
            (mkdirat(parent, CACHE_NAME, 0700) == 0 || errno == EEXIST))
                fd = openat(parent, CACHE_NAME, flags);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || !gx_stat_is_trusted(&st))) {
                log_msg(LOG_LVL_WARNING, "%s/%s is not root's alone: %s not used", CACHE_PARENT,
                        CACHE_NAME, what);
                close(fd);
                return -1;
        }
        return fd;
}

static int file_identity(const char *path, char *buf, size_t size)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        int n = snprintf(buf, size, "%llu:%llu %lld %lld.%09ld", (unsigned long long)st.st_dev,
                         (unsigned long long)st.st_ino, (long long)st.st_size,
                         (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* This binary's version and installed file, the libcrypto it runs with (the same file when
 * it is linked in) and the credential verifier's file. Computed once per process. */
static const char *self_identity(void)
{
        static char id[384];
        if (id[0])
                return id;
        char exe[96], crypto[96] = "linked in", verifier[96];
        const char *lib = gx_sha256_library();
        if (file_identity("/proc/self/exe", exe, sizeof(exe)) < 0 || !lib ||
            (lib[0] && file_identity(lib, crypto, sizeof(crypto)) < 0) ||
            file_identity(VERIFIER_PATH, verifier, sizeof(verifier)) < 0)
                return NULL;
        snprintf(id, sizeof(id), "glexec-ng %s %s libcrypto %s verifier %s\n", GLEXEC_VERSION,
                 exe, crypto, verifier);
        return id;
}

int cache_entry_name(const char *kind, const void *const *parts, const size_t *lens, size_t n,
                     char ret[CACHE_ENTRY_NAME_MAX])
{
        const char *self = self_identity();
        size_t klen = strlen(kind);
        if (!self || klen > 16 || n > 15)
                return -EINVAL;
        const void *all[16] = {self};
        size_t all_lens[16] = {strlen(self)};
        memcpy(all + 1, parts, n * sizeof(*parts));
        memcpy(all_lens + 1, lens, n * sizeof(*lens));
        unsigned char d[32];
        gx_sha256(all, all_lens, n + 1, d);
        memcpy(ret, kind, klen);
        ret[klen] = '-';
        gx_hex(d, sizeof(d), ret + klen + 1);
        return 0;
}

int cache_entry_read(int dir, const char *name, const char magic[8], void *header,
                     size_t header_size, size_t max, char **ret, size_t *ret_len)
{
        /* O_NOATIME: a read must not dirty the inode (and the journal) at every launch. */
        _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOATIME | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !gx_stat_is_trusted(&st) ||
            (size_t)st.st_size > max)
                return -1;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        if (gx_read_all(fd, max, &buf, &n) < 0 || n < header_size || header_size < 8 ||
            memcmp(buf, magic, 8) != 0)
                return -1;
        memcpy(header, buf, header_size);
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

void cache_entry_write(int dir, const char *name, const void *const *parts, const size_t *lens,
                       size_t n, const struct timespec *mtime)
{
        char tmp[CACHE_ENTRY_NAME_MAX + 32];
        snprintf(tmp, sizeof(tmp), "%s.tmp-%d", name, (int)getpid());
        int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        bool ok = true;
        for (size_t i = 0; ok && i < n; i++)
                ok = gx_write_full(fd, parts[i], lens[i]) == 0;
        if (ok && mtime) {
                const struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, *mtime};
                ok = futimens(fd, times) == 0;
        }
        ok = close(fd) == 0 && ok;
        if (!ok || renameat(dir, tmp, dir, name) < 0)
                unlinkat(dir, tmp, 0);
}
