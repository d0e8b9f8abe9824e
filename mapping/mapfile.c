#include "mapping/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/fdutil.h"
#include "common/macro.h"
#include "common/strutil.h"

/* glibc's fnmatch backtracks on every '*': a pattern with many of them against a long subject
 * (a user picks their own CN) costs O(n^k). Real map files use one or two. */
#define MAP_PATTERN_STARS_MAX 4

static const char *const kind_names[_MAP_FILE_KIND_MAX] = {
        [MAP_GRIDMAP] = "grid-mapfile",
        [MAP_VOMS_GRIDMAP] = "voms-grid-mapfile",
        [MAP_GROUPMAP] = "groupmapfile",
        [MAP_BANFILE] = "ban file",
        [MAP_TOKENMAP] = "token mapfile",
};

const char *map_file_kind_name(enum map_file_kind kind)
{
        return kind >= 0 && kind < _MAP_FILE_KIND_MAX ? kind_names[kind] : "map file";
}

struct cursor {
        const char *p;
        const char *end;
        const char *file;
        unsigned line;
        struct gx_error *err;
};

static int syntax(const struct cursor *c, const char *what)
{
        char name[256];
        gx_escape(name, sizeof(name), c->file);
        return gx_fail(c->err, GX_SYSTEM, EINVAL, "%s:%u: %s", name, c->line, what);
}

static bool is_blank(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\r';
}

static void skip_blanks(struct cursor *c)
{
        while (c->p < c->end && is_blank(*c->p))
                c->p++;
}

/* Nothing but blanks and an optional comment left on the line. */
static bool at_line_end(struct cursor *c)
{
        skip_blanks(c);
        return c->p == c->end || *c->p == '#';
}

static int hex_value(char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

/* One subject field: "quoted with \ escapes" or an unquoted word. Returns a malloc'd,
 * unescaped copy of at most max bytes. */
static int read_field(struct cursor *c, size_t max, bool need_quotes, char **ret)
{
        skip_blanks(c);
        if (c->p == c->end || *c->p == '#')
                return syntax(c, "expected a quoted DN, FQAN or issuer");
        bool quoted = *c->p == '"';
        if (need_quotes && !quoted)
                return syntax(c, "expected a quoted string");
        if (quoted)
                c->p++;

        _cleanup_free_ char *out = malloc(max + 1);
        if (!out)
                return gx_fail(c->err, GX_SYSTEM, ENOMEM, "parsing %s", c->file);
        size_t n = 0;
        unsigned stars = 0;
        for (;;) {
                if (c->p == c->end) {
                        if (quoted)
                                return syntax(c, "unterminated quoted string");
                        break;
                }
                unsigned char ch = (unsigned char)*c->p;
                if (!quoted && is_blank((char)ch))
                        break;
                c->p++;
                if (quoted && ch == '"')
                        break;
                if (ch == '\\') {
                        if (c->p == c->end)
                                return syntax(c, "backslash at end of line");
                        ch = (unsigned char)*c->p++;
                        if (ch == 'x') {
                                int hi = c->p < c->end ? hex_value(c->p[0]) : -1;
                                int lo = c->p + 1 < c->end ? hex_value(c->p[1]) : -1;
                                if (hi < 0 || lo < 0)
                                        return syntax(c, "\\x must be followed by two hex digits");
                                ch = (unsigned char)(hi << 4 | lo);
                                c->p += 2;
                                if (ch == 0)
                                        return syntax(c, "\\x00 is not allowed");
                        } else if (ch < 0x20 || ch == 0x7f) {
                                return syntax(c, "control character in a field");
                        }
                } else if (ch < 0x20 || ch == 0x7f) {
                        /* Tab ends an unquoted word above; inside quotes it is refused too.
                         * Only \xHH can bring a control character in. */
                        return syntax(c, "control character in a field");
                } else if (ch == '*' && ++stars > MAP_PATTERN_STARS_MAX) {
                        return syntax(c, "too many '*' wildcards in a pattern");
                }
                if (n == max)
                        return syntax(c, "field too long");
                out[n++] = (char)ch;
        }
        if (n == 0)
                return syntax(c, "empty field");
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

/* Bring a DN or FQAN pattern to the form in which credential verification writes DNs, that
 * of X509_NAME_oneline (to which Globus also brings grid-mapfile entries): bytes outside
 * printable ASCII as \xHH in upper case. So a raw UTF-8 "é" and "\xc3\xa9" in a file both
 * match the DN of the certificate. */
static int oneline_form(const struct cursor *c, size_t max, char **s)
{
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)*s; *p; p++)
                n += *p < 0x20 || *p > 0x7e ? 4 : 1;
        if (n > max)
                return syntax(c, "field too long");
        char *out = malloc(n + 1);
        if (!out)
                return gx_fail(c->err, GX_SYSTEM, ENOMEM, "parsing %s", c->file);
        size_t o = 0;
        for (const unsigned char *p = (const unsigned char *)*s; *p; p++) {
                if (*p >= 0x20 && *p <= 0x7e) {
                        out[o++] = (char)*p;
                        continue;
                }
                out[o++] = '\\';
                out[o++] = 'x';
                out[o++] = "0123456789ABCDEF"[*p >> 4];
                out[o++] = "0123456789ABCDEF"[*p & 15];
        }
        out[o] = '\0';
        free(*s);
        *s = out;
        return 0;
}

