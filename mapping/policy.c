#include "mapping/policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/strutil.h"

static bool configured(const char *path)
{
        return path && path[0];
}

static void map_file_freep(struct map_file *f)
{
        map_file_free(f);
}

/* Load a configured map file; a missing one leaves *loaded false and is not an error. */
static int load_optional(enum map_file_kind kind, const char *path, struct map_file *f,
                         bool *loaded, struct gx_error *err)
{
        *loaded = false;
        if (!configured(path))
                return 0;
        int r = map_file_load(kind, path, f, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        *loaded = true;
        return 0;
}

static void set_source(struct map_decision *d, const struct map_file *f,
                       const struct map_rule *r)
{
        char name[256];
        gx_escape(name, sizeof(name), f->name);
        snprintf(d->source, sizeof(d->source), "%s %s:%u", map_file_kind_name(f->kind), name,
                 r->line);
}

static int no_mapping(struct gx_error *err, const char *what)
{
        return gx_fail_public(err, GX_AUTHZ, 0, "not authorized", "no mapping for this %s",
                              what);
}

static bool terminated(const char *s, size_t n)
{
        return memchr(s, '\0', n) != NULL;
}

/* The identity may one day arrive over a pipe from an unprivileged verifier (DESIGN.md):
 * never trust its counts or its strings to be terminated. */
static int check_identity(const struct gx_identity *id, struct gx_error *err)
{
        bool ok = terminated(id->dn, sizeof(id->dn)) && terminated(id->issuer, sizeof(id->issuer)) &&
                  terminated(id->token_iss, sizeof(id->token_iss)) &&
                  terminated(id->token_sub, sizeof(id->token_sub)) &&
                  id->n_fqans <= GX_MAX_FQANS && id->n_token_groups <= GX_MAX_FQANS;
        for (size_t i = 0; ok && i < id->n_fqans; i++)
                ok = terminated(id->fqans[i], sizeof(id->fqans[i]));
        for (size_t i = 0; ok && i < id->n_token_groups; i++)
                ok = terminated(id->token_groups[i], sizeof(id->token_groups[i]));
        return ok ? 0 : gx_fail(err, GX_SYSTEM, EINVAL, "malformed identity");
}

/* A group from groupmapfile rule r. Its line goes into group_source, so that a group that
 * does not exist is blamed on the groupmapfile line that names it, not on the rule that
 * chose the account. */
static void add_group(struct map_decision *d, const struct map_file *f, const struct map_rule *r)
{
        const char *group = r->names[0];
        for (size_t i = 0; i < d->n_groups; i++)
                if (strcmp(d->groups[i], group) == 0)
                        return;
        if (d->n_groups == GX_MAX_FQANS)
                return;
        snprintf(d->groups[d->n_groups++], MAP_NAME_MAX, "%s", group);

        size_t used = strlen(d->group_source);
        if (used == 0) {
                char name[256];
                gx_escape(name, sizeof(name), f->name);
                snprintf(d->group_source, sizeof(d->group_source), "%s %s:%u",
                         map_file_kind_name(f->kind), name, r->line);
                return;
        }
        /* Whole line numbers only: a cut one would name the wrong line. */
        char line[16];
        int n = snprintf(line, sizeof(line), ",%u", r->line);
        if (n > 0 && used + (size_t)n < sizeof(d->group_source))
                memcpy(d->group_source + used, line, (size_t)n + 1);
}

/* Names in parsed rules are at most MAP_NAME_MAX - 1 bytes (mapfile.c checks). */
static void take_rule(struct map_decision *d, const struct map_file *f, const struct map_rule *r)
{
        set_source(d, f, r);
        if (r->pool)
                snprintf(d->pool, sizeof(d->pool), "%s", r->pool);
        else
                snprintf(d->account, sizeof(d->account), "%s", r->names[0]);
}

static int lease_name_result(int r, const struct map_decision *d, struct gx_error *err)
{
        if (r == -EINVAL)
                /* A pool mapping for an identity without a subject DN or sub to key on. */
                return gx_fail_public(err, GX_AUTHZ, 0, "not authorized",
                                      "%s: no DN or sub to key a pool lease on", d->source);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, r, "%s: lease name", d->source);
        return 0;
}

