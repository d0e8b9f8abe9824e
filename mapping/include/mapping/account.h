/* The Unix identity a payload runs as: user, uid, primary gid, supplementary gids, home.
 * Looked up through the name service; never uid 0, never below min_uid, never gid 0. */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define GX_MAX_GROUPS 64

struct gx_account {
        char user[64];
        uid_t uid;
        gid_t gid;
        gid_t groups[GX_MAX_GROUPS]; /* supplementary list for setgroups(); holds gid too */
        size_t n_groups;
        char home[PATH_MAX];
};

/* The name service behind the look-ups. NULL stands for the system's (getpwnam_r,
 * getgrouplist, getgrnam_r); tests pass their own. Each returns 0, -ENOENT when the name
 * does not exist, or another negative errno. */
struct map_nss {
        int (*user)(const char *name, uid_t *uid, gid_t *gid, char *home, size_t home_size);
        /* The groups of the user including gid; *n is the room on entry, the count on
         * return; -ERANGE when there are more. */
        int (*user_groups)(const char *name, gid_t gid, gid_t *groups, size_t *n);
        int (*group)(const char *name, gid_t *gid);
};

/* Look up account `name`. With group_names (from the groupmapfile, SPEC section 7) the
 * first names the primary gid and all of them, deduplicated, the supplementary gids,
 * replacing the account's own groups; without them the account's passwd gid and its
 * group memberships are used. Errors: GX_SYSTEM for a missing account or group or a name
 * service failure; GX_AUTHZ for uid 0, a uid below min_uid, or gid 0 anywhere. */
int map_account_lookup(const struct map_nss *nss, const char *name, uint64_t min_uid,
                       const char *const *group_names, size_t n_group_names,
                       struct gx_account *ret, struct gx_error *err);

/* The account's own groups only: the site-isolation account, or a mapping without
 * groupmapfile groups. */
int map_account_by_name(const char *name, uint64_t min_uid, struct gx_account *ret,
                        struct gx_error *err);
