/* Compiling the default profile costs about 0.7 ms of every launch (JSON parsing, libseccomp's
 * rule database and export; bench/RESULTS.md), and its result depends only on the profile's
 * bytes, the glexec binary and what sc_host_fingerprint() names. So the program is kept, once
 * compiled, in a directory only root can write, under the SHA-256 of all of those, with a
 * checksum of its own so that a torn or damaged entry is recompiled instead of loaded.
 *
 * Whoever can write that directory could give every payload a filter of their choosing, so
 * it must be root's along its whole path (gx_open_trusted_dir), and each entry root's and
 * writable by nobody else; anything else is ignored and the profile compiled as before. */
#include "seccomp-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-config.h"
#include "common/fdutil.h"
#include "common/macro.h"
#include "log.h"

#define CACHE_PARENT GLEXEC_LOCALSTATEDIR "/cache"
#define CACHE_NAME "glexec-ng"

static const char entry_magic[8] = {'g', 'x', 'b', 'p', 'f', 0, 0, 1};

struct entry_header {
        char magic[8];
        uint32_t flags;
        uint32_t len;              /* instructions that follow */
        unsigned char digest[32];  /* SHA-256 of flags, len and the instructions */
};

/* The cache directory, created on first use when its parent is trusted; -1 if unusable. */
static int open_cache_dir(void)
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
                log_msg(LOG_LVL_WARNING, "%s/%s is not root's alone: seccomp cache not used",
                        CACHE_PARENT, CACHE_NAME);
                close(fd);
                return -1;
        }
        return fd;
}

static int sha256_parts(const void *const *parts, const size_t *lens, size_t n,
                        unsigned char ret[32])
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned int dlen = 0;
        bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
        for (size_t i = 0; ok && i < n; i++)
                ok = EVP_DigestUpdate(ctx, parts[i], lens[i]) == 1;
        ok = ok && EVP_DigestFinal_ex(ctx, ret, &dlen) == 1 && dlen == 32;
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : -EIO;
}

static int entry_digest(const struct entry_header *h, const struct sock_filter *insns,
                        unsigned char ret[32])
{
        const void *parts[] = {&h->flags, &h->len, insns};
        const size_t lens[] = {sizeof(h->flags), sizeof(h->len), h->len * sizeof(*insns)};
        return sha256_parts(parts, lens, ELEMENTSOF(parts), ret);
}

/* "seccomp-" and the hex SHA-256 of the profile, the host fingerprint and this glexec: its
 * version, and the identity of its installed file, so that a rebuilt compiler installed
 * under the same version never loads its predecessor's programs. */
static int entry_name(const char *profile, size_t len, char ret[8 + 64 + 1])
{
        char host[128], self[160];
        struct gx_error e = {0};
        struct stat st;
        if (sc_host_fingerprint(host, sizeof(host), &e) < 0 || stat("/proc/self/exe", &st) < 0)
                return -EIO;
        snprintf(self, sizeof(self), "glexec-ng %s %llu:%llu %lld %lld.%09ld\n", GLEXEC_VERSION,
                 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        const void *parts[] = {self, host, "\n", profile};
        const size_t lens[] = {strlen(self), strlen(host), 1, len};
        unsigned char d[32];
        if (sha256_parts(parts, lens, ELEMENTSOF(parts), d) < 0)
                return -EIO;
        memcpy(ret, "seccomp-", 8);
        for (size_t i = 0; i < sizeof(d); i++)
                snprintf(ret + 8 + 2 * i, 3, "%02x", d[i]);
        return 0;
}

/* 0 with *ret filled, or -1: no usable entry. */
static int entry_load(int dir, const char *name, struct sc_filter *ret)
{
        const size_t max = sizeof(struct entry_header) + BPF_MAXINSNS * sizeof(struct sock_filter);
        _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !gx_stat_is_trusted(&st) ||
            (size_t)st.st_size < sizeof(struct entry_header) || (size_t)st.st_size > max)
                return -1;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        if (gx_read_all(fd, max, &buf, &n) < 0 || n < sizeof(struct entry_header))
                return -1;
        struct entry_header h;
        memcpy(&h, buf, sizeof(h));
        const struct sock_filter *insns = (const void *)(buf + sizeof(h));
        unsigned char d[32];
        if (memcmp(h.magic, entry_magic, sizeof(h.magic)) != 0 || h.len == 0 ||
            h.len > BPF_MAXINSNS || n != sizeof(h) + h.len * sizeof(*insns) ||
            entry_digest(&h, insns, d) < 0 || memcmp(d, h.digest, sizeof(d)) != 0)
                return -1;
        struct sc_filter f = {.insns = malloc(h.len * sizeof(*insns)),
                              .len = (unsigned short)h.len,
                              .flags = h.flags};
        if (!f.insns)
                return -1;
        memcpy(f.insns, insns, h.len * sizeof(*insns));
        struct gx_error e = {0};
        if (sc_filter_check(&f, &e) < 0) {
                sc_filter_free(&f);
                return -1;
        }
        *ret = f;
        return 0;
}

/* Written under a private name, then renamed over the entry: readers see a whole entry or
 * none, and a damaged one is replaced. Failures only cost the next launch a compile. */
static void entry_store(int dir, const char *name, const struct sc_filter *f)
{
        struct entry_header h = {.flags = f->flags, .len = f->len};
        memcpy(h.magic, entry_magic, sizeof(h.magic));
        if (entry_digest(&h, f->insns, h.digest) < 0)
                return;
        char tmp[128];
        snprintf(tmp, sizeof(tmp), "%s.tmp-%d", name, (int)getpid());
        int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        bool ok = gx_write_full(fd, &h, sizeof(h)) == 0 &&
                  gx_write_full(fd, f->insns, f->len * sizeof(*f->insns)) == 0;
        ok = close(fd) == 0 && ok;
        if (!ok || renameat(dir, tmp, dir, name) < 0)
                unlinkat(dir, tmp, 0);
}

int seccomp_filter_get(const char *profile_path, struct sc_filter *ret, struct gx_error *err)
{
        _cleanup_free_ char *profile = NULL;
        size_t len = 0;
        int r = sc_profile_read(profile_path, &profile, &len, err);
        if (r < 0)
                return r;

        char name[8 + 64 + 1];
        _cleanup_close_ int dir = geteuid() == 0 && entry_name(profile, len, name) == 0
                                          ? open_cache_dir()
                                          : -1;
        if (dir >= 0 && entry_load(dir, name, ret) == 0)
                return 0;
        r = sc_profile_compile_named(profile_path, profile, len, ret, err);
        if (r == 0 && dir >= 0)
                entry_store(dir, name, ret);
        return r;
}
