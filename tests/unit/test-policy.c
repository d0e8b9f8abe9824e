/* The mapping decision (mapping/policy.c) and account look-ups (mapping/account.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mapping/policy.h"
#include "test.h"

/* A made-up name service, so that the group and refusal logic is testable anywhere. */
struct fake_user {
        const char *name;
        uid_t uid;
        gid_t gid;
        gid_t groups[3];
        size_t n_groups;
};

static const struct fake_user fake_users[] = {
        {"alice", 5000, 3000, {3000, 3001}, 2},
        {"atlasstatic", 5001, 2000, {2000}, 1},
        {"atlprd001", 10001, 2001, {2001}, 1},
        {"atlprd002", 10002, 2001, {2001}, 1},
        {"dteam001", 11001, 2100, {2100}, 1},
        {"tokpool001", 12001, 2200, {2200}, 1},
        {"rootish", 0, 100, {100}, 1},
        {"rootish001", 0, 100, {100}, 1},
        {"lowuid", 500, 100, {100}, 1},
        {"gidzero", 6000, 0, {0}, 1},
        {"supzero", 6001, 100, {100, 0}, 2},
        {"manygroups", 6002, 100, {100}, 99},
};

static const struct {
        const char *name;
        gid_t gid;
} fake_groups[] = {
        {"atlas", 2000}, {"atlasprd", 2001}, {"higgs", 2002}, {"wheel", 0},
};

static const struct fake_user *fake_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(fake_users); i++)
                if (strcmp(fake_users[i].name, name) == 0)
                        return &fake_users[i];
        return NULL;
}

static int fake_user(const char *name, uid_t *uid, gid_t *gid, char *home, size_t home_size)
{
        const struct fake_user *u = fake_find(name);
        if (!u)
                return -ENOENT;
        *uid = u->uid;
        *gid = u->gid;
        snprintf(home, home_size, "/home/%s", name);
        return 0;
}

static int fake_user_groups(const char *name, gid_t gid, gid_t *groups, size_t *n)
{
        (void)gid;
        const struct fake_user *u = fake_find(name);
        if (!u)
                return -ENOENT;
        if (u->n_groups > *n || u->n_groups > ELEMENTSOF(u->groups))
                return -ERANGE;
        memcpy(groups, u->groups, u->n_groups * sizeof(gid_t));
        *n = u->n_groups;
        return 0;
}

static int fake_group(const char *name, gid_t *gid)
{
        for (size_t i = 0; i < ELEMENTSOF(fake_groups); i++)
                if (strcmp(fake_groups[i].name, name) == 0) {
                        *gid = fake_groups[i].gid;
                        return 0;
                }
        return -ENOENT;
}

static const struct map_nss fake_nss = {
        .user = fake_user,
        .user_groups = fake_user_groups,
        .group = fake_group,
};

static void parse(enum map_file_kind kind, const char *text, struct map_file *f)
{
        struct gx_error err = {0};
        int r = map_file_parse(kind, text, strlen(text), map_file_kind_name(kind), f, &err);
        if (r < 0)
                fprintf(stderr, "%s\n", err.msg);
        CHECK(r == 0);
}

static struct gx_identity x509(const char *dn, const char *fqan1, const char *fqan2)
{
        struct gx_identity id = {.kind = GX_CRED_X509};
        snprintf(id.dn, sizeof(id.dn), "%s", dn);
        if (fqan1)
                snprintf(id.fqans[id.n_fqans++], GX_FQAN_MAX, "%s", fqan1);
        if (fqan2)
                snprintf(id.fqans[id.n_fqans++], GX_FQAN_MAX, "%s", fqan2);
        return id;
}

static struct map_file voms, voms_nostatic, grid, groupmap, tokenmap;

