/* Verifying a VOMS proxy costs about 2 ms of every launch with OpenSSL 3.0 (bench/RESULTS.md):
 * each certificate's public key goes through the provider decoder machinery, and the CA and
 * CRL files are read and parsed again. A pilot presents the same proxy for many payloads of
 * one user, and the outcome depends only on the proxy's bytes, the policy, the clock and the
 * site's trust files. So a successful verification is kept in the cache (cache.h), named by
 * the SHA-256 of the bytes and the policy, together with:
 *   - when it was made and until when it holds: the earliest end of the chain, the VOMS ACs
 *     and the CRLs' nextUpdate;
 *   - a stamp (inode, size, mode, owner, mtime, ctime) of every trust file it relied on
 *     (cred_trust_use) and of the directories they are in, whose mtime changes when a file is
 *     added, removed or renamed there (a new CRL, a CA taken out).
 * It is used only if every stamp still matches, so a CRL rewritten in place, a CA or .lsc
 * file replaced or edited, or a change of the policy sends the launch to a full verification.
 * Files changed within a second of the launch's start are not trusted to be the ones OpenSSL
 * read, and such a result is not kept. Refusals are never kept.
 *
 * Tokens the same way: named by the token and the token policy, valid until the token's exp,
 * relying on the issuers file and the JWKS file it was checked against. Files the verifier
 * opened through gx_open_trusted() (those and the vomsdir's) must pass it again at each use. */
#include "cred-cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "common/fdutil.h"
#include "common/macro.h"
#include "common/sha256.h"
#include "common/strutil.h"
#include "log.h"
#include "mapping/describe.h"
#include "verifier.h"

#define MAX_STAMPS 64
/* Files of one hash in certdir (<hash>.0, .1, ...): more is not a real CA directory. */
#define MAX_SUFFIX 16
/* Expired entries are removed at most this often, on a verification that stores one. */
#define PRUNE_INTERVAL 600
#define PRUNE_MARK "cred-pruned"

static const char entry_magic[8] = {'g', 'x', 'c', 'r', 'e', 'd', 0, 2};

/* A trust_stamp's flags: the verifier opened the file through gx_open_trusted(), so a use of
 * the entry must find it still passing (a directory above it made writable is no stamp). */
#define STAMP_OPENED_TRUSTED 1U

struct trust_stamp {
        char path[232];
        uint32_t mode, uid, gid, flags;
        uint64_t dev, ino;
        int64_t size, mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

struct entry_header {
        char magic[8];
        int64_t verified_at; /* policy->now of the verification */
        int64_t expires;     /* first second at which it no longer holds */
        uint32_t n_stamps;
        uint32_t pad;
        unsigned char digest[32]; /* SHA-256 of the name, the fields above, stamps, identity */
};

/* Compared and hashed as bytes: no padding may hide in them. */
_Static_assert(sizeof(struct trust_stamp) == 232 + 4 * 4 + 2 * 8 + 5 * 8, "trust_stamp padding");
_Static_assert(sizeof(struct entry_header) == 8 + 2 * 8 + 2 * 4 + 32, "entry_header padding");

struct stamps {
        struct trust_stamp s[MAX_STAMPS];
        size_t n;
        bool unusable; /* too many, a path too long, a file changed too recently */
};

static void stamp_from_stat(struct trust_stamp *t, const struct stat *st)
{
        *t = (struct trust_stamp){
                .mode = st->st_mode,
                .uid = st->st_uid,
                .gid = st->st_gid,
                .dev = st->st_dev,
                .ino = st->st_ino,
                .size = st->st_size,
                .mtime_sec = st->st_mtim.tv_sec,
                .mtime_nsec = st->st_mtim.tv_nsec,
                .ctime_sec = st->st_ctim.tv_sec,
                .ctime_nsec = st->st_ctim.tv_nsec,
        };
}

/* Stamp path as stat(2) sees it: through symbolic links, as OpenSSL opens the files.
 * -ENOENT if it does not exist (nothing is added), 0 if stamped; *is_dir tells which.
 * flags: STAMP_OPENED_TRUSTED or 0. */
static int add_stamp(struct stamps *s, const char *path, uint32_t flags, int64_t now,
                     bool *is_dir)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                if (errno != ENOENT)
                        s->unusable = true;
                return -errno;
        }
        *is_dir = S_ISDIR(st.st_mode);
        if (s->n >= MAX_STAMPS || strlen(path) >= sizeof(s->s[0].path) ||
            st.st_mtim.tv_sec >= now - 1 || st.st_ctim.tv_sec >= now - 1) {
                s->unusable = true;
                return 0;
        }
        stamp_from_stat(&s->s[s->n], &st);
        gx_strlcpy(s->s[s->n].path, path, sizeof(s->s[0].path));
        s->s[s->n].flags = flags;
        s->n++;
        return 0;
}

