#include "mapping/lease.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/macro.h"
#include "common/sha256.h"
#include "common/strutil.h"

#define CLAIM_PREFIX "%tmp:"
#define TOKEN_PREFIX "%tok:"
#define HASH_PREFIX "%sha256:"
/* A claim lives for microseconds; one older than this was left by a crash. Generous, since
 * the clocks of NFS clients sharing a gridmapdir may differ. */
#define CLAIM_STALE_SECONDS 3600
/* Rounds of (look up, claim) before giving up under contention. */
#define LEASE_ROUNDS 64
#define ACCOUNT_NAME_MAX 64

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

struct enc {
        char *buf;
        size_t len;
};

static void put(struct enc *e, char ch)
{
        e->buf[e->len++] = ch;
}

static void put_pct(struct enc *e, unsigned char ch)
{
        put(e, '%');
        put(e, hex_lower[ch >> 4]);
        put(e, hex_lower[ch & 15]);
}

/* LCMAPS: ASCII letters (lower-cased) and digits stay, everything else is %hh. */
static void put_lcmaps(struct enc *e, unsigned char ch)
{
        if (ch >= 'A' && ch <= 'Z')
                put(e, (char)(ch - 'A' + 'a'));
        else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
                put(e, (char)ch);
        else
                put_pct(e, ch);
}

/* A DN byte as LCMAPS saw it: X509_NAME_oneline writes bytes outside printable ASCII as \xHH. */
static void put_lcmaps_dn(struct enc *e, unsigned char ch)
{
        if (ch >= 0x20 && ch <= 0x7e) {
                put_lcmaps(e, ch);
                return;
        }
        put_lcmaps(e, '\\');
        put_lcmaps(e, 'x');
        put_lcmaps(e, (unsigned char)hex_upper[ch >> 4]);
        put_lcmaps(e, (unsigned char)hex_upper[ch & 15]);
}

/* Tokens: case matters in a sub, so only [a-z0-9] stay. */
static void put_token(struct enc *e, unsigned char ch)
{
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
                put(e, (char)ch);
        else
                put_pct(e, ch);
}

/* Copy the finished name, or its hash when it does not fit in a directory entry. */
static int finish(const struct enc *e, char name[LEASE_NAME_MAX])
{
        if (e->len < LEASE_NAME_MAX) {
                memcpy(name, e->buf, e->len);
                name[e->len] = '\0';
                return 0;
        }
        size_t o = strlen(HASH_PREFIX);
        memcpy(name, HASH_PREFIX, o);
        gx_sha256_hex(e->buf, e->len, name + o);
        return 0;
}

int lease_name_dn(const char *dn, const char *const *groups, size_t n_groups,
                  char name[LEASE_NAME_MAX])
{
        /* Only a subject DN: its "%2f" start keeps lease names apart from account names. */
        if (dn[0] != '/')
                return -EINVAL;
        /* Worst case: a DN byte becomes \xHH, then the backslash %5c: 6 bytes. */
        size_t max = 6 * strlen(dn) + 1;
        for (size_t i = 0; i < n_groups; i++)
                max += 3 + 3 * strlen(groups[i]);
        _cleanup_free_ char *buf = malloc(max);
        if (!buf)
                return -ENOMEM;
        struct enc e = {.buf = buf};
        for (const unsigned char *p = (const unsigned char *)dn; *p; p++)
                put_lcmaps_dn(&e, *p);
        for (size_t i = 0; i < n_groups; i++) {
                put_lcmaps(&e, ':');
                for (const unsigned char *p = (const unsigned char *)groups[i]; *p; p++)
                        put_lcmaps(&e, *p);
        }
        return finish(&e, name);
}

int lease_name_token(const char *iss, const char *sub, char name[LEASE_NAME_MAX])
{
        if (!iss[0] || !sub[0])
                return -EINVAL;
        size_t max = strlen(TOKEN_PREFIX) + 3 * strlen(iss) + 1 + 3 * strlen(sub) + 1;
        _cleanup_free_ char *buf = malloc(max);
        if (!buf)
                return -ENOMEM;
        struct enc e = {.buf = buf};
        for (const char *p = TOKEN_PREFIX; *p; p++)
                put(&e, *p);
        for (const unsigned char *p = (const unsigned char *)iss; *p; p++)
                put_token(&e, *p);
        put(&e, ':');
        for (const unsigned char *p = (const unsigned char *)sub; *p; p++)
                put_token(&e, *p);
        return finish(&e, name);
}