static bool valid_name_char(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '_' || ch == '.' || ch == '-';
}

/* An account, group or pool-prefix name: [A-Za-z0-9_.-]{1,63}, not starting with '.' or '-'. */
static bool valid_name(const char *s, size_t len)
{
        if (len == 0 || len >= MAP_NAME_MAX || s[0] == '.' || s[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!valid_name_char(s[i]))
                        return false;
        return true;
}

/* The target of a rule: `.pool` or `name[,name...]`, then the end of the line. */
static int read_target(struct cursor *c, bool allow_pool, size_t max_names, struct map_rule *r)
{
        skip_blanks(c);
        const char *start = c->p;
        while (c->p < c->end && *c->p != '#')
                c->p++;
        const char *stop = c->p;
        while (stop > start && is_blank(stop[-1]))
                stop--;
        if (stop == start)
                return syntax(c, "missing account or group after the quoted field");

        if (*start == '.') {
                if (!allow_pool)
                        return syntax(c, "pool (.prefix) targets are not supported here");
                if (!valid_name(start + 1, (size_t)(stop - start - 1)))
                        return syntax(c, "invalid pool prefix");
                r->pool = strndup(start + 1, (size_t)(stop - start - 1));
                if (!r->pool)
                        return gx_fail(c->err, GX_SYSTEM, ENOMEM, "parsing %s", c->file);
                return 0;
        }

        size_t n = 0;
        r->names = calloc(max_names + 1, sizeof(char *));
        if (!r->names)
                return gx_fail(c->err, GX_SYSTEM, ENOMEM, "parsing %s", c->file);
        const char *p = start;
        for (;;) {
                const char *comma = memchr(p, ',', (size_t)(stop - p));
                const char *item_end = comma ? comma : stop;
                while (p < item_end && is_blank(*p))
                        p++;
                const char *e = item_end;
                while (e > p && is_blank(e[-1]))
                        e--;
                if (!valid_name(p, (size_t)(e - p)))
                        return syntax(c, "invalid account or group name");
                if (n == max_names)
                        return syntax(c, max_names == 1 ? "exactly one group name expected"
                                                        : "too many account names");
                r->names[n] = strndup(p, (size_t)(e - p));
                if (!r->names[n])
                        return gx_fail(c->err, GX_SYSTEM, ENOMEM, "parsing %s", c->file);
                n++;
                if (!comma)
                        return 0;
                p = comma + 1;
        }
}

static void rule_free(struct map_rule *r)
{
        free(r->subject);
        free(r->subject2);
        free(r->pool);
        gx_strv_free(r->names);
        *r = (struct map_rule){0};
}

static int parse_rule(struct cursor *c, enum map_file_kind kind, struct map_rule *r)
{
        int ret;
        switch (kind) {
        case MAP_GRIDMAP:
        case MAP_VOMS_GRIDMAP:
        case MAP_GROUPMAP:
                ret = read_field(c, GX_DN_MAX - 1, false, &r->subject);
                if (ret < 0)
                        return ret;
                ret = oneline_form(c, GX_DN_MAX - 1, &r->subject);
                if (ret < 0)
                        return ret;
                if (kind != MAP_GRIDMAP)
                        map_fqan_normalise(r->subject);
                return read_target(c, kind != MAP_GROUPMAP, kind == MAP_GROUPMAP ? 1 : MAP_NAMES_MAX,
                                   r);
        case MAP_BANFILE:
                ret = read_field(c, GX_DN_MAX - 1, false, &r->subject);
                if (ret < 0)
                        return ret;
                if (at_line_end(c))
                        return oneline_form(c, GX_DN_MAX - 1, &r->subject);
                if (strlen(r->subject) >= GX_TOKEN_STR_MAX)
                        return syntax(c, "issuer too long");
                ret = read_field(c, GX_TOKEN_STR_MAX - 1, true, &r->subject2);
                if (ret < 0)
                        return ret;
                if (!at_line_end(c))
                        return syntax(c, "unexpected text after the sub");
                return 0;
        case MAP_TOKENMAP:
                ret = read_field(c, GX_TOKEN_STR_MAX - 1, false, &r->subject);
                if (ret < 0)
                        return ret;
                ret = read_field(c, GX_TOKEN_STR_MAX - 1, true, &r->subject2);
                if (ret < 0)
                        return ret;
                if (r->subject2[0] == '/' && strlen(r->subject2) >= GX_FQAN_MAX)
                        return syntax(c, "group too long");
                return read_target(c, true, MAP_NAMES_MAX, r);
        case _MAP_FILE_KIND_MAX:
                break;
        }
        return gx_fail(c->err, GX_SYSTEM, EINVAL, "unknown map file kind %d", (int)kind);
}

void map_file_free(struct map_file *f)
{
        if (!f)
                return;
        for (size_t i = 0; i < f->n_rules; i++)
                rule_free(&f->rules[i]);
        free(f->rules);
        free(f->name);
        *f = (struct map_file){0};
}

static void map_file_freep(struct map_file *f)
{
        map_file_free(f);
}

int map_file_parse(enum map_file_kind kind, const char *text, size_t len, const char *name,
                   struct map_file *ret, struct gx_error *err)
{
        if (kind < 0 || kind >= _MAP_FILE_KIND_MAX)
                return gx_fail(err, GX_SYSTEM, EINVAL, "unknown map file kind %d", (int)kind);
        if (len > MAP_FILE_MAX_BYTES)
                return gx_fail(err, GX_SYSTEM, EFBIG, "%s: larger than %u bytes", name,
                               MAP_FILE_MAX_BYTES);

        _cleanup_(map_file_freep) struct map_file f = {.kind = kind};
        f.name = strdup(name);
        if (!f.name)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "parsing %s", name);
        const char *nul = memchr(text, '\0', len);
        if (nul) {
                unsigned line = 1;
                for (const char *q = text; q < nul; q++)
                        line += *q == '\n';
                struct cursor c = {.file = name, .line = line, .err = err};
                return syntax(&c, "NUL byte");
        }

        size_t cap = 0;
        const char *p = text, *end = text + len;
        unsigned line = 0;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = nl ? nl : end;
                struct cursor c = {.p = p, .end = line_end, .file = name, .line = ++line,
                                   .err = err};
                p = nl ? nl + 1 : end;
                if (line_end - c.p > MAP_LINE_MAX)
                        return syntax(&c, "line too long");
                if (at_line_end(&c))
                        continue;
                if (f.n_rules == MAP_RULES_MAX)
                        return syntax(&c, "too many rules");
                if (f.n_rules == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        struct map_rule *n = realloc(f.rules, ncap * sizeof(*n));
                        if (!n)
                                return gx_fail(err, GX_SYSTEM, ENOMEM, "parsing %s", name);
                        f.rules = n;
                        cap = ncap;
                }
                struct map_rule *r = &f.rules[f.n_rules];
                *r = (struct map_rule){.line = line};
                int q = parse_rule(&c, kind, r);
                if (q < 0) {
                        rule_free(r);
                        return q;
                }
                f.n_rules++;
        }
        *ret = f;
        f = (struct map_file){0};
        return 0;
}