static int decide_x509(const struct map_rules *rules, const struct gx_identity *id,
                       struct map_decision *d, struct gx_error *err)
{
        const struct map_rule *r;

        for (size_t i = 0; i < id->n_fqans; i++)
                if ((r = map_file_match_fqan(rules->groupmap, id->fqans[i], false)))
                        add_group(d, rules->groupmap, r);

        for (int pools = 0; pools <= 1; pools++) {
                for (size_t i = 0; i < id->n_fqans; i++)
                        if ((r = map_file_match_fqan(rules->voms_gridmap, id->fqans[i], pools))) {
                                take_rule(d, rules->voms_gridmap, r);
                                if (!pools)
                                        return 0;
                                const char *groups[GX_MAX_FQANS];
                                for (size_t g = 0; g < d->n_groups; g++)
                                        groups[g] = d->groups[g];
                                return lease_name_result(
                                        lease_name_dn(id->dn, groups, d->n_groups, d->lease), d,
                                        err);
                        }
                if ((r = map_file_match_dn(rules->gridmap, id->dn, pools))) {
                        take_rule(d, rules->gridmap, r);
                        return pools ? lease_name_result(lease_name_dn(id->dn, NULL, 0, d->lease),
                                                         d, err)
                                     : 0;
                }
        }
        return no_mapping(err, "certificate");
}

int map_decide(const struct map_rules *rules, const struct gx_identity *id,
               struct map_decision *ret, struct gx_error *err)
{
        struct map_decision d = {0};
        int r = check_identity(id, err);
        if (r < 0)
                return r;

        switch (id->kind) {
        case GX_CRED_X509:
                r = decide_x509(rules, id, &d, err);
                break;
        case GX_CRED_TOKEN: {
                const struct map_rule *rule = map_file_match_token(rules->tokenmap, id);
                if (!rule)
                        return no_mapping(err, "token");
                take_rule(&d, rules->tokenmap, rule);
                if (d.pool[0])
                        r = lease_name_result(
                                lease_name_token(id->token_iss, id->token_sub, d.lease), &d, err);
                break;
        }
        default:
                return no_mapping(err, "credential");
        }
        if (r < 0)
                return r;
        *ret = d;
        return 0;
}

int map_apply(const struct map_decision *d, int gridmapdir_fd, uint64_t min_uid,
              const struct map_nss *nss, struct gx_account *ret, struct gx_error *err)
{
        char account[MAP_NAME_MAX];
        int r;

        if (d->pool[0]) {
                if (gridmapdir_fd < 0)
                        return gx_fail(err, GX_SYSTEM, 0, "%s maps to a pool but no gridmapdir is "
                                                          "configured",
                                       d->source);
                r = lease_acquire(gridmapdir_fd, d->lease, d->pool, account, sizeof(account),
                                  err);
                if (r < 0)
                        return r;
        } else if (gx_strlcpy(account, d->account, sizeof(account)) < 0) {
                return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "%s", d->source);
        }

        const char *groups[GX_MAX_FQANS];
        for (size_t i = 0; i < d->n_groups; i++)
                groups[i] = d->groups[i];
        r = map_account_lookup(nss, account, min_uid, groups, d->n_groups, ret, err);
        if (r < 0 && d->group_source[0])
                gx_error_prefix(err, "%s, groups from %s", d->source, d->group_source);
        else if (r < 0)
                gx_error_prefix(err, "%s", d->source);
        return r;
}

int map_resolve_account(const struct map_config *cfg, const struct gx_identity *id,
                        struct gx_account *ret, struct gx_error *err)
{
        _cleanup_(map_file_freep) struct map_file grid = {0}, voms = {0}, group = {0}, token = {0};
        bool have_grid, have_voms, have_group, have_token;
        struct map_rules rules = {0};
        int r;