bool lease_is_pool_account(const char *name, const char *prefix)
{
        size_t plen = strlen(prefix), len = strlen(name);
        if (plen == 0 || len <= plen || len >= ACCOUNT_NAME_MAX || strncmp(name, prefix, plen) != 0)
                return false;
        for (const char *p = name + plen; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}

int lease_open_dir(const char *path, struct gx_error *err)
{
        return gx_open_trusted_dir(path, err);
}

static bool is_claim(const char *name)
{
        return gx_startswith(name, CLAIM_PREFIX);
}

static bool claim_is_stale(const char *name, time_t now)
{
        const char *p = name + strlen(CLAIM_PREFIX);
        char *end;
        errno = 0;
        long long t = strtoll(p, &end, 10);
        if (errno || end == p || *end != ':')
                return false;
        return t < (long long)now - CLAIM_STALE_SECONDS;
}

/* A fresh fd on the directory for readdir; dirfd itself stays usable for *at() calls. */
static DIR *open_listing(int dirfd, struct gx_error *err)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                gx_fail(err, GX_SYSTEM, errno, "gridmapdir");
                return NULL;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                gx_fail(err, GX_SYSTEM, errno, "gridmapdir");
                close(fd);
        }
        return d;
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

static void sleep_a_little(void)
{
        unsigned r = 0;
        if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
                r = (unsigned)getpid();
        struct timespec ts = {.tv_nsec = (long)(1 + r % 10) * 1000000L};
        nanosleep(&ts, NULL);
}

/* Open a directory entry as a regular file without following symlinks or blocking on a
 * FIFO. On NFS the open also revalidates the cached attributes (close-to-open consistency),
 * which the link-count checks rely on. */
static int open_entry(int dirfd, const char *name, struct stat *st)
{
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (!S_ISREG(st->st_mode)) {
                close(fd);
                return -EBADFD;
        }
        return fd;
}

static int entry_error(int r, const char *name, struct gx_error *err)
{
        char esc[LEASE_NAME_MAX * 4];
        gx_escape(esc, sizeof(esc), name);
        if (r == -ELOOP || r == -EBADFD)
                return gx_fail(err, GX_SYSTEM, 0, "gridmapdir entry %s is not a regular file",
                               esc);
        return gx_fail(err, GX_SYSTEM, r, "gridmapdir entry %s", esc);
}

/* The names of a lease's inode in the gridmapdir. */
struct lease_names {
        char found[ACCOUNT_NAME_MAX]; /* the first account name */
        size_t n_accounts, n_others;
        nlink_t n_names; /* every name of the inode seen, the lease's own included */
};

/* Scan the listing d for the names of inode st besides the lease `name`, stat'ing each
 * candidate. With by_d_ino, only entries whose d_ino is st's inode are candidates: one stat
 * instead of one per pool account, and exact wherever d_ino is the inode number, as on local
 * file systems. The caller knows from st_nlink whether it found them all. */
static int scan_lease_names(int dirfd, DIR *d, const char *name, const struct stat *st,
                            bool by_d_ino, struct lease_names *ret)
{
        time_t now = time(NULL);
        *ret = (struct lease_names){.n_names = 1};
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de)
                        break;
                if (de->d_name[0] == '.' || strcmp(de->d_name, name) == 0 ||
                    (by_d_ino && de->d_ino != st->st_ino))
                        continue;
                struct stat est;
                if (fstatat(dirfd, de->d_name, &est, AT_SYMLINK_NOFOLLOW) < 0 ||
                    est.st_ino != st->st_ino || est.st_dev != st->st_dev)
                        continue;
                ret->n_names++;
                if (is_claim(de->d_name)) {
                        /* Another launch trying this account; it will back off. */
                        if (claim_is_stale(de->d_name, now))
                                unlinkat(dirfd, de->d_name, 0);
                        continue;
                }
                if (de->d_name[0] == '%' || strlen(de->d_name) >= sizeof(ret->found)) {
                        ret->n_others++;
                        continue;
                }
                if (ret->n_accounts++ == 0)
                        memcpy(ret->found, de->d_name, strlen(de->d_name) + 1);
        }
        return -errno;
}

/* Look for the lease `name`. 0 and the account when it exists and is sound; -ENOENT when
 * there is no lease; -EAGAIN when a concurrent launch is in the middle of something. */
