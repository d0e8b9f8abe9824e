/* Pool-account leases (mapping/lease.c) in a gridmapdir made in a temporary directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mapping/lease.h"
#include "test.h"

#define N_PARALLEL 64

static void test_names(void)
{
        char name[LEASE_NAME_MAX];

        CHECK(lease_name_dn("/DC=org/DC=example/CN=alice", NULL, 0, name) == 0);
        CHECK_STREQ(name, "%2fdc%3dorg%2fdc%3dexample%2fcn%3dalice");

        /* The example of the lcmaps_poolaccount man page. */
        CHECK(lease_name_dn("/DC=org/DC=terena/DC=tcs/C=NL/O=Nikhef/CN=Oscar Koeroo "
                            "okoeroo@nikhef.nl",
                            NULL, 0, name) == 0);
        CHECK_STREQ(name, "%2fdc%3dorg%2fdc%3dterena%2fdc%3dtcs%2fc%3dnl%2fo%3dnikhef%2fcn%3doscar"
                          "%20koeroo%20okoeroo%40nikhef%2enl");

        /* voms_poolaccount: DN plus the groups, the colons encoded. */
        const char *groups[] = {"pool001", "bogus1"};
        CHECK(lease_name_dn("/O=dutchgrid/O=users/CN=Martijn Steenbakkers", groups, 2, name) == 0);
        CHECK_STREQ(name, "%2fo%3ddutchgrid%2fo%3dusers%2fcn%3dmartijn%20steenbakkers%3apool001"
                          "%3abogus1");

        CHECK(lease_name_dn("/CN=a_b-c.d", NULL, 0, name) == 0);
        CHECK_STREQ(name, "%2fcn%3da%5fb%2dc%2ed");

        /* Non-ASCII bytes as LCMAPS saw them, through X509_NAME_oneline's \xHH. */
        CHECK(lease_name_dn("/CN=Ren\xc3\xa9", NULL, 0, name) == 0);
        CHECK_STREQ(name, "%2fcn%3dren%5cxc3%5cxa9");
        /* ... which is the form credential verification writes the DN in anyway. */
        CHECK(lease_name_dn("/CN=Ren\\xC3\\xA9", NULL, 0, name) == 0);
        CHECK_STREQ(name, "%2fcn%3dren%5cxc3%5cxa9");

        CHECK(lease_name_dn("CN=no-slash", NULL, 0, name) == -EINVAL);
        CHECK(lease_name_dn("", NULL, 0, name) == -EINVAL);

        /* Tokens: case-preserving, and never a DN lease name. */
        char a[LEASE_NAME_MAX], b[LEASE_NAME_MAX];
        CHECK(lease_name_token("https://Iss.example", "AbC-1", a) == 0);
        CHECK_STREQ(a, "%tok:https%3a%2f%2f%49ss%2eexample:%41b%43%2d1");
        CHECK(lease_name_token("https://Iss.example", "abc-1", b) == 0);
        CHECK(strcmp(a, b) != 0);
        /* The separator cannot be produced by the encoding, so iss/sub cannot shift. */
        CHECK(lease_name_token("https://a", "b:c", a) == 0);
        CHECK(lease_name_token("https://a:b", "c", b) == 0);
        CHECK(strcmp(a, b) != 0);
        CHECK(lease_name_token("", "x", a) == -EINVAL);
        CHECK(lease_name_token("https://a", "", a) == -EINVAL);

        /* Too long for a directory entry: hashed, still deterministic and distinct. */
        char dn[900];
        memset(dn, 'x', sizeof(dn) - 1);
        dn[0] = '/';
        dn[sizeof(dn) - 1] = '\0';
        CHECK(lease_name_dn(dn, NULL, 0, a) == 0);
        CHECK(strncmp(a, "%sha256:", 8) == 0);
        CHECK(strlen(a) == 8 + 64);
        CHECK(lease_name_dn(dn, NULL, 0, b) == 0);
        CHECK_STREQ(a, b);
        dn[5] = 'y';
        CHECK(lease_name_dn(dn, NULL, 0, b) == 0);
        CHECK(strcmp(a, b) != 0);
        char sub[400];
        memset(sub, 'S', sizeof(sub) - 1);
        sub[sizeof(sub) - 1] = '\0';
        CHECK(lease_name_token("https://iss", sub, a) == 0);
        CHECK(strncmp(a, "%sha256:", 8) == 0);

        CHECK(lease_is_pool_account("atlas001", "atlas"));
        CHECK(lease_is_pool_account("atlas1", "atlas"));
        CHECK(!lease_is_pool_account("atlas", "atlas"));
        CHECK(!lease_is_pool_account("atlasprd001", "atlas"));
        CHECK(!lease_is_pool_account("atlas001x", "atlas"));
        CHECK(!lease_is_pool_account("cms001", "atlas"));
        CHECK(!lease_is_pool_account("atlas001", ""));
}