        switch (id->kind) {
        case GX_CRED_X509:
                if ((r = load_optional(MAP_VOMS_GRIDMAP, cfg->voms_gridmapfile, &voms, &have_voms,
                                       err)) < 0 ||
                    (r = load_optional(MAP_GRIDMAP, cfg->gridmapfile, &grid, &have_grid, err)) < 0 ||
                    (r = load_optional(MAP_GROUPMAP, cfg->groupmapfile, &group, &have_group,
                                       err)) < 0)
                        return r;
                if (!have_voms && !have_grid)
                        return gx_fail(err, GX_SYSTEM, ENOENT,
                                       "neither voms_gridmapfile nor gridmapfile exists");
                rules.voms_gridmap = have_voms ? &voms : NULL;
                rules.gridmap = have_grid ? &grid : NULL;
                rules.groupmap = have_group ? &group : NULL;
                break;
        case GX_CRED_TOKEN:
                if (!configured(cfg->token_mapfile))
                        return gx_fail_public(err, GX_AUTHZ, 0, "not authorized",
                                              "no token_mapfile configured: tokens cannot be "
                                              "mapped");
                if ((r = load_optional(MAP_TOKENMAP, cfg->token_mapfile, &token, &have_token,
                                       err)) < 0)
                        return r;
                if (!have_token)
                        return gx_fail(err, GX_SYSTEM, ENOENT, "token_mapfile %s",
                                       cfg->token_mapfile);
                rules.tokenmap = &token;
                break;
        default:
                return no_mapping(err, "credential");
        }

        struct map_decision d;
        r = map_decide(&rules, id, &d, err);
        if (r < 0)
                return r;

        _cleanup_close_ int dirfd = -1;
        if (d.pool[0]) {
                if (!configured(cfg->gridmapdir))
                        return gx_fail(err, GX_SYSTEM, 0,
                                       "%s maps to a pool but no gridmapdir is configured",
                                       d.source);
                dirfd = lease_open_dir(cfg->gridmapdir, err);
                if (dirfd < 0)
                        return dirfd;
        }
        return map_apply(&d, dirfd, cfg->min_uid, NULL, ret, err);
}

/* Entries of allowed_executables are absolute paths or patterns (site policy: GX_SYSTEM). */
static int check_entry_absolute(const char *entry, struct gx_error *err)
{
        if (entry[0] == '/')
                return 0;
        char esc[512];
        gx_escape(esc, sizeof(esc), entry);
        return gx_fail(err, GX_SYSTEM, EINVAL, "\"%s\" is not an absolute path", esc);
}

static bool pool_has_accounts(int gridmapdir_fd, const char *prefix)
{
        int fd = gridmapdir_fd >= 0 ? fcntl(gridmapdir_fd, F_DUPFD_CLOEXEC, 3) : -1;
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return false;
        }
        bool found = false;
        struct dirent *e;
        while (!found && (e = readdir(d)))
                found = lease_is_pool_account(e->d_name, prefix);
        closedir(d);
        return found;
}

/* Targets already found to exist: a map file names the same few accounts and pools on
 * thousands of lines, and each check is a name-service lookup or a gridmapdir scan. */
struct checked_targets {
        char names[64][MAP_NAME_MAX + 1]; /* the kind ('.' pool, ':' group, '@' account), the name */
        size_t n;
};

static bool checked_before(struct checked_targets *c, char kind, const char *name)
{
        char key[MAP_NAME_MAX + 1];
        snprintf(key, sizeof(key), "%c%s", kind, name);
        for (size_t i = 0; i < c->n; i++)
                if (strcmp(c->names[i], key) == 0)
                        return true;
        return false;
}

static void remember_checked(struct checked_targets *c, char kind, const char *name)
{
        if (c->n < ELEMENTSOF(c->names))
                snprintf(c->names[c->n++], sizeof(c->names[0]), "%c%s", kind, name);
}

/* What the rules of a map file name must exist for a launch to use them: the accounts
 * (at or above min_uid), the groups, and accounts of the pools in the gridmapdir. */