static int find_lease(int dirfd, const char *name, const char *prefix, char *account,
                      size_t account_size, struct gx_error *err)
{
        struct stat st;
        _cleanup_close_ int fd = open_entry(dirfd, name, &st);
        if (fd == -ENOENT)
                return -ENOENT;
        if (fd < 0)
                return entry_error(fd, name, err);

        _cleanup_(closedirp) DIR *d = open_listing(dirfd, err);
        if (!d)
                return -EIO;
        struct lease_names names;
        int r = scan_lease_names(dirfd, d, name, &st, true, &names);
        if (r == 0 && names.n_names != st.st_nlink) {
                /* d_ino is not the inode number here, or the links changed meanwhile. */
                rewinddir(d);
                r = scan_lease_names(dirfd, d, name, &st, false, &names);
        }
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading gridmapdir");

        char esc[LEASE_NAME_MAX * 4];
        gx_escape(esc, sizeof(esc), name);
        if (names.n_accounts == 0 && st.st_nlink == 1)
                return gx_fail(err, GX_SYSTEM, 0,
                               "gridmapdir lease %s has no pool account (link count 1); remove "
                               "it",
                               esc);
        if (names.n_accounts != 1 || names.n_others != 0) {
                /* An LCMAPS sharing this gridmapdir may be mid-way (it links lease names
                 * directly and unlinks them on backing off): look again before calling the
                 * gridmapdir broken. */
                gx_fail(err, GX_SYSTEM, 0,
                        "gridmapdir lease %s: %zu account names and %zu other names on its inode",
                        esc, names.n_accounts, names.n_others);
                return -EAGAIN;
        }
        char acc[ACCOUNT_NAME_MAX * 4], pfx[ACCOUNT_NAME_MAX * 4];
        gx_escape(acc, sizeof(acc), names.found);
        gx_escape(pfx, sizeof(pfx), prefix);
        if (!lease_is_pool_account(names.found, prefix))
                return gx_fail_public(err, GX_AUTHZ, 0, "not authorized",
                                      "gridmapdir lease %s holds account %s, which is not in "
                                      "pool .%s; remove the lease to re-map",
                                      esc, acc, pfx);
        if (strlen(names.found) >= account_size)
                return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "account %s", acc);
        /* LCMAPS touches the lease on every use; sites expire leases by their mtime. Failing
         * to do so (a read-only gridmapdir) must not stop a valid mapping. */
        (void)futimens(fd, NULL);
        memcpy(account, names.found, strlen(names.found) + 1);
        return 0;
}

/* Try to lease account `cand` to `name` through a private claim. 0 when leased; -EBUSY when
 * someone else got the account; -EEXIST when `name` appeared meanwhile (a concurrent launch
 * for the same key won another account). */