int map_file_load(enum map_file_kind kind, const char *path, struct map_file *ret,
                  struct gx_error *err)
{
        _cleanup_close_ int fd = gx_open_trusted(path, O_RDONLY, err);
        if (fd < 0)
                return fd;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = gx_read_all(fd, MAP_FILE_MAX_BYTES, &text, &len);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, r, "reading %s %s", map_file_kind_name(kind), path);
        return map_file_parse(kind, text, len, path, ret, err);
}

static bool strip_suffix(char *s, const char *suffix)
{
        size_t len = strlen(s), slen = strlen(suffix);
        if (len <= slen || strcmp(s + len - slen, suffix) != 0)
                return false;
        s[len - slen] = '\0';
        return true;
}

void map_fqan_normalise(char *fqan)
{
        strip_suffix(fqan, "/Capability=NULL");
        strip_suffix(fqan, "/Role=NULL");
}

static bool has_wildcards(const char *pattern)
{
        return strpbrk(pattern, "*?[") != NULL;
}

/* FNM_NOESCAPE: in the oneline form a backslash only ever starts \xHH, never an escape. */
static bool glob_match(const char *pattern, const char *s)
{
        if (strcmp(pattern, s) == 0)
                return true;
        return has_wildcards(pattern) && fnmatch(pattern, s, FNM_NOESCAPE) == 0;
}

