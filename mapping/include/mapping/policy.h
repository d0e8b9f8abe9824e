/* The authorization and mapping decision of SPEC sections 2 and 7: bans, allowed
 * executables, and credential -> account. No privileges, no exits, no logging.
 *
 * Mapping precedence for an X.509 identity (mapping mode), first hit wins:
 *   1. voms-grid-mapfile account lines, FQANs in the order of the attribute certificate
 *      (for each FQAN the first matching line of the file);
 *   2. grid-mapfile account lines for the DN;
 *   3. voms-grid-mapfile pool lines, FQANs in order; lease keyed by DN plus the groupmapfile
 *      groups, as voms_poolaccount does;
 *   4. grid-mapfile pool lines; lease keyed by the DN, as poolaccount does.
 * Static mappings thus come before any pool lease, so a user with an account of their own
 * never uses up a pool account (LCMAPS localaccount-before-poolaccount, applied across both
 * files). The groupmapfile gives the groups: the group of the first FQAN that matches a
 * groupmapfile line becomes the primary gid, the groups of the others supplementary gids;
 * without any, the account's own passwd gid and memberships are used.
 *
 * A token identity is mapped by the token mapfile alone: the first line whose issuer and sub,
 * or issuer and one of the token's wlcg.groups, match; a pool there is leased by issuer and
 * sub. The groupmapfile is not applied to token groups: it is not scoped by issuer, and any
 * trusted issuer could otherwise claim a VO's groups.
 *
 * Map files that are configured but do not exist are taken as empty, so the shipped default
 * paths need not all exist; but when every map file that could map this kind of credential
 * is missing (both grid-mapfiles for X.509, the token mapfile for tokens), that is a
 * configuration error (GX_SYSTEM), never a silent "no mapping". A file that exists but is not
 * root-owned, is unreadable or has a syntax error is always GX_SYSTEM. An empty path means
 * "not configured". */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "mapping/account.h"
#include "mapping/identity.h"
#include "mapping/lease.h"
#include "mapping/mapfile.h"

struct map_config {
        const char *gridmapfile, *voms_gridmapfile, *groupmapfile, *gridmapdir, *token_mapfile,
                *ban_file;
        char *const *allowed_executables; /* NULL-terminated; NULL or empty = any */
        uint64_t min_uid;
};

/* Banned -> GX_AUTHZ. ban_file configured (non-empty) but missing, unreadable, untrusted or
 * malformed -> GX_SYSTEM (a missing ban file never means "nobody banned"). */
int map_check_ban(const struct map_config *cfg, const struct gx_identity *id,
                  struct gx_error *err);

/* resolved_path: the absolute, symlink-free path that will be executed. Allowed when the
 * list is empty, or when an entry equals it or matches it as an fnmatch(3) pattern with
 * FNM_PATHNAME ('*' does not cross '/'), as written or with the symlinks of its literal part
 * resolved (a merged /usr: "/bin/true" allows /usr/bin/true). Otherwise GX_AUTHZ; an entry
 * that is not an absolute path is GX_SYSTEM. */
int map_check_executable(const struct map_config *cfg, const char *resolved_path,
                         struct gx_error *err);

/* For --check-config: the files and lists of cfg as launches would use them. The ban file
 * (when configured) must exist and parse; in mapping mode each map file that exists must be
 * trusted and parse, and one of them must exist; allowed_executables entries must be
 * absolute. problem() is called once per problem with the key concerned; returns the number
 * of problems. */
typedef void map_problem_fn(const char *key, const struct gx_error *err, void *userdata);
unsigned map_check_config(const struct map_config *cfg, bool mapping_mode,
                          map_problem_fn *problem, void *userdata);

/* The whole mapping: load the map files, decide, lease, look up the account. No match is
 * GX_AUTHZ "no mapping". */
int map_resolve_account(const struct map_config *cfg, const struct gx_identity *id,
                        struct gx_account *ret, struct gx_error *err);

/* The pure parts of map_resolve_account, for tests and --check-config. */
struct map_rules {
        const struct map_file *gridmap; /* each NULL when not configured or missing */
        const struct map_file *voms_gridmap;
        const struct map_file *groupmap;
        const struct map_file *tokenmap;
};

struct map_decision {
        char account[MAP_NAME_MAX];  /* a static account, or "" */
        char pool[MAP_NAME_MAX];     /* a pool prefix, or "" */
        char lease[LEASE_NAME_MAX];  /* the lease name when pool is set */
        char groups[GX_MAX_FQANS][MAP_NAME_MAX]; /* groupmapfile groups; first = primary */
        size_t n_groups;
        char source[320];            /* "<file>:<line>" of the rule that decided, for the log */
        char group_source[320];      /* "<groupmapfile>:<line>,<line>..." of the groups, or "" */
};

int map_decide(const struct map_rules *rules, const struct gx_identity *id,
               struct map_decision *ret, struct gx_error *err);

/* Turn a decision into an account: lease from the gridmapdir open at gridmapdir_fd when the
 * decision names a pool (-1 when there is none), then look the account up through nss
 * (NULL = the system's). */
int map_apply(const struct map_decision *d, int gridmapdir_fd, uint64_t min_uid,
              const struct map_nss *nss, struct gx_account *ret, struct gx_error *err);
