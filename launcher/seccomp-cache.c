/* Compiling the default profile costs about 0.7 ms of every launch (JSON parsing, libseccomp's
 * rule database and export; bench/RESULTS.md), and its result depends only on the profile's
 * bytes, the glexec binary and what sc_host_fingerprint() names. So the program is kept, once
 * compiled, in a directory only root can write, under the SHA-256 of all of those, with a
 * checksum of its own so that a torn or damaged entry is recompiled instead of loaded.
 *
 * Whoever can write the cache could give every payload a filter of their choosing: cache.h
 * says how it is kept from anyone but root. */
#include "seccomp-cache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "common/fdutil.h"
#include "common/macro.h"
#include "common/sha256.h"

static const char entry_magic[8] = {'g', 'x', 'b', 'p', 'f', 0, 0, 1};

struct entry_header {
        char magic[8];
        uint32_t flags;
        uint32_t len;              /* instructions that follow */
        unsigned char digest[32];  /* SHA-256 of flags, len and the instructions */
};

static void entry_digest(const struct entry_header *h, const struct sock_filter *insns,
                         unsigned char ret[32])
{
        const void *parts[] = {&h->flags, &h->len, insns};
        const size_t lens[] = {sizeof(h->flags), sizeof(h->len), h->len * sizeof(*insns)};
        gx_sha256(parts, lens, ELEMENTSOF(parts), ret);
}

/* "seccomp-" and the hash of the profile and the host fingerprint. */
static int entry_name(const char *profile, size_t len, char ret[CACHE_ENTRY_NAME_MAX])
{
        char host[128];
        struct gx_error e = {0};
        if (sc_host_fingerprint(host, sizeof(host), &e) < 0)
                return -EIO;
        const void *parts[] = {host, "\n", profile};
        const size_t lens[] = {strlen(host), 1, len};
        return cache_entry_name("seccomp", parts, lens, ELEMENTSOF(parts), ret);
}

/* 0 with *ret filled, or -1: no usable entry. */
static int entry_load(int dir, const char *name, struct sc_filter *ret)
{
        const size_t max = sizeof(struct entry_header) + BPF_MAXINSNS * sizeof(struct sock_filter);
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        struct entry_header h;
        if (cache_entry_read(dir, name, entry_magic, &h, sizeof(h), max, &buf, &n) < 0)
                return -1;
        const struct sock_filter *insns = (const void *)(buf + sizeof(h));
        unsigned char d[32];
        if (h.len == 0 || h.len > BPF_MAXINSNS || n != sizeof(h) + h.len * sizeof(*insns))
                return -1;
        entry_digest(&h, insns, d);
        if (memcmp(d, h.digest, sizeof(d)) != 0)
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

static void entry_store(int dir, const char *name, const struct sc_filter *f)
{
        struct entry_header h = {.flags = f->flags, .len = f->len};
        memcpy(h.magic, entry_magic, sizeof(h.magic));
        entry_digest(&h, f->insns, h.digest);
        const void *parts[] = {&h, f->insns};
        const size_t lens[] = {sizeof(h), f->len * sizeof(*f->insns)};
        cache_entry_write(dir, name, parts, lens, ELEMENTSOF(parts), NULL);
}

int seccomp_filter_get(const char *profile_path, struct sc_filter *ret, struct gx_error *err)
{
        _cleanup_free_ char *profile = NULL;
        size_t len = 0;
        int r = sc_profile_read(profile_path, &profile, &len, err);
        if (r < 0)
                return r;

        char name[CACHE_ENTRY_NAME_MAX];
        _cleanup_close_ int dir = geteuid() == 0 && entry_name(profile, len, name) == 0
                                          ? cache_dir_open("seccomp cache")
                                          : -1;
        if (dir >= 0 && entry_load(dir, name, ret) == 0)
                return 0;
        r = sc_profile_compile_named(profile_path, profile, len, ret, err);
        if (r == 0 && dir >= 0)
                entry_store(dir, name, ret);
        return r;
}