static void test_decide(void)
{
        struct map_rules rules = {.voms_gridmap = &voms, .gridmap = &grid, .groupmap = &groupmap,
                                  .tokenmap = &tokenmap};
        struct map_decision d;
        struct gx_error err = {0};
        struct gx_identity id;

        /* A static VOMS line for a later FQAN beats a pool line for the first FQAN. */
        id = x509("/DC=org/CN=Bob", "/atlas/Role=production", "/atlas");
        CHECK(map_decide(&rules, &id, &d, &err) == 0);
        CHECK_STREQ(d.account, "atlasstatic");
        CHECK_STREQ(d.pool, "");
        CHECK(d.n_groups == 2);
        CHECK_STREQ(d.groups[0], "atlasprd");
        CHECK_STREQ(d.groups[1], "atlas");
        CHECK(strstr(d.source, "voms-grid-mapfile:2") != NULL);

        /* Without it, a static DN line comes before any pool. */
        rules.voms_gridmap = &voms_nostatic;
        id = x509("/DC=org/CN=Alice", "/atlas/Role=production", "/atlas");
        CHECK(map_decide(&rules, &id, &d, &err) == 0);
        CHECK_STREQ(d.account, "alice");
        CHECK(strstr(d.source, "grid-mapfile:1") != NULL);

        /* VOMS pool, first FQAN first; the lease carries the groups. */
        id = x509("/DC=org/CN=Bob", "/atlas/Role=production", "/atlas");
        CHECK(map_decide(&rules, &id, &d, &err) == 0);
        CHECK_STREQ(d.account, "");
        CHECK_STREQ(d.pool, "atlprd");
        CHECK_STREQ(d.lease, "%2fdc%3dorg%2fcn%3dbob%3aatlasprd%3aatlas");
        id = x509("/DC=org/CN=Bob", "/atlas", "/atlas/Role=production");
        CHECK(map_decide(&rules, &id, &d, &err) == 0);
        CHECK_STREQ(d.pool, "atlas");
        CHECK_STREQ(d.groups[0], "atlas");
        CHECK_STREQ(d.lease, "%2fdc%3dorg%2fcn%3dbob%3aatlas%3aatlasprd");

        /* No FQANs: the DN pool, keyed by the DN alone. */
        id = x509("/DC=org/CN=Bob", NULL, NULL);
        CHECK(map_decide(&rules, &id, &d, &err) == 0);
        CHECK_STREQ(d.pool, "dteam");
        CHECK_STREQ(d.lease, "%2fdc%3dorg%2fcn%3dbob");
        CHECK(d.n_groups == 0);

        /* An unknown VO falls through to the DN mappings. */
        id = x509("/DC=org/CN=Bob", "/lhcb", NULL);
        CHECK(map_decide(&rules, &id, &d, &err) == 0);
        CHECK_STREQ(d.pool, "dteam");

        /* Nothing matches. */
        id = x509("/O=elsewhere/CN=Eve", "/lhcb", NULL);
        err = (struct gx_error){0};
        CHECK(map_decide(&rules, &id, &d, &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        CHECK_STREQ(gx_error_public(&err), "not authorized");
        CHECK(strstr(err.msg, "no mapping") != NULL);

        /* A pool needs a DN to key the lease on. */
        id = x509("", "/atlas/Role=production", NULL);
        err = (struct gx_error){0};
        CHECK(map_decide(&rules, &id, &d, &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        CHECK(strstr(err.msg, "no DN or sub") != NULL);

        /* Missing files are simply absent rules. */
        struct map_rules none = {0};
        id = x509("/DC=org/CN=Alice", "/atlas", NULL);
        CHECK(map_decide(&none, &id, &d, &err) < 0);
        CHECK(err.class == GX_AUTHZ);

        /* Tokens: sub line, group line, and a pool keyed by issuer and sub. */
        struct gx_identity tok = {.kind = GX_CRED_TOKEN};
        snprintf(tok.token_iss, sizeof(tok.token_iss), "https://iss.example");
        snprintf(tok.token_sub, sizeof(tok.token_sub), "alice-sub");
        CHECK(map_decide(&rules, &tok, &d, &err) == 0);
        CHECK_STREQ(d.account, "alice");
        CHECK(d.n_groups == 0);
        snprintf(tok.token_sub, sizeof(tok.token_sub), "Someone");
        snprintf(tok.token_groups[0], GX_FQAN_MAX, "/atlas");
        tok.n_token_groups = 1;
        CHECK(map_decide(&rules, &tok, &d, &err) == 0);
        CHECK_STREQ(d.pool, "tokpool");
        CHECK_STREQ(d.lease, "%tok:https%3a%2f%2fiss%2eexample:%53omeone");
        /* The groupmapfile is not applied to token groups. */
        CHECK(d.n_groups == 0);
        tok.n_token_groups = 0;
        CHECK(map_decide(&rules, &tok, &d, &err) < 0);
        CHECK(err.class == GX_AUTHZ);

        struct gx_identity nothing = {.kind = GX_CRED_NONE};
        CHECK(map_decide(&rules, &nothing, &d, &err) < 0);
        CHECK(err.class == GX_AUTHZ);

        /* A malformed identity (as a compromised verifier could send) is refused. */
        static struct gx_identity bad;
        bad = x509("/DC=org/CN=Alice", NULL, NULL);
        bad.n_fqans = GX_MAX_FQANS + 1;
        err = (struct gx_error){0};
        CHECK(map_decide(&rules, &bad, &d, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        bad.n_fqans = 0;
        memset(bad.dn, 'a', sizeof(bad.dn));
        err = (struct gx_error){0};
        CHECK(map_decide(&rules, &bad, &d, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        struct map_config cfg = {.ban_file = ""};
        CHECK(map_check_ban(&cfg, &bad, &err) < 0);
}

static char tmpdir[] = "/tmp/test-policy-XXXXXX";

static void test_apply(void)
{
        struct map_decision d = {0};
        struct gx_account a;
        struct gx_error err = {0};

        /* Static account with groupmapfile groups: they replace the account's own. */
        snprintf(d.account, sizeof(d.account), "alice");
        snprintf(d.groups[0], MAP_NAME_MAX, "atlasprd");
        snprintf(d.groups[1], MAP_NAME_MAX, "atlas");
        snprintf(d.groups[2], MAP_NAME_MAX, "atlasprd");
        d.n_groups = 3;
        CHECK(map_apply(&d, -1, 1000, &fake_nss, &a, &err) == 0);
        CHECK_STREQ(a.user, "alice");
        CHECK(a.uid == 5000);
        CHECK(a.gid == 2001);
        CHECK(a.n_groups == 2);
        CHECK(a.groups[0] == 2001 && a.groups[1] == 2000);
        CHECK_STREQ(a.home, "/home/alice");

        /* Without groups: the account's own, primary first. */
        d.n_groups = 0;
        CHECK(map_apply(&d, -1, 1000, &fake_nss, &a, &err) == 0);
        CHECK(a.gid == 3000);
        CHECK(a.n_groups == 2 && a.groups[0] == 3000 && a.groups[1] == 3001);

        /* Refusals. */
        const char *authz[] = {"rootish", "lowuid", "gidzero", "supzero"};
        for (size_t i = 0; i < ELEMENTSOF(authz); i++) {
                err = (struct gx_error){0};
                snprintf(d.account, sizeof(d.account), "%s", authz[i]);
                CHECK(map_apply(&d, -1, 1000, &fake_nss, &a, &err) < 0);
                CHECK(err.class == GX_AUTHZ);
        }
        snprintf(d.account, sizeof(d.account), "lowuid");
        CHECK(map_apply(&d, -1, 100, &fake_nss, &a, &err) == 0);
        snprintf(d.account, sizeof(d.account), "alice");
        snprintf(d.groups[0], MAP_NAME_MAX, "wheel");
        d.n_groups = 1;
        err = (struct gx_error){0};
        CHECK(map_apply(&d, -1, 1000, &fake_nss, &a, &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        snprintf(d.groups[0], MAP_NAME_MAX, "nosuchgroup");
        err = (struct gx_error){0};
        CHECK(map_apply(&d, -1, 1000, &fake_nss, &a, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        d.n_groups = 0;
        const char *system[] = {"nosuchuser", "manygroups"};
        for (size_t i = 0; i < ELEMENTSOF(system); i++) {
                err = (struct gx_error){0};
                snprintf(d.account, sizeof(d.account), "%s", system[i]);
                CHECK(map_apply(&d, -1, 1000, &fake_nss, &a, &err) < 0);
                CHECK(err.class == GX_SYSTEM);
        }

        /* A pool decision leases from the gridmapdir, then looks the account up. */
        char path[64];
        snprintf(path, sizeof(path), "%s/gridmapdir", tmpdir);
        CHECK(mkdir(path, 0755) == 0);
        int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        const char *files[] = {"atlprd001", "atlprd002", "rootish001"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                close(openat(dirfd, files[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));

        struct map_rules rules = {.voms_gridmap = &voms_nostatic, .gridmap = &grid,
                                  .groupmap = &groupmap};
        struct gx_identity id = x509("/DC=org/CN=Bob", "/atlas/Role=production", NULL);
        CHECK(map_decide(&rules, &id, &d, &err) == 0);
        err = (struct gx_error){0};
        CHECK(map_apply(&d, -1, 1000, &fake_nss, &a, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        CHECK(map_apply(&d, dirfd, 1000, &fake_nss, &a, &err) == 0);
        CHECK(strncmp(a.user, "atlprd00", 8) == 0);
        CHECK(a.gid == 2001);
        struct gx_account again;
        CHECK(map_apply(&d, dirfd, 1000, &fake_nss, &again, &err) == 0);
        CHECK_STREQ(again.user, a.user);
        CHECK(again.uid == a.uid);

        /* A leased account that the name service refuses stays refused. */
        snprintf(d.pool, sizeof(d.pool), "rootish");
        snprintf(d.lease, sizeof(d.lease), "%%2fother");
        err = (struct gx_error){0};
        CHECK(map_apply(&d, dirfd, 1000, &fake_nss, &a, &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        close(dirfd);
}

static void test_system_accounts(void)
{
        struct gx_account a;
        struct gx_error err = {0};

        CHECK(map_account_by_name("nobody", 1000, &a, &err) == 0);
        CHECK(a.uid == 65534);
        CHECK(a.gid != 0);
        CHECK(a.n_groups >= 1 && a.groups[0] == a.gid);
        CHECK_STREQ(a.user, "nobody");

        err = (struct gx_error){0};
        CHECK(map_account_by_name("root", 0, &a, &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        err = (struct gx_error){0};
        CHECK(map_account_by_name("daemon", 1000, &a, &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        err = (struct gx_error){0};
        CHECK(map_account_by_name("glexec-no-such-user", 1000, &a, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        const char *bad[] = {"", "../etc", "a b", "-rf", "a:b",
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err = (struct gx_error){0};
                CHECK(map_account_by_name(bad[i], 1000, &a, &err) < 0);
                CHECK(err.class == GX_SYSTEM);
        }
}

static void test_executables(void)
{
        struct gx_error err = {0};
        struct map_config cfg = {0};
        CHECK(map_check_executable(&cfg, "/anything/at/all", &err) == 0);
        char *empty[] = {NULL};
        cfg.allowed_executables = empty;
        CHECK(map_check_executable(&cfg, "/anything", &err) == 0);

        char e1[] = "/usr/bin/*", e2[] = "/opt/vo/bin/run", e3[] = "/opt/vo/[ab]in/x?";
        char *list[] = {e1, e2, e3, NULL};
        cfg.allowed_executables = list;
        CHECK(map_check_executable(&cfg, "/usr/bin/python3", &err) == 0);
        CHECK(map_check_executable(&cfg, "/opt/vo/bin/run", &err) == 0);
        CHECK(map_check_executable(&cfg, "/opt/vo/ain/x1", &err) == 0);
        const char *denied[] = {"/usr/bin/sub/x", "/usr/sbin/x", "/opt/vo/bin/run2",
                                "/usr/bin/../../tmp/x", "/usr/bin/./x", "//usr/bin/x",
                                "usr/bin/x", "/opt/vo/bin/run/.."};
        for (size_t i = 0; i < ELEMENTSOF(denied); i++) {
                err = (struct gx_error){0};
                CHECK(map_check_executable(&cfg, denied[i], &err) < 0);
                CHECK(err.class == GX_AUTHZ);
        }

        /* Entries are resolved like the command: through a symlinked directory (/bin on a
         * merged /usr), literally and as a pattern. */
        char real_dir[PATH_MAX], link_dir[PATH_MAX], tool[PATH_MAX], path[PATH_MAX];
        CHECK(realpath(tmpdir, path) != NULL);
        snprintf(real_dir, sizeof(real_dir), "%s/usr-bin", path);
        snprintf(link_dir, sizeof(link_dir), "%s/bin", path);
        snprintf(tool, sizeof(tool), "%s/tool", real_dir);
        CHECK(mkdir(real_dir, 0755) == 0);
        CHECK(symlink("usr-bin", link_dir) == 0);
        int fd = open(tool, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
        CHECK(fd >= 0);
        close(fd);
        char literal[PATH_MAX + 8], pattern[PATH_MAX + 8], other[PATH_MAX + 8];
        snprintf(literal, sizeof(literal), "%s/tool", link_dir);
        snprintf(pattern, sizeof(pattern), "%s/t*", link_dir);
        snprintf(other, sizeof(other), "%s/other", link_dir);
        char *via_literal[] = {literal, NULL}, *via_pattern[] = {pattern, NULL},
             *via_other[] = {other, NULL};
        cfg.allowed_executables = via_literal;
        CHECK(map_check_executable(&cfg, tool, &err) == 0);
        cfg.allowed_executables = via_pattern;
        CHECK(map_check_executable(&cfg, tool, &err) == 0);
        cfg.allowed_executables = via_other;
        CHECK(map_check_executable(&cfg, tool, &err) < 0);

        char rel[] = "bin/x";
        char *relative[] = {e1, rel, NULL};
        cfg.allowed_executables = relative;
        err = (struct gx_error){0};
        CHECK(map_check_executable(&cfg, "/usr/bin/x", &err) < 0);
        CHECK(err.class == GX_SYSTEM);
}

static void count_problem(const char *key, const struct gx_error *err, void *userdata)
{
        (void)err;
        char *keys = userdata;
        strcat(keys, key);
        strcat(keys, " ");
}

static void test_check_config(void)
{
        char missing[PATH_MAX], keys[256] = "";
        snprintf(missing, sizeof(missing), "%s/no-such-file", tmpdir);
        char rel[] = "bin/x";
        char *list[] = {rel, NULL};
        struct map_config cfg = {.ban_file = missing, .gridmapfile = missing,
                                 .allowed_executables = list};
        /* Outside mapping mode no map file is needed, but a configured ban file is. */
        CHECK(map_check_config(&cfg, false, count_problem, keys) == 2);
        CHECK_STREQ(keys, "ban_file allowed_executables ");
        cfg.ban_file = NULL;
        cfg.allowed_executables = NULL;
        keys[0] = '\0';
        CHECK(map_check_config(&cfg, true, count_problem, keys) == 1);
        CHECK_STREQ(keys, "mapping ");
}

static void write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        CHECK(fd >= 0);
        CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        close(fd);
}

static void test_files(void)
{
        struct gx_error err = {0};
        struct gx_account a;
        struct map_config cfg = {
                .gridmapfile = "/nonexistent/grid-mapfile",
                .voms_gridmapfile = "/nonexistent/voms-grid-mapfile",
                .groupmapfile = "/nonexistent/groupmapfile",
                .gridmapdir = "/nonexistent/gridmapdir",
                .token_mapfile = "",
                .ban_file = "",
                .min_uid = 1000,
        };
        struct gx_identity id = x509("/DC=org/CN=Alice", "/atlas", NULL);
        struct gx_identity tok = {.kind = GX_CRED_TOKEN};
        snprintf(tok.token_iss, sizeof(tok.token_iss), "https://iss.example");
        snprintf(tok.token_sub, sizeof(tok.token_sub), "alice-sub");

        /* No ban file configured: nobody banned. Configured but missing: a system error. */
        CHECK(map_check_ban(&cfg, &id, &err) == 0);
        cfg.ban_file = NULL;
        CHECK(map_check_ban(&cfg, &id, &err) == 0);
        cfg.ban_file = "/nonexistent/ban-mapfile";
        err = (struct gx_error){0};
        CHECK(map_check_ban(&cfg, &id, &err) < 0);
        CHECK(err.class == GX_SYSTEM);

        /* Every map file missing: a configuration error, not "no mapping". */
        err = (struct gx_error){0};
        CHECK(map_resolve_account(&cfg, &id, &a, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        err = (struct gx_error){0};
        CHECK(map_resolve_account(&cfg, &tok, &a, &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        cfg.token_mapfile = "/nonexistent/token-mapfile";
        err = (struct gx_error){0};
        CHECK(map_resolve_account(&cfg, &tok, &a, &err) < 0);
        CHECK(err.class == GX_SYSTEM);

        if (geteuid() != 0) {
                printf("not root: skipping the tests with root-owned map files\n");
                return;
        }

        /* Root-owned files in a root-owned 0700 directory under sticky /tmp are trusted. */
        char grid_path[128], voms_path[128], group_path[128], ban_path[128], tok_path[128];
        snprintf(grid_path, sizeof(grid_path), "%s/grid-mapfile", tmpdir);
        snprintf(voms_path, sizeof(voms_path), "%s/voms-grid-mapfile", tmpdir);
        snprintf(group_path, sizeof(group_path), "%s/groupmapfile", tmpdir);
        snprintf(ban_path, sizeof(ban_path), "%s/ban-mapfile", tmpdir);
        snprintf(tok_path, sizeof(tok_path), "%s/token-mapfile", tmpdir);
        write_file(grid_path, "\"/DC=org/CN=Alice\" nobody\n\"/DC=org/CN=Root\" root\n");
        write_file(group_path, "\"/atlas\" nogroup\n");
        write_file(ban_path, "\"/DC=org/CN=Mallory\"\n\"https://iss.example\" \"banned\"\n");
        write_file(tok_path, "\"https://iss.example\" \"alice-sub\" nobody\n");
        cfg.gridmapfile = grid_path;
        cfg.groupmapfile = group_path;
        cfg.ban_file = ban_path;
        cfg.token_mapfile = tok_path;

        /* The voms-grid-mapfile is missing: only no mappings from it. */
        CHECK(map_resolve_account(&cfg, &id, &a, &err) == 0);
        CHECK_STREQ(a.user, "nobody");
        CHECK(a.uid == 65534);
        CHECK(map_resolve_account(&cfg, &tok, &a, &err) == 0);
        CHECK_STREQ(a.user, "nobody");

        struct gx_identity root_id = x509("/DC=org/CN=Root", NULL, NULL);
        err = (struct gx_error){0};
        CHECK(map_resolve_account(&cfg, &root_id, &a, &err) < 0);
        CHECK(err.class == GX_AUTHZ);

        CHECK(map_check_ban(&cfg, &id, &err) == 0);
        struct gx_identity mallory = x509("/DC=org/CN=Mallory", NULL, NULL);
        err = (struct gx_error){0};
        CHECK(map_check_ban(&cfg, &mallory, &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        CHECK(strstr(err.msg, "ban-mapfile:1") != NULL);
        CHECK_STREQ(gx_error_public(&err), "not authorized");
        snprintf(tok.token_sub, sizeof(tok.token_sub), "banned");
        err = (struct gx_error){0};
        CHECK(map_check_ban(&cfg, &tok, &err) < 0);
        CHECK(err.class == GX_AUTHZ);

        /* A writable or malformed policy file is a system error. */
        CHECK(chmod(ban_path, 0666) == 0);
        err = (struct gx_error){0};
        CHECK(map_check_ban(&cfg, &id, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        write_file(grid_path, "\"/DC=org/CN=Alice\"\n");
        err = (struct gx_error){0};
        CHECK(map_resolve_account(&cfg, &id, &a, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        CHECK(strstr(err.msg, "grid-mapfile:1") != NULL);

        /* A pool mapping needs the gridmapdir. */
        write_file(grid_path, "\"/DC=org/CN=Alice\" .nobody\n");
        err = (struct gx_error){0};
        CHECK(map_resolve_account(&cfg, &id, &a, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
}

int main(void)
{
        parse(MAP_VOMS_GRIDMAP,
              "\"/atlas/Role=production\" .atlprd\n"
              "\"/atlas/Role=NULL/Capability=NULL\" atlasstatic\n"
              "\"/atlas/*\" .atlas\n",
              &voms);
        parse(MAP_VOMS_GRIDMAP, "\"/atlas/Role=production\" .atlprd\n\"/atlas/*\" .atlas\n",
              &voms_nostatic);
        parse(MAP_GRIDMAP, "\"/DC=org/CN=Alice\" alice\n\"/DC=org/*\" .dteam\n", &grid);
        parse(MAP_GROUPMAP, "\"/atlas/Role=production\" atlasprd\n\"/atlas/*\" atlas\n",
              &groupmap);
        parse(MAP_TOKENMAP,
              "\"https://iss.example\" \"alice-sub\" alice\n"
              "\"https://iss.example\" \"/atlas\" .tokpool\n",
              &tokenmap);
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }

        test_decide();
        test_apply();
        test_system_accounts();
        test_executables();
        test_check_config();
        test_files();

        map_file_free(&voms);
        map_file_free(&voms_nostatic);
        map_file_free(&grid);
        map_file_free(&groupmap);
        map_file_free(&tokenmap);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
        CHECK(system(cmd) == 0);
        TEST_MAIN_END();
}