bool map_dn_match(const char *pattern, const char *dn)
{
        return glob_match(pattern, dn);
}

bool map_fqan_match(const char *pattern, const char *fqan)
{
        if (glob_match(pattern, fqan))
                return true;
        if (!has_wildcards(pattern))
                return false;
        char full[GX_FQAN_MAX + sizeof("/Role=NULL/Capability=NULL")];
        bool role = strstr(fqan, "/Role=") != NULL;
        bool cap = strstr(fqan, "/Capability=") != NULL;
        if (role && cap)
                return false;
        int n = snprintf(full, sizeof(full), "%s%s%s", fqan, role ? "" : "/Role=NULL",
                         cap ? "" : "/Capability=NULL");
        if (n < 0 || (size_t)n >= sizeof(full))
                return false;
        return fnmatch(pattern, full, FNM_NOESCAPE) == 0;
}

static bool rule_kind_ok(const struct map_rule *r, bool pools)
{
        return pools ? r->pool != NULL : r->names != NULL;
}

/* Identity FQANs are normalised by the verifier; normalise again so that a verifier that
 * forgot cannot make a rule miss. */
static void normalised_copy(char *dst, size_t n, const char *fqan)
{
        snprintf(dst, n, "%s", fqan);
        map_fqan_normalise(dst);
}

const struct map_rule *map_file_match_fqan(const struct map_file *f, const char *fqan,
                                           bool pools)
{
        char norm[GX_FQAN_MAX];
        normalised_copy(norm, sizeof(norm), fqan);
        for (size_t i = 0; f && i < f->n_rules; i++)
                if (rule_kind_ok(&f->rules[i], pools) && map_fqan_match(f->rules[i].subject, norm))
                        return &f->rules[i];
        return NULL;
}

const struct map_rule *map_file_match_dn(const struct map_file *f, const char *dn, bool pools)
{
        if (!dn[0])
                return NULL;
        for (size_t i = 0; f && i < f->n_rules; i++)
                if (rule_kind_ok(&f->rules[i], pools) && map_dn_match(f->rules[i].subject, dn))
                        return &f->rules[i];
        return NULL;
}

const struct map_rule *map_file_match_token(const struct map_file *f,
                                            const struct gx_identity *id)
{
        if (id->kind != GX_CRED_TOKEN || !id->token_iss[0])
                return NULL;
        for (size_t i = 0; f && i < f->n_rules; i++) {
                const struct map_rule *r = &f->rules[i];
                if (!r->subject2 || strcmp(r->subject, id->token_iss) != 0)
                        continue;
                if (r->subject2[0] != '/') {
                        if (id->token_sub[0] && strcmp(r->subject2, id->token_sub) == 0)
                                return r;
                        continue;
                }
                for (size_t g = 0; g < id->n_token_groups && g < GX_MAX_FQANS; g++)
                        if (strcmp(r->subject2, id->token_groups[g]) == 0)
                                return r;
        }
        return NULL;
}

static bool ban_single_matches(const char *pattern, const struct gx_identity *id)
{
        char norm_pattern[GX_DN_MAX], fqan[GX_FQAN_MAX];

        if (id->kind == GX_CRED_X509 && id->dn[0] && map_dn_match(pattern, id->dn))
                return true;
        normalised_copy(norm_pattern, sizeof(norm_pattern), pattern);
        if (id->kind == GX_CRED_X509)
                for (size_t i = 0; i < id->n_fqans && i < GX_MAX_FQANS; i++) {
                        normalised_copy(fqan, sizeof(fqan), id->fqans[i]);
                        if (map_fqan_match(norm_pattern, fqan))
                                return true;
                }
        if (id->kind == GX_CRED_TOKEN)
                for (size_t i = 0; i < id->n_token_groups && i < GX_MAX_FQANS; i++)
                        if (map_fqan_match(norm_pattern, id->token_groups[i]))
                                return true;
        return false;
}

const struct map_rule *map_file_match_ban(const struct map_file *f,
                                          const struct gx_identity *id)
{
        for (size_t i = 0; f && i < f->n_rules; i++) {
                const struct map_rule *r = &f->rules[i];
                if (!r->subject2) {
                        if (ban_single_matches(r->subject, id))
                                return r;
                } else if (id->kind == GX_CRED_TOKEN && id->token_iss[0] &&
                           glob_match(r->subject, id->token_iss) &&
                           glob_match(r->subject2, id->token_sub)) {
                        return r;
                }
        }
        return NULL;
}