static char tmpdir[] = "/tmp/test-lease-XXXXXX";

static int make_gridmapdir(const char *sub, const char *prefix, int n)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, sub);
        if (mkdir(path, 0755) < 0)
                return -1;
        int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 1; i <= n; i++) {
                char name[64];
                snprintf(name, sizeof(name), "%s%03d", prefix, i);
                int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                CHECK(fd >= 0);
                close(fd);
        }
        return dirfd;
}

static nlink_t links(int dirfd, const char *name)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        return st.st_nlink;
}

static void rm_rf(const char *path)
{
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
        CHECK(system(cmd) == 0);
}

static void test_basic(void)
{
        struct gx_error err = {0};
        char acct[64], acct2[64], lease[LEASE_NAME_MAX];
        int dirfd = make_gridmapdir("basic", "atlas", 3);
        CHECK(dirfd >= 0);

        /* Entries that must never be leased. */
        int fd = openat(dirfd, "atlasprd001", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        close(fd);
        CHECK(symlinkat("/etc/passwd", dirfd, "atlas004") == 0);
        CHECK(mkdirat(dirfd, "atlas005", 0755) == 0);
        CHECK(mkfifoat(dirfd, "atlas006", 0644) == 0);

        CHECK(lease_name_dn("/DC=org/CN=alice", NULL, 0, lease) == 0);
        CHECK(lease_acquire(dirfd, lease, "atlas", acct, sizeof(acct), &err) == 0);
        CHECK(lease_is_pool_account(acct, "atlas"));
        CHECK(strcmp(acct, "atlas004") < 0);
        CHECK(links(dirfd, lease) == 2);
        CHECK(links(dirfd, acct) == 2);

        /* A returning DN keeps its account, and the lease is touched. */
        struct timespec old[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
        CHECK(utimensat(dirfd, lease, old, AT_SYMLINK_NOFOLLOW) == 0);
        CHECK(lease_acquire(dirfd, lease, "atlas", acct2, sizeof(acct2), &err) == 0);
        CHECK_STREQ(acct, acct2);
        struct stat st;
        CHECK(fstatat(dirfd, lease, &st, AT_SYMLINK_NOFOLLOW) == 0);
        CHECK(st.st_mtime > 1000000);

        /* A name of the lease's inode that the listing does not show (here a link outside
         * the gridmapdir) makes the d_ino pass come up short: the full pass runs, and agrees. */
        CHECK(linkat(dirfd, lease, dirfd, "../basic-outside", 0) == 0);
        CHECK(lease_acquire(dirfd, lease, "atlas", acct2, sizeof(acct2), &err) == 0);
        CHECK_STREQ(acct, acct2);
        CHECK(unlinkat(dirfd, "../basic-outside", 0) == 0);

        /* The same DN in another pool: LCMAPS's inconsistency, not a second lease. */
        err = (struct gx_error){0};
        CHECK(lease_acquire(dirfd, lease, "atlasprd", acct2, sizeof(acct2), &err) < 0);
        CHECK(err.class == GX_AUTHZ);

        /* Exhaust the pool: only atlas001..003 are leasable. */
        char l2[LEASE_NAME_MAX], l3[LEASE_NAME_MAX], l4[LEASE_NAME_MAX];
        CHECK(lease_name_dn("/DC=org/CN=bob", NULL, 0, l2) == 0);
        CHECK(lease_name_token("https://iss", "carol", l3) == 0);
        CHECK(lease_name_dn("/DC=org/CN=dave", NULL, 0, l4) == 0);
        char a2[64], a3[64];
        CHECK(lease_acquire(dirfd, l2, "atlas", a2, sizeof(a2), &err) == 0);
        CHECK(lease_acquire(dirfd, l3, "atlas", a3, sizeof(a3), &err) == 0);
        CHECK(strcmp(acct, a2) != 0 && strcmp(acct, a3) != 0 && strcmp(a2, a3) != 0);
        err = (struct gx_error){0};
        CHECK(lease_acquire(dirfd, l4, "atlas", acct2, sizeof(acct2), &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        CHECK(strstr(gx_error_public(&err), "no free pool account") != NULL);
        CHECK(links(dirfd, "atlasprd001") == 1);
        CHECK(links(dirfd, l4) == 0);

        /* A pool without any account files is a configuration error. */
        err = (struct gx_error){0};
        CHECK(lease_acquire(dirfd, l4, "cms", acct2, sizeof(acct2), &err) < 0);
        CHECK(err.class == GX_SYSTEM);

        /* The other pool still works. */
        CHECK(lease_acquire(dirfd, l4, "atlasprd", acct2, sizeof(acct2), &err) == 0);
        CHECK_STREQ(acct2, "atlasprd001");

        /* Bad arguments. */
        CHECK(lease_acquire(dirfd, "atlas001", "atlas", acct2, sizeof(acct2), &err) < 0);
        CHECK(lease_acquire(dirfd, "%2f/x", "atlas", acct2, sizeof(acct2), &err) < 0);
        CHECK(lease_acquire(dirfd, "%tmp:1:2:3", "atlas", acct2, sizeof(acct2), &err) < 0);
        CHECK(lease_acquire(dirfd, l4, "", acct2, sizeof(acct2), &err) < 0);
        CHECK(lease_acquire(dirfd, l4, "../x", acct2, sizeof(acct2), &err) < 0);
        close(dirfd);
}

static void test_broken(void)
{
        struct gx_error err = {0};
        char acct[64];
        int dirfd = make_gridmapdir("broken", "pool", 2);

        /* A lease whose account file was removed. */
        int fd = openat(dirfd, "%2forphan", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        close(fd);
        CHECK(lease_acquire(dirfd, "%2forphan", "pool", acct, sizeof(acct), &err) < 0);
        CHECK(err.class == GX_SYSTEM);

        /* A lease name that is a symlink is never followed. */
        CHECK(symlinkat("pool001", dirfd, "%2fsymlink") == 0);
        err = (struct gx_error){0};
        CHECK(lease_acquire(dirfd, "%2fsymlink", "pool", acct, sizeof(acct), &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        CHECK(links(dirfd, "pool001") == 1);

        /* A claim left by a crash long ago holds pool001; it is cleaned up and the account
         * becomes leasable again. A fresh claim (a launch in progress) is left alone. */
        CHECK(linkat(dirfd, "pool001", dirfd, "%tmp:1000:1:0000000000000000", 0) == 0);
        char fresh[96];
        snprintf(fresh, sizeof(fresh), "%%tmp:%lld:1:0000000000000000", (long long)time(NULL));
        CHECK(linkat(dirfd, "pool002", dirfd, fresh, 0) == 0);
        CHECK(lease_acquire(dirfd, "%2fnew", "pool", acct, sizeof(acct), &err) == 0);
        CHECK_STREQ(acct, "pool001");
        CHECK(links(dirfd, "pool001") == 2);
        CHECK(links(dirfd, "%tmp:1000:1:0000000000000000") == 0);
        CHECK(links(dirfd, fresh) == 2);

        /* A stale claim on a leased account does not disturb the returning lease. */
        CHECK(linkat(dirfd, "pool001", dirfd, "%tmp:1001:1:0000000000000000", 0) == 0);
        CHECK(lease_acquire(dirfd, "%2fnew", "pool", acct, sizeof(acct), &err) == 0);
        CHECK_STREQ(acct, "pool001");

        /* Two lease names on one account: refused, not guessed. */
        CHECK(linkat(dirfd, "pool001", dirfd, "%2fintruder", 0) == 0);
        err = (struct gx_error){0};
        CHECK(lease_acquire(dirfd, "%2fnew", "pool", acct, sizeof(acct), &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        close(dirfd);
}

/* Fork n children that wait at a barrier and then each lease key(i); collect the accounts. */
static void run_parallel(int dirfd, int n, const char *prefix, bool same_key,
                         char (*accounts)[64], int *failures)
{
        int barrier[2], results[2];
        CHECK(pipe(barrier) == 0);
        CHECK(pipe(results) == 0);
        pid_t pids[N_PARALLEL];
        for (int i = 0; i < n; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        close(barrier[1]);
                        close(results[0]);
                        char c;
                        (void)!read(barrier[0], &c, 1);
                        char dn[64], lease[LEASE_NAME_MAX];
                        struct {
                                int index;
                                int ok;
                                char account[64];
                        } rec = {.index = i};
                        snprintf(dn, sizeof(dn), "/DC=org/CN=user%d", same_key ? 0 : i);
                        struct gx_error err = {0};
                        rec.ok = lease_name_dn(dn, NULL, 0, lease) == 0 &&
                                 lease_acquire(dirfd, lease, prefix, rec.account,
                                               sizeof(rec.account), &err) == 0;
                        if (!rec.ok && err.class != GX_AUTHZ)
                                fprintf(stderr, "child %d: %s\n", i, err.msg);
                        (void)!write(results[1], &rec, sizeof(rec));
                        _exit(0);
                }
        }
        close(barrier[0]);
        close(results[1]);
        close(barrier[1]); /* go */
        *failures = 0;
        for (int i = 0; i < n; i++) {
                struct {
                        int index;
                        int ok;
                        char account[64];
                } rec;
                if (read(results[0], &rec, sizeof(rec)) != sizeof(rec) || rec.index < 0 ||
                    rec.index >= n) {
                        (*failures)++;
                        continue;
                }
                if (!rec.ok)
                        (*failures)++;
                memcpy(accounts[rec.index], rec.account, 64);
        }
        close(results[0]);
        for (int i = 0; i < n; i++)
                waitpid(pids[i], NULL, 0);
}

/* Every name in the directory: accounts have link count 1 or 2, leases 2, no claims left. */
static void check_consistent(int dirfd, int expect_leases)
{
        DIR *d = fdopendir(openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        struct dirent *de;
        int leases = 0;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                nlink_t l = links(dirfd, de->d_name);
                CHECK(strncmp(de->d_name, "%tmp:", 5) != 0);
                if (de->d_name[0] == '%') {
                        leases++;
                        CHECK(l == 2);
                } else {
                        CHECK(l == 1 || l == 2);
                }
        }
        if (d)
                closedir(d);
        CHECK(leases == expect_leases);
}

static void test_parallel(void)
{
        static char accounts[N_PARALLEL][64];
        int failures;
        struct gx_error err = {0};

        /* 64 different DNs against 64 free accounts at once: 64 distinct accounts. */
        int dirfd = make_gridmapdir("parallel", "pool", N_PARALLEL);
        run_parallel(dirfd, N_PARALLEL, "pool", false, accounts, &failures);
        CHECK(failures == 0);
        for (int i = 0; i < N_PARALLEL; i++) {
                CHECK(lease_is_pool_account(accounts[i], "pool"));
                for (int j = 0; j < i; j++)
                        CHECK(strcmp(accounts[i], accounts[j]) != 0);
        }
        check_consistent(dirfd, N_PARALLEL);

        /* Every one of them returns to its account; a 65th DN finds the pool exhausted. */
        for (int i = 0; i < N_PARALLEL; i++) {
                char dn[64], lease[LEASE_NAME_MAX], acct[64];
                snprintf(dn, sizeof(dn), "/DC=org/CN=user%d", i);
                CHECK(lease_name_dn(dn, NULL, 0, lease) == 0);
                CHECK(lease_acquire(dirfd, lease, "pool", acct, sizeof(acct), &err) == 0);
                CHECK_STREQ(acct, accounts[i]);
        }
        char lease[LEASE_NAME_MAX], acct[64];
        CHECK(lease_name_dn("/DC=org/CN=one-too-many", NULL, 0, lease) == 0);
        CHECK(lease_acquire(dirfd, lease, "pool", acct, sizeof(acct), &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        close(dirfd);

        /* 32 launches of one DN at once: one lease, one account for all. */
        dirfd = make_gridmapdir("samekey", "pool", 8);
        run_parallel(dirfd, 32, "pool", true, accounts, &failures);
        CHECK(failures == 0);
        for (int i = 1; i < 32; i++)
                CHECK_STREQ(accounts[i], accounts[0]);
        check_consistent(dirfd, 1);
        close(dirfd);

        /* Many DNs against a small pool: exactly the pool size wins, the rest are refused,
         * and nothing is left half-leased. */
        dirfd = make_gridmapdir("contended", "pool", 8);
        run_parallel(dirfd, 40, "pool", false, accounts, &failures);
        CHECK(failures == 32);
        check_consistent(dirfd, 8);
        close(dirfd);
}

int main(void)
{
        test_names();
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }
        test_basic();
        test_broken();
        test_parallel();
        rm_rf(tmpdir);
        TEST_MAIN_END();
}