/* certdir/<hash>.<prefix>0, .1, ... up to the first that does not exist, as hash_dir reads
 * them. */
static void stamp_hash_files(struct stamps *s, const char *certdir, unsigned long hash,
                             const char *prefix, int64_t now)
{
        for (int k = 0; k < MAX_SUFFIX; k++) {
                char path[PATH_MAX];
                bool dir;
                snprintf(path, sizeof(path), "%s/%08lx.%s%d", certdir, hash, prefix, k);
                if (add_stamp(s, path, 0, now, &dir) == -ENOENT)
                        return;
        }
        s->unusable = true;
}

/* A vomsdir directory and every entry in it but subdirectories and dot files: voms.c's view,
 * which it opens through gx_open_trusted(). */
static void stamp_dir_files(struct stamps *s, const char *path, int64_t now)
{
        bool is_dir = false;
        if (add_stamp(s, path, STAMP_OPENED_TRUSTED, now, &is_dir) < 0 || !is_dir)
                return;
        DIR *d = opendir(path);
        if (!d) {
                s->unusable = true;
                return;
        }
        struct dirent *de;
        while (!s->unusable && (de = readdir(d))) {
                char sub[PATH_MAX];
                bool sub_dir;
                if (de->d_name[0] == '.' || de->d_type == DT_DIR)
                        continue;
                snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                (void)add_stamp(s, sub, STAMP_OPENED_TRUSTED, now, &sub_dir);
        }
        closedir(d);
}

static void stamps_collect(struct stamps *s, const struct cred_x509_policy *policy,
                           const struct cred_trust_use *use)
{
        bool dir;
        s->n = 0;
        s->unusable = use->incomplete;
        if (add_stamp(s, policy->certdir, 0, policy->now, &dir) < 0)
                s->unusable = true;
        for (size_t i = 0; i < use->n_cert_hashes; i++)
                stamp_hash_files(s, policy->certdir, use->cert_hashes[i], "", policy->now);
        for (size_t i = 0; i < use->n_crl_hashes; i++)
                stamp_hash_files(s, policy->certdir, use->crl_hashes[i], "r", policy->now);
        if (use->n_vos > 0 && policy->vomsdir) {
                stamp_dir_files(s, policy->vomsdir, policy->now);
                for (size_t i = 0; i < use->n_vos; i++) {
                        char path[PATH_MAX];
                        snprintf(path, sizeof(path), "%s/%s", policy->vomsdir, use->vos[i]);
                        stamp_dir_files(s, path, policy->now);
                }
        }
}

/* Whether path still passes gx_open_trusted, as when the verifier opened it (with O_PATH:
 * nothing is read). */
static bool still_trusted(const char *path)
{
        struct gx_error e = {0};
        int fd = gx_open_trusted(path, O_PATH, &e);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

/* Every stamped file as it was, and still trusted where the verifier needed it to be. */
static bool stamps_hold(const struct trust_stamp *stamps, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                struct trust_stamp now;
                if (stat(stamps[i].path, &st) < 0)
                        return false;
                stamp_from_stat(&now, &st);
                memcpy(now.path, stamps[i].path, sizeof(now.path));
                now.flags = stamps[i].flags;
                if (memcmp(&now, &stamps[i], sizeof(now)) != 0 ||
                    ((stamps[i].flags & STAMP_OPENED_TRUSTED) && !still_trusted(stamps[i].path)))
                        return false;
        }
        return true;
}

/* "cred-" and the hash of the policy (all of it but the clock and the lifetime asked for,
 * which are checked at each use) and the proxy's bytes. */
static int x509_entry_name(const char *pem, size_t len, const struct cred_x509_policy *p,
                           char ret[CACHE_ENTRY_NAME_MAX])
{
        char flags[64];
        snprintf(flags, sizeof(flags), "key %d limited %d legacy %d crls %d\n",
                 p->require_private_key, p->allow_limited, p->allow_legacy, p->check_crls);
        const char *vomsdir = p->vomsdir ? p->vomsdir : "";
        const char *host = p->host_fqdn ? p->host_fqdn : "";
        /* Each string with its terminating NUL, so that no two policies read alike. */
        const void *parts[] = {"x509\n", p->certdir, vomsdir, host, flags, pem};
        const size_t lens[] = {5, strlen(p->certdir) + 1, strlen(vomsdir) + 1, strlen(host) + 1,
                               strlen(flags), len};
        return cache_entry_name("cred", parts, lens, ELEMENTSOF(parts), ret);
}