static unsigned check_rule_targets(const struct map_config *cfg, const struct map_file *f,
                                   const char *key, int gridmapdir_fd,
                                   struct checked_targets *checked, map_problem_fn *problem,
                                   void *userdata)
{
        unsigned problems = 0;
        char name[256];
        gx_escape(name, sizeof(name), f->name);
        for (size_t i = 0; i < f->n_rules; i++) {
                const struct map_rule *r = &f->rules[i];
                char kind = r->pool ? '.' : f->kind == MAP_GROUPMAP ? ':' : '@';
                const char *target = r->pool ? r->pool : r->names[0];
                if (checked_before(checked, kind, target))
                        continue;
                struct gx_error err = {0};
                struct gx_account a;
                bool exists;
                if (r->pool) {
                        exists = pool_has_accounts(gridmapdir_fd, r->pool);
                        if (!exists)
                                gx_fail(&err, GX_SYSTEM, 0,
                                        "the gridmapdir has no accounts of pool .%s", r->pool);
                } else if (f->kind == MAP_GROUPMAP) {
                        exists = getgrnam(r->names[0]) != NULL;
                        if (!exists)
                                gx_fail(&err, GX_SYSTEM, 0, "group %s does not exist",
                                        r->names[0]);
                } else {
                        exists = map_account_by_name(r->names[0], cfg->min_uid, &a, &err) == 0;
                }
                if (exists) {
                        remember_checked(checked, kind, target);
                        continue;
                }
                gx_error_prefix(&err, "%s:%u", name, r->line);
                problem(key, &err, userdata);
                problems++;
        }
        return problems;
}

unsigned map_check_config(const struct map_config *cfg, bool mapping_mode,
                          map_problem_fn *problem, void *userdata)
{
        struct gx_error err = {0};
        unsigned problems = 0;

        if (configured(cfg->ban_file)) {
                struct map_file ban = {0};
                if (map_file_load(MAP_BANFILE, cfg->ban_file, &ban, &err) < 0) {
                        problem("ban_file", &err, userdata);
                        problems++;
                }
                map_file_free(&ban);
        }
        if (mapping_mode) {
                static const struct {
                        const char *key;
                        size_t offset;
                        enum map_file_kind kind;
                } files[] = {
                        {"gridmapfile", offsetof(struct map_config, gridmapfile), MAP_GRIDMAP},
                        {"voms_gridmapfile", offsetof(struct map_config, voms_gridmapfile),
                         MAP_VOMS_GRIDMAP},
                        {"groupmapfile", offsetof(struct map_config, groupmapfile),
                         MAP_GROUPMAP},
                        {"token_mapfile", offsetof(struct map_config, token_mapfile),
                         MAP_TOKENMAP},
                };
                bool any = false;
                struct checked_targets checked = {0};
                /* A gridmapdir that cannot be opened is the caller's problem to report
                 * (as gridmapdir's); here its pools merely have no accounts. */
                struct gx_error derr = {0};
                int gridmapdir_fd = configured(cfg->gridmapdir)
                                            ? lease_open_dir(cfg->gridmapdir, &derr)
                                            : -1;
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        const char *path = *(const char *const *)((const char *)cfg +
                                                                  files[i].offset);
                        struct map_file f = {0};
                        bool loaded;
                        if (load_optional(files[i].kind, path, &f, &loaded, &err) < 0) {
                                problem(files[i].key, &err, userdata);
                                problems++;
                        }
                        if (loaded)
                                problems += check_rule_targets(cfg, &f, files[i].key,
                                                               gridmapdir_fd, &checked, problem,
                                                               userdata);
                        any = any || loaded;
                        map_file_free(&f);
                }
                if (gridmapdir_fd >= 0)
                        close(gridmapdir_fd);
                if (!any && problems == 0) {
                        gx_fail(&err, GX_SYSTEM, ENOENT,
                                "none of gridmapfile, voms_gridmapfile and token_mapfile exists: "
                                "no credential can be mapped");
                        problem("mapping", &err, userdata);
                        problems++;
                }
        }
        for (size_t i = 0; cfg->allowed_executables && cfg->allowed_executables[i]; i++)
                if (check_entry_absolute(cfg->allowed_executables[i], &err) < 0) {
                        problem("allowed_executables", &err, userdata);
                        problems++;
                }
        return problems;
}