static int try_claim(int dirfd, const char *cand, const char *name, struct gx_error *err)
{
        char claim[96];
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                return gx_fail(err, GX_SYSTEM, errno, "getrandom");
        snprintf(claim, sizeof(claim), "%s%lld:%d:%016" PRIx64, CLAIM_PREFIX,
                 (long long)time(NULL), (int)getpid(), rnd);

        if (linkat(dirfd, cand, dirfd, claim, 0) < 0) {
                if (errno == ENOENT)
                        return -EBUSY;
                return gx_fail(err, GX_SYSTEM, errno, "gridmapdir: link %s", cand);
        }

        struct stat st, cst;
        _cleanup_close_ int fd = open_entry(dirfd, claim, &st);
        int r;
        if (fd < 0) {
                r = entry_error(fd, claim, err);
                goto release;
        }
        /* linkat() does not follow a symlink, so check that the claim is the account file we
         * chose and not something swapped in for it. */
        if (fstatat(dirfd, cand, &cst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(cst.st_mode) ||
            cst.st_ino != st.st_ino || cst.st_dev != st.st_dev || st.st_nlink != 2) {
                r = -EBUSY;
                goto release;
        }
        /* Our claim won the account: nobody else sees link count 2 on it until we are done. */
        if (linkat(dirfd, claim, dirfd, name, 0) < 0) {
                r = errno == EEXIST ? -EEXIST
                                    : gx_fail(err, GX_SYSTEM, errno, "gridmapdir: link lease");
                goto release;
        }
        r = 0;
release:
        /* A claim that cannot be removed is ignored by lease look-ups and goes stale. */
        (void)unlinkat(dirfd, claim, 0);
        return r;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One pass over the pool: claim the first free account that we can. -ENOSPC when none is
 * free; *ret_total is the number of accounts in the pool, free or not. */
static int lease_new(int dirfd, const char *name, const char *prefix, size_t *ret_total,
                     struct gx_error *err)
{
        _cleanup_(closedirp) DIR *d = open_listing(dirfd, err);
        if (!d)
                return -EIO;
        _cleanup_strv_free_ char **cands = NULL;
        size_t total = 0;
        time_t now = time(NULL);
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de)
                        break;
                if (is_claim(de->d_name) && claim_is_stale(de->d_name, now)) {
                        unlinkat(dirfd, de->d_name, 0);
                        continue;
                }
                if (!lease_is_pool_account(de->d_name, prefix))
                        continue;
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                /* Never lease something that is not a plain file (a symlink could point
                 * anywhere). */
                if (!S_ISREG(st.st_mode))
                        continue;
                total++;
                if (st.st_nlink != 1)
                        continue;
                if (gx_strv_push(&cands, de->d_name) < 0)
                        return gx_fail(err, GX_SYSTEM, ENOMEM, "gridmapdir");
        }
        if (errno)
                return gx_fail(err, GX_SYSTEM, errno, "reading gridmapdir");

        size_t n = gx_strv_len(cands);
        *ret_total = total;
        if (n == 0)
                return -ENOSPC;
        /* Start at a random free account, so that concurrent launches spread out instead of
         * all racing for the first one. */
        qsort(cands, n, sizeof(char *), cmp_str);
        uint32_t start = 0;
        if (getrandom(&start, sizeof(start), GRND_NONBLOCK) != sizeof(start))
                start = (uint32_t)getpid();
        for (size_t i = 0; i < n; i++) {
                int r = try_claim(dirfd, cands[(start + i) % n], name, err);
                if (r != -EBUSY)
                        return r;
        }
        return -EBUSY;
}

int lease_acquire(int dirfd, const char *lease_name, const char *prefix, char *account,
                  size_t account_size, struct gx_error *err)
{
        size_t len = strlen(lease_name);
        if (len == 0 || len >= LEASE_NAME_MAX || lease_name[0] != '%' || is_claim(lease_name) ||
            strchr(lease_name, '/'))
                return gx_fail(err, GX_SYSTEM, EINVAL, "invalid lease name");
        if (!prefix[0] || strlen(prefix) >= ACCOUNT_NAME_MAX - 1 || strchr(prefix, '/') ||
            prefix[0] == '%' || prefix[0] == '.')
                return gx_fail(err, GX_SYSTEM, EINVAL, "invalid pool prefix");

        unsigned empty_rounds = 0;
        int r = 0;
        for (unsigned round = 0; round < LEASE_ROUNDS; round++) {
                r = find_lease(dirfd, lease_name, prefix, account, account_size, err);
                if (r == 0)
                        return 0;
                if (r == -EAGAIN) {
                        sleep_a_little();
                        continue;
                }
                if (r != -ENOENT)
                        return r;

                size_t total = 0;
                r = lease_new(dirfd, lease_name, prefix, &total, err);
                if (r == 0 || r == -EEXIST)
                        continue; /* read the lease back, as a returning key would */
                if (r == -ENOSPC) {
                        char pfx[ACCOUNT_NAME_MAX * 4];
                        gx_escape(pfx, sizeof(pfx), prefix);
                        if (total == 0)
                                return gx_fail(err, GX_SYSTEM, 0,
                                               "gridmapdir has no accounts of pool .%s", pfx);
                        /* An account can look taken for a moment while a losing claim backs
                         * off: look a few times before calling the pool exhausted. */
                        if (++empty_rounds >= 3)
                                return gx_fail_public(err, GX_AUTHZ, 0,
                                                      "not authorized: no free pool account",
                                                      "no free pool account in pool .%s", pfx);
                        sleep_a_little();
                        continue;
                }
                if (r != -EBUSY)
                        return r;
                empty_rounds = 0;
                sleep_a_little();
        }
        if (r == -EAGAIN)
                return r; /* find_lease's message says what it kept seeing */
        return gx_fail(err, GX_SYSTEM, EAGAIN,
                       "gridmapdir: could not settle a lease after %d attempts", LEASE_ROUNDS);
}
