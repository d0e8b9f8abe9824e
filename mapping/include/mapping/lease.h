/* Pool-account leases in a gridmapdir, kept exactly as LCMAPS (poolaccount,
 * voms_poolaccount) and the Globus gridmapdir patch keep them, so that an existing gridmapdir
 * keeps its leases and both can share one:
 *
 *   - the gridmapdir holds one empty regular file per pool account, named like the account
 *     (atlas001, atlas002, ...); link count 1 means free;
 *   - a lease is a hard link to an account's file, named by the lease key (below); both names
 *     then show link count 2, and the returning key finds its account by inode;
 *   - a new lease is link(2) of a free account file, followed by a fresh look at the link
 *     count: more than 2 means another launch grabbed the same account at the same moment,
 *     and whoever sees that backs off (unlinks its name) and tries the next account. link(2)
 *     is atomic, also on NFS, so no lock file or flock is involved. Unlike LCMAPS, the first
 *     link is a private claim name ("%tmp:<time>:<pid>:<random>"), and the lease name is
 *     linked only once the claim has won: LCMAPS links the lease name itself and unlinks it
 *     again on backing off, so a concurrent launch for the same key can meanwhile see that
 *     name with link count 2 and run as an account that is then handed to someone else.
 *     Here a lease name, once created, is never removed by glexec. Claims left behind by a
 *     crash are removed after an hour (the time in the name);
 *   - using a lease refreshes its mtime (the inode is shared, so the account file's too), so
 *     that sites can expire leases unused for a while (find -links 2 -mtime +N).
 *
 * Lease names (all at most NAME_MAX bytes):
 *   DN:           lcmaps_encode(dn), e.g. %2fdc%3dorg%2fdc%3dexample%2fcn%3dalice
 *   DN + groups:  lcmaps_encode(dn ":" group ":" group ...) (voms_poolaccount; ':' -> %3a)
 *   token:        "%tok:" token_encode(iss) ":" token_encode(sub)
 *   too long:     "%sha256:" + hex SHA-256 of the name above (LCMAPS could never create such
 *                 a name; link(2) would have failed with ENAMETOOLONG)
 * lcmaps_encode keeps ASCII letters (lower-cased) and digits and writes every other byte as
 * %hh (lower-case hex). DNs are taken in the X509_NAME_oneline form that LCMAPS saw and
 * credential verification writes (bytes outside printable ASCII as the text \xHH; raw bytes
 * are first written so), so non-ASCII DNs find their old leases too.
 * DN leases are case-insensitive, as in LCMAPS. token_encode keeps only [a-z0-9] and encodes
 * everything else, upper case included, so distinct subs never share a lease; "%to" and "%sh"
 * are never produced by lcmaps_encode ('t' and 's' are not hex digits), so no token or hashed
 * name can collide with a DN lease, and no lease name can be taken for an account (those
 * never start with '%').
 *
 * Pool accounts of prefix P are the entries named P followed by one or more digits only
 * (LCMAPS's -strict_poolprefix_match), so ".atlas" never hands out "atlasprd001". */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define LEASE_NAME_MAX (NAME_MAX + 1)

/* Lease name for a DN, with the groups of a VOMS pool mapping (n_groups may be 0). -EINVAL
 * unless dn is a subject DN starting with '/'. */
int lease_name_dn(const char *dn, const char *const *groups, size_t n_groups,
                  char name[LEASE_NAME_MAX]);

/* Lease name for a token identity, keyed by issuer and sub (-EINVAL if either is empty). */
int lease_name_token(const char *iss, const char *sub, char name[LEASE_NAME_MAX]);

/* True if name is an account of pool prefix (prefix followed by digits only). */
bool lease_is_pool_account(const char *name, const char *prefix);

/* Find the account leased to lease_name in the gridmapdir open at dirfd, or lease a free
 * account of pool prefix to it. account_size must be at least 64. Errors: GX_AUTHZ "no free
 * pool account" when the pool is exhausted, or when an existing lease belongs to an account
 * outside this pool (LCMAPS's "inconsistency"; an admin removes the lease to re-map);
 * GX_SYSTEM for a pool without any account files, a broken gridmapdir (a lease that is not
 * a regular file, a lease without an account, two leases on one account) or an I/O error.
 * Entries of the pool that are not regular files are never leased. */
int lease_acquire(int dirfd, const char *lease_name, const char *prefix, char *account,
                  size_t account_size, struct gx_error *err);

/* Open a gridmapdir for lease_acquire: root-owned along its path (gx_open_trusted_dir). */
int lease_open_dir(const char *path, struct gx_error *err);