int map_check_ban(const struct map_config *cfg, const struct gx_identity *id,
                  struct gx_error *err)
{
        int r = check_identity(id, err);
        if (r < 0)
                return r;
        if (!configured(cfg->ban_file))
                return 0;
        _cleanup_(map_file_freep) struct map_file ban = {0};
        r = map_file_load(MAP_BANFILE, cfg->ban_file, &ban, err);
        if (r < 0) {
                gx_error_prefix(err, "ban_file");
                return r;
        }
        const struct map_rule *rule = map_file_match_ban(&ban, id);
        if (rule) {
                char name[256];
                gx_escape(name, sizeof(name), ban.name);
                return gx_fail_public(err, GX_AUTHZ, 0, "not authorized",
                                      "banned by ban file %s:%u", name, rule->line);
        }
        return 0;
}

/* The path executed must be the one the patterns are checked against: absolute, without
 * "." or ".." components or doubled slashes that a pattern could be fooled by. */
static bool canonical_path(const char *p)
{
        if (p[0] != '/')
                return false;
        for (const char *c = p; *c; c++) {
                if (c[0] != '/')
                        continue;
                if (c[1] == '/' ||
                    (c[1] == '.' && (c[2] == '/' || c[2] == '\0')) ||
                    (c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == '\0')))
                        return false;
        }
        return true;
}

/* An allowed_executables entry with the symlinks of its literal part resolved, as the
 * command's path is: the whole entry when it has no wildcard, else the directories before the
 * first one. On a merged-/usr system "/bin/true" then allows /usr/bin/true, and a pattern in
 * /bin the same commands in /usr/bin. The entry is site policy, and so are the links it goes
 * through. False when nothing resolves (or nothing changes). */
static bool resolve_entry(const char *entry, char *buf, size_t size)
{
        size_t literal = strcspn(entry, "*?[");
        char real[PATH_MAX];
        if (entry[literal] == '\0')
                return realpath(entry, real) && strcmp(real, entry) != 0 &&
                       gx_strlcpy(buf, real, size) == 0;

        const char *slash = entry;
        for (const char *c = entry; c < entry + literal; c++)
                if (*c == '/')
                        slash = c;
        char dir[PATH_MAX];
        size_t n = (size_t)(slash - entry);
        if (n == 0 || n >= sizeof(dir))
                return false;
        memcpy(dir, entry, n);
        dir[n] = '\0';
        if (!realpath(dir, real) || strcmp(real, dir) == 0)
                return false;
        int w = snprintf(buf, size, "%s%s", strcmp(real, "/") == 0 ? "" : real, slash);
        return w > 0 && (size_t)w < size;
}

static bool entry_allows(const char *entry, const char *resolved_path)
{
        if (strcmp(entry, resolved_path) == 0 || fnmatch(entry, resolved_path, FNM_PATHNAME) == 0)
                return true;
        char resolved_entry[PATH_MAX];
        return resolve_entry(entry, resolved_entry, sizeof(resolved_entry)) &&
               (strcmp(resolved_entry, resolved_path) == 0 ||
                fnmatch(resolved_entry, resolved_path, FNM_PATHNAME) == 0);
}

int map_check_executable(const struct map_config *cfg, const char *resolved_path,
                         struct gx_error *err)
{
        char *const *list = cfg->allowed_executables;
        if (!list || !list[0])
                return 0;

        char esc[512];
        gx_escape(esc, sizeof(esc), resolved_path);
        for (size_t i = 0; list[i]; i++)
                if (check_entry_absolute(list[i], err) < 0) {
                        gx_error_prefix(err, "allowed_executables");
                        return -EINVAL;
                }
        if (!canonical_path(resolved_path))
                return gx_fail_public(err, GX_AUTHZ, 0, "not authorized: executable not allowed",
                                      "executable %s is not a canonical absolute path", esc);
        for (size_t i = 0; list[i]; i++)
                if (entry_allows(list[i], resolved_path))
                        return 0;
        return gx_fail_public(err, GX_AUTHZ, 0, "not authorized: executable not allowed",
                              "executable %s is not in allowed_executables", esc);
}