/* A NULL-terminated list as one unambiguous byte string: its length, then each string with
 * its NUL (malloc'd; NULL when out of memory). */
static char *strv_bytes(char *const *v, size_t *ret_len)
{
        size_t n = 0, len = 32;
        for (; v && v[n]; n++)
                len += strlen(v[n]) + 1;
        char *buf = malloc(len);
        if (!buf)
                return NULL;
        size_t o = (size_t)snprintf(buf, 32, "%zu\n", n);
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(v[i]) + 1;
                memcpy(buf + o, v[i], l);
                o += l;
        }
        *ret_len = o;
        return buf;
}

/* "cred-" and the hash of the token policy (all of it but the clock) and the token. */
static int token_entry_name(const char *token, size_t len, const struct cred_token_policy *p,
                            char ret[CACHE_ENTRY_NAME_MAX])
{
        char flags[64];
        snprintf(flags, sizeof(flags), "any-audience %d skew %llu\n", p->accept_any_audience,
                 (unsigned long long)p->clock_skew);
        size_t aud_len = 0, scopes_len = 0;
        _cleanup_free_ char *aud = strv_bytes(p->audiences, &aud_len);
        _cleanup_free_ char *scopes = strv_bytes(p->required_scopes, &scopes_len);
        if (!aud || !scopes)
                return -ENOMEM;
        const void *parts[] = {"token\n", p->issuers_file, flags, aud, scopes, token};
        const size_t lens[] = {6, strlen(p->issuers_file) + 1, strlen(flags), aud_len, scopes_len,
                               len};
        return cache_entry_name("cred", parts, lens, ELEMENTSOF(parts), ret);
}

static void entry_digest(const char *name, const struct entry_header *h,
                         const struct trust_stamp *stamps, const struct gx_identity *id,
                         unsigned char ret[32])
{
        const void *parts[] = {name, &h->verified_at, &h->expires, &h->n_stamps, stamps, id};
        const size_t lens[] = {strlen(name) + 1, sizeof(h->verified_at), sizeof(h->expires),
                               sizeof(h->n_stamps), h->n_stamps * sizeof(*stamps), sizeof(*id)};
        gx_sha256(parts, lens, ELEMENTSOF(parts), ret);
}

/* 0 with *ret filled, or -1: no usable entry: damaged, of another kind, made for a later
 * clock (one set back) or past its end at now, or relying on a trust file that has changed. */
static int entry_load(int dir, const char *name, enum gx_cred_kind kind, int64_t now,
                      struct gx_identity *ret)
{
        const size_t max = sizeof(struct entry_header) + MAX_STAMPS * sizeof(struct trust_stamp) +
                           sizeof(struct gx_identity);
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        struct entry_header h;
        if (cache_entry_read(dir, name, entry_magic, &h, sizeof(h), max, &buf, &n) < 0 ||
            h.n_stamps > MAX_STAMPS ||
            n != sizeof(h) + h.n_stamps * sizeof(struct trust_stamp) + sizeof(*ret))
                return -1;
        /* Both start at multiples of 8 bytes in a malloc'd buffer. */
        const struct trust_stamp *stamps = (const void *)(buf + sizeof(h));
        const struct gx_identity *id = (const void *)(stamps + h.n_stamps);
        unsigned char d[32];
        entry_digest(name, &h, stamps, id, d);
        if (memcmp(d, h.digest, sizeof(d)) != 0 || !identity_well_formed(id, kind))
                return -1;
        for (size_t i = 0; i < h.n_stamps; i++)
                if (!gx_terminated(stamps[i].path, sizeof(stamps[i].path)))
                        return -1;
        if (now < h.verified_at || now >= h.expires || !stamps_hold(stamps, h.n_stamps))
                return -1;
        *ret = *id;
        return 0;
}

/* Remove expired entries (an entry's mtime is its end) and the private files of writers that
 * died (their ctime is when they were written), at most every PRUNE_INTERVAL. */
static void prune(int dir, int64_t now)
{
        struct stat st;
        if (fstatat(dir, PRUNE_MARK, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            st.st_mtim.tv_sec > now - PRUNE_INTERVAL && st.st_mtim.tv_sec <= now)
                return;
        int mark = openat(dir, PRUNE_MARK, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (mark < 0)
                return;
        (void)futimens(mark, NULL);
        close(mark);
        int dfd = dup(dir);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                safe_close(dfd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, "cred-", 5) != 0 || strcmp(de->d_name, PRUNE_MARK) == 0)
                        continue;
                bool tmp = strstr(de->d_name, ".tmp-") != NULL;
                if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    (tmp ? st.st_ctim.tv_sec < now - PRUNE_INTERVAL : st.st_mtim.tv_sec <= now))
                        (void)unlinkat(dir, de->d_name, 0);
        }
        closedir(d);
}

