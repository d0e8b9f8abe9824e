/* Parsers for the LCMAPS-compatible map files of SPEC section 7, and the matching rules
 * that go with them. Every file is site policy: parsed strictly, with limits, and a syntax
 * error is GX_SYSTEM naming the file and line.
 *
 * Common syntax (grid-mapfile heritage, Globus and LCMAPS):
 *   - one rule per line; blank lines and lines whose first non-blank character is '#' are
 *     ignored; a '#' after a complete rule starts a comment;
 *   - a subject field is a double-quoted string, or (grid-mapfile style) an unquoted word
 *     ending at the first blank; the second field of token lines (sub or group) must be
 *     quoted; inside it \" \\ and \xHH are unescaped (\ before any other
 *     character yields that character, as Globus does); \x00 and raw control characters are
 *     refused, bytes >= 0x80 are taken as they are (UTF-8);
 *   - DN and FQAN patterns are then brought to the classic X509_NAME_oneline form in which
 *     credential verification writes DNs (and Globus brings grid-mapfile entries to): bytes
 *     outside printable ASCII become the text \xHH (upper case), so raw UTF-8 and \xc3\xa9
 *     in a file both match the certificate's "\xC3\xA9". Token issuers, subs and groups are
 *     kept as they are (UTF-8, as in the token);
 *   - a pattern holds at most 4 '*' (glibc's fnmatch backtracks on each, and a user chooses
 *     their own CN);
 *   - a target is `name[,name...]` (blanks around commas allowed) or `.poolprefix`; names are
 *     [A-Za-z0-9_.-], not starting with '.' or '-', at most 63 characters.
 *
 * Per kind:
 *   MAP_GRIDMAP       "DN pattern" account[,account...] | .pool
 *   MAP_VOMS_GRIDMAP  "FQAN pattern" account[,account...] | .pool   (pattern normalised)
 *   MAP_GROUPMAP      "FQAN pattern" group                          (exactly one group)
 *   MAP_BANFILE       "DN or FQAN pattern"  |  "issuer URL" "sub pattern"
 *   MAP_TOKENMAP      "issuer URL" "sub" account[,...] | .pool
 *                     "issuer URL" "/group" account[,...] | .pool
 *                     (a second field starting with '/' names a wlcg.groups entry)
 * Of an account list only the first account is used, as LCMAPS localaccount does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "mapping/identity.h"

/* Limits: a file larger than this, a longer line or more rules is a GX_SYSTEM error. */
#define MAP_FILE_MAX_BYTES (32u * 1024 * 1024)
#define MAP_LINE_MAX 16384
#define MAP_RULES_MAX 500000
#define MAP_NAMES_MAX 64
/* Longest account, group or pool prefix name, plus the NUL. */
#define MAP_NAME_MAX 64

enum map_file_kind {
        MAP_GRIDMAP,
        MAP_VOMS_GRIDMAP,
        MAP_GROUPMAP,
        MAP_BANFILE,
        MAP_TOKENMAP,
        _MAP_FILE_KIND_MAX,
};

struct map_rule {
        char *subject;  /* DN or FQAN pattern; for bans on tokens and token maps: the issuer */
        char *subject2; /* token lines: the sub (or "/group"); NULL otherwise */
        char *pool;     /* pool prefix (without the dot) or NULL */
        char **names;   /* NULL-terminated accounts or the group; NULL for bans and pools */
        unsigned line;
};

struct map_file {
        enum map_file_kind kind;
        char *name; /* path or test name, for messages */
        struct map_rule *rules;
        size_t n_rules;
};

const char *map_file_kind_name(enum map_file_kind kind);

/* Parse text (len bytes, need not be NUL-terminated). name is used in messages. */
int map_file_parse(enum map_file_kind kind, const char *text, size_t len, const char *name,
                   struct map_file *ret, struct gx_error *err);

/* Open path with gx_open_trusted (root-owned along the whole path) and parse it. A missing
 * file is -ENOENT with a GX_SYSTEM error; callers that treat it as empty check for that. */
int map_file_load(enum map_file_kind kind, const char *path, struct map_file *ret,
                  struct gx_error *err);

void map_file_free(struct map_file *f);

/* Normalise an FQAN in place the way credential verification does: a trailing
 * "/Capability=NULL" and then a trailing "/Role=NULL" are removed. */
void map_fqan_normalise(char *fqan);

/* DN rule: equal, or the pattern has wildcards and fnmatch(3) matches with FNM_NOESCAPE (a
 * backslash only ever starts \xHH) and without FNM_PATHNAME, so '*' also spans '/' (LCMAPS
 * allows wildcards in grid-mapfile DNs). Case-sensitive. Ban lines on tokens match iss and
 * sub the same way. */
bool map_dn_match(const char *pattern, const char *dn);

/* FQAN rule, both sides normalised: as map_dn_match on the normalised FQAN,
 * or on its full form with "/Role=NULL" and "/Capability=NULL" restored, which is what
 * LCMAPS compared against; so a pattern "/atlas/" followed by '*' matches "/atlas" (which is
 * /atlas/Role=NULL/Capability=NULL) and "/atlas/higgs/Role=production", but not "/atlasx". */
bool map_fqan_match(const char *pattern, const char *fqan);

/* First rule matching fqan, or NULL. pools selects pool rules (true) or account rules. */
const struct map_rule *map_file_match_fqan(const struct map_file *f, const char *fqan,
                                           bool pools);
const struct map_rule *map_file_match_dn(const struct map_file *f, const char *dn, bool pools);

/* Token map: the first line whose issuer equals the token's iss and whose second field
 * equals its sub or one of its wlcg.groups (exact strings). */
const struct map_rule *map_file_match_token(const struct map_file *f,
                                            const struct gx_identity *id);

/* Ban file: the first line banning id (single patterns against the DN, every FQAN and every
 * token group; two-field lines as fnmatch patterns against the token's iss and sub). */
const struct map_rule *map_file_match_ban(const struct map_file *f,
                                          const struct gx_identity *id);
