#include "mapping/account.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strutil.h"

/* getpwnam_r/getgrnam_r buffers grow up to this (huge LDAP groups). */
#define NSS_BUF_MAX (4u * 1024 * 1024)

static int sys_user(const char *name, uid_t *uid, gid_t *gid, char *home, size_t home_size)
{
        for (size_t size = 16384; size <= NSS_BUF_MAX; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                struct passwd pw, *res = NULL;
                int r = getpwnam_r(name, &pw, buf, size, &res);
                if (r == ERANGE)
                        continue;
                if (r != 0)
                        return -r;
                if (!res)
                        return -ENOENT;
                if (gx_strlcpy(home, pw.pw_dir ? pw.pw_dir : "", home_size) < 0)
                        return -ENAMETOOLONG;
                *uid = pw.pw_uid;
                *gid = pw.pw_gid;
                return 0;
        }
        return -ERANGE;
}

static int sys_user_groups(const char *name, gid_t gid, gid_t *groups, size_t *n)
{
        int count = (int)*n;
        if (getgrouplist(name, gid, groups, &count) < 0)
                return -ERANGE;
        if (count < 0 || (size_t)count > *n)
                return -ERANGE;
        *n = (size_t)count;
        return 0;
}

static int sys_group(const char *name, gid_t *gid)
{
        for (size_t size = 16384; size <= NSS_BUF_MAX; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                struct group gr, *res = NULL;
                int r = getgrnam_r(name, &gr, buf, size, &res);
                if (r == ERANGE)
                        continue;
                if (r != 0)
                        return -r;
                if (!res)
                        return -ENOENT;
                *gid = gr.gr_gid;
                return 0;
        }
        return -ERANGE;
}

static const struct map_nss system_nss = {
        .user = sys_user,
        .user_groups = sys_user_groups,
        .group = sys_group,
};

/* Names reach the name service and logs: keep them to what useradd accepts. */
static bool valid_name(const char *s)
{
        size_t len = strlen(s);
        if (len == 0 || len >= sizeof(((struct gx_account *)0)->user) || s[0] == '-' ||
            s[0] == '.')
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
                        return false;
        return true;
}

static bool add_gid(struct gx_account *a, gid_t gid)
{
        for (size_t i = 0; i < a->n_groups; i++)
                if (a->groups[i] == gid)
                        return true;
        if (a->n_groups == GX_MAX_GROUPS)
                return false;
        a->groups[a->n_groups++] = gid;
        return true;
}

static int refuse(struct gx_error *err, const char *fmt_name, const char *what,
                  unsigned long long value)
{
        return gx_fail_public(err, GX_AUTHZ, 0, "not authorized",
                              "account %s: refusing to map to %s %llu", fmt_name, what, value);
}

int map_account_lookup(const struct map_nss *nss, const char *name, uint64_t min_uid,
                       const char *const *group_names, size_t n_group_names,
                       struct gx_account *ret, struct gx_error *err)
{
        char esc[256];
        gx_escape(esc, sizeof(esc), name);
        if (!valid_name(name))
                return gx_fail(err, GX_SYSTEM, EINVAL, "invalid account name \"%s\"", esc);
        if (!nss)
                nss = &system_nss;

        struct gx_account a = {0};
        memcpy(a.user, name, strlen(name) + 1);
        int r = nss->user(name, &a.uid, &a.gid, a.home, sizeof(a.home));
        if (r == -ENOENT)
                return gx_fail(err, GX_SYSTEM, 0, "account %s does not exist", esc);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, r, "looking up account %s", esc);

        if (a.uid == 0 || a.uid == (uid_t)-1)
                return refuse(err, esc, "uid", a.uid);
        if (a.uid < min_uid)
                return gx_fail_public(err, GX_AUTHZ, 0, "not authorized",
                                      "account %s: uid %u is below min_uid %llu", esc,
                                      (unsigned)a.uid, (unsigned long long)min_uid);

        if (n_group_names > 0) {
                for (size_t i = 0; i < n_group_names; i++) {
                        char gesc[256];
                        gx_escape(gesc, sizeof(gesc), group_names[i]);
                        if (!valid_name(group_names[i]))
                                return gx_fail(err, GX_SYSTEM, EINVAL,
                                               "invalid group name \"%s\"", gesc);
                        gid_t gid;
                        r = nss->group(group_names[i], &gid);
                        if (r == -ENOENT)
                                return gx_fail(err, GX_SYSTEM, 0,
                                               "group %s (groupmapfile) does not exist", gesc);
                        if (r < 0)
                                return gx_fail(err, GX_SYSTEM, r, "looking up group %s", gesc);
                        if (i == 0)
                                a.gid = gid;
                        if (!add_gid(&a, gid))
                                return gx_fail(err, GX_SYSTEM, E2BIG,
                                               "account %s: more than %d groups", esc,
                                               GX_MAX_GROUPS);
                }
        } else {
                size_t n = GX_MAX_GROUPS;
                r = nss->user_groups(name, a.gid, a.groups, &n);
                if (r == -ERANGE)
                        return gx_fail(err, GX_SYSTEM, E2BIG, "account %s: more than %d groups",
                                       esc, GX_MAX_GROUPS);
                if (r < 0)
                        return gx_fail(err, GX_SYSTEM, r, "looking up the groups of %s", esc);
                a.n_groups = 0;
                gid_t found[GX_MAX_GROUPS];
                memcpy(found, a.groups, n * sizeof(gid_t));
                /* The primary gid first, as setgroups() callers and `id` expect. */
                bool fits = add_gid(&a, a.gid);
                for (size_t i = 0; i < n; i++)
                        fits = fits && add_gid(&a, found[i]);
                if (!fits)
                        return gx_fail(err, GX_SYSTEM, E2BIG, "account %s: more than %d groups",
                                       esc, GX_MAX_GROUPS);
        }

        if (a.gid == 0 || a.gid == (gid_t)-1)
                return refuse(err, esc, "gid", a.gid);
        for (size_t i = 0; i < a.n_groups; i++)
                if (a.groups[i] == 0 || a.groups[i] == (gid_t)-1)
                        return refuse(err, esc, "supplementary gid", a.groups[i]);

        *ret = a;
        return 0;
}

int map_account_by_name(const char *name, uint64_t min_uid, struct gx_account *ret,
                        struct gx_error *err)
{
        return map_account_lookup(NULL, name, min_uid, NULL, 0, ret, err);
}