/* Keep id, verified at now and valid before expires, relying on the files stamped in s. */
static void entry_store(int dir, const char *name, int64_t now, int64_t expires,
                        const struct stamps *s, const struct gx_identity *id)
{
        if (s->unusable || expires <= now)
                return;
        struct entry_header h = {
                .verified_at = now,
                .expires = expires,
                .n_stamps = (uint32_t)s->n,
        };
        memcpy(h.magic, entry_magic, sizeof(h.magic));
        entry_digest(name, &h, s->s, id, h.digest);
        const void *parts[] = {&h, s->s, id};
        const size_t lens[] = {sizeof(h), s->n * sizeof(s->s[0]), sizeof(*id)};
        const struct timespec end = {.tv_sec = (time_t)expires};
        cache_entry_write(dir, name, parts, lens, ELEMENTSOF(parts), &end);
        prune(dir, now);
}

int cred_cache_verify_x509(const char *pem, size_t len, const struct cred_x509_policy *policy,
                           struct gx_identity *ret, struct gx_error *err)
{
        char name[CACHE_ENTRY_NAME_MAX];
        _cleanup_close_ int dir = geteuid() == 0 && policy->certdir &&
                                                  x509_entry_name(pem, len, policy, name) == 0
                                          ? cache_dir_open("credential cache")
                                          : -1;
        /* The lifetime asked for must still be left, else a full verification says why not;
         * the certdir's own trust the caller checked. */
        _cleanup_free_ struct gx_identity *cached = malloc(sizeof(*cached));
        struct gx_error lifetime = {0};
        if (dir >= 0 && cached && entry_load(dir, name, GX_CRED_X509, policy->now, cached) == 0 &&
            cred_x509_check_lifetime(cached, policy, &lifetime) == 0) {
                log_msg(LOG_LVL_DEBUG, "credential: verified by an earlier launch (%s)", name);
                *ret = *cached;
                return 0;
        }
        _cleanup_free_ struct cred_trust_use *use = calloc(1, sizeof(*use));
        _cleanup_free_ struct stamps *s = calloc(1, sizeof(*s));
        if (!use || !s)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "credential");
        int r = verifier_x509(pem, len, policy, ret, use, err);
        if (r == 0 && dir >= 0) {
                stamps_collect(s, policy, use);
                int64_t expires = ret->not_after < use->crls_next_update ? ret->not_after
                                                                          : use->crls_next_update;
                entry_store(dir, name, policy->now, expires, s, ret);
        }
        return r;
}

/* A file the verifier opened through gx_open_trusted(), and the directory holding it. */
static void stamp_file_and_dir(struct stamps *s, const char *path, int64_t now)
{
        char dir[PATH_MAX];
        bool is_dir;
        if (add_stamp(s, path, STAMP_OPENED_TRUSTED, now, &is_dir) < 0)
                s->unusable = true;
        const char *slash = strrchr(path, '/');
        if (!slash || (size_t)(slash - path) >= sizeof(dir)) {
                s->unusable = true;
                return;
        }
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        if (add_stamp(s, dir[0] ? dir : "/", STAMP_OPENED_TRUSTED, now, &is_dir) < 0)
                s->unusable = true;
}

int cred_cache_verify_token(const char *token, size_t len, const struct cred_token_policy *policy,
                            struct gx_identity *ret, struct gx_error *err)
{
        char name[CACHE_ENTRY_NAME_MAX];
        _cleanup_close_ int dir = geteuid() == 0 && policy->issuers_file &&
                                                  policy->issuers_file[0] &&
                                                  token_entry_name(token, len, policy, name) == 0
                                          ? cache_dir_open("credential cache")
                                          : -1;
        if (dir >= 0 && entry_load(dir, name, GX_CRED_TOKEN, policy->now, ret) == 0) {
                log_msg(LOG_LVL_DEBUG, "credential: verified by an earlier launch (%s)", name);
                return 0;
        }
        char jwks[PATH_MAX] = "";
        int r = verifier_token(token, len, policy, ret, jwks, err);
        _cleanup_free_ struct stamps *s = calloc(1, sizeof(*s));
        if (r == 0 && dir >= 0 && s && jwks[0] == '/') {
                stamp_file_and_dir(s, policy->issuers_file, policy->now);
                stamp_file_and_dir(s, jwks, policy->now);
                entry_store(dir, name, policy->now, ret->not_after, s, ret);
        }
        return r;
}
