/* WLCG JWT bearer tokens, verified offline with OpenSSL 3 EVP and json-c (reference/
 * credentials.md section 5). No JWT library: the known traps are handled here explicitly:
 * algorithm confusion (only RS256 and ES256, and the key's type must match), ES256's raw R||S
 * signatures, lenient base64, duplicate JSON keys, keys chosen by the token instead of by the
 * site. */
#include "mapping/token.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common/fdutil.h"
#include "common/strutil.h"

/* Nesting allowed in headers, payloads and JWKS files; real ones use three levels. */
#define JSON_MAX_DEPTH 16
#define KID_MAX 256
#define SUB_MAX 255 /* WLCG profile: sub is ASCII, at most 255 characters */
#define JWKS_MAX_KEYS 100
#define TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define RSA_MAX_EXPONENT_BYTES 8
#define EC_COORD_BYTES 32
#define ESC_MAX 160 /* escaped token strings quoted in log messages */

enum jws_alg {
        ALG_RS256,
        ALG_ES256,
};

static const char *const alg_names[] = {
        [ALG_RS256] = "RS256",
        [ALG_ES256] = "ES256",
};

/* A compact JWS split and parsed, before its signature is checked. */
struct jws {
        struct json_object *header;
        struct json_object *payload;
        const char *signing_input; /* "header.payload" exactly as received */
        size_t signing_input_len;
        unsigned char *sig;
        size_t sig_len;
        enum jws_alg alg;
        const char *kid; /* point into header and payload */
        const char *iss;
};

static void jws_done(struct jws *j)
{
        json_object_put(j->header);
        json_object_put(j->payload);
        free(j->sig);
}

static void json_putp(struct json_object **o) { json_object_put(*o); }
static void bn_freep(BIGNUM **p) { BN_free(*p); }
static void pkey_freep(EVP_PKEY **p) { EVP_PKEY_free(*p); }
static void pkey_ctx_freep(EVP_PKEY_CTX **p) { EVP_PKEY_CTX_free(*p); }
static void md_ctx_freep(EVP_MD_CTX **p) { EVP_MD_CTX_free(*p); }
static void param_bld_freep(OSSL_PARAM_BLD **p) { OSSL_PARAM_BLD_free(*p); }
static void params_freep(OSSL_PARAM **p) { OSSL_PARAM_free(*p); }
static void ecdsa_sig_freep(ECDSA_SIG **p) { ECDSA_SIG_free(*p); }
static void openssl_freep(unsigned char **p) { OPENSSL_free(*p); }

/* A verdict on the token (203): the caller learns which check failed, the log also why. The
 * token itself is never quoted; a bearer token in a log file is a stolen credential. */
_printf_(3, 4) static int deny(struct gx_error *err, const char *check, const char *fmt, ...)
{
        char detail[sizeof(err->msg)], pub[sizeof(err->public_msg)];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        snprintf(pub, sizeof(pub), "token refused: %s", check);
        return gx_fail_public(err, GX_AUTHZ, 0, pub, "token refused: %s: %s", check, detail);
}

static bool is_json_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int b64url_value(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '-')
                return 62;
        if (c == '_')
                return 63;
        return -1;
}

/* Strict base64url (RFC 7515 section 2): no padding, nothing outside the alphabet, and zero
 * unused bits in the last character, so that a token has exactly one spelling. */
static int b64url_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len)
{
        if (len % 4 == 1)
                return -EINVAL;
        size_t out_len = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
        _cleanup_free_ unsigned char *out = malloc(out_len ? out_len : 1);
        if (!out)
                return -ENOMEM;
        unsigned acc = 0, bits = 0;
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                int v = b64url_value((unsigned char)s[i]);
                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (unsigned char)(acc >> bits);
                        acc &= (1U << bits) - 1;
                }
        }
        if (acc != 0)
                return -EINVAL;
        *ret = TAKE_PTR(out);
        *ret_len = o;
        return 0;
}

/* Count the members of all objects in JSON text (each has exactly one ':' outside strings),
 * and refuse what json-c accepts but this parser must not: raw control characters,
 * single-quoted strings, and \u0000 (json-c cuts object keys at a NUL). Runs on text json-c
 * has accepted, so the grammar is known to be right otherwise. */
static int json_prescan(const char *s, size_t len, size_t *ret_members, const char **why)
{
        size_t members = 0;
        bool in_string = false;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 && (in_string || !is_json_space((char)c))) {
                        *why = "raw control character";
                        return -EBADMSG;
                }
                if (!in_string) {
                        if (c == '"')
                                in_string = true;
                        else if (c == ':')
                                members++;
                        else if (c == '\'') {
                                *why = "single-quoted string";
                                return -EBADMSG;
                        }
                        continue;
                }
                if (c == '"')
                        in_string = false;
                else if (c == '\\') {
                        if (len - i > 5 && memcmp(s + i + 1, "u0000", 5) == 0) {
                                *why = "NUL character";
                                return -EBADMSG;
                        }
                        i++;
                }
        }
        *ret_members = members;
        return 0;
}

static size_t json_members(struct json_object *o)
{
        size_t n = 0;

        if (json_object_is_type(o, json_type_object)) {
                json_object_object_foreach(o, key, value) {
                        (void)key;
                        n += 1 + json_members(value);
                }
        } else if (json_object_is_type(o, json_type_array)) {
                size_t len = json_object_array_length(o);
                for (size_t i = 0; i < len; i++)
                        n += json_members(json_object_array_get_idx(o, i));
        }
        return n;
}

/* A JSON object, strictly: json-c in strict mode, nothing after the object but white space,
 * and no duplicate keys. json-c silently keeps the last of duplicate keys, so a token could
 * mean one thing to this verifier and another to the next; a parsed tree with fewer members
 * than the text finds them, however escapes spell the names. */
static int json_parse_object(const char *s, size_t len, struct json_object **ret, const char **why)
{
        size_t text_members;
        int r = json_prescan(s, len, &text_members, why);
        if (r < 0)
                return r;

        struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
        if (!tok) {
                *why = "out of memory";
                return -ENOMEM;
        }
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        _cleanup_(json_putp) struct json_object *o = json_tokener_parse_ex(tok, s, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);

        if (!o || jerr != json_tokener_success) {
                *why = jerr == json_tokener_continue ? "truncated JSON" : "not valid JSON";
                return -EBADMSG;
        }
        while (end < len && is_json_space(s[end]))
                end++;
        if (end != len) {
                *why = "data after the JSON object";
                return -EBADMSG;
        }
        if (!json_object_is_type(o, json_type_object)) {
                *why = "not a JSON object";
                return -EBADMSG;
        }
        if (json_members(o) != text_members) {
                *why = "duplicate key";
                return -EBADMSG;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static bool has_control(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return true;
        return false;
}

/* A string value fit to be copied into an identity or compared: no NUL or control
 * characters, at most max bytes. NULL otherwise (also for JSON null and other types). */
static const char *clean_string(struct json_object *v, size_t max)
{
        if (!v || !json_object_is_type(v, json_type_string))
                return NULL;
        const char *s = json_object_get_string(v);
        size_t n = (size_t)json_object_get_string_len(v);
        if (n > max || strlen(s) != n || has_control(s, n))
                return NULL;
        return s;
}

static const char *member_string(struct json_object *o, const char *key, size_t max)
{
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) ? clean_string(v, max) : NULL;
}

static const char *escape(char buf[static ESC_MAX], const char *s)
{
        gx_escape(buf, ESC_MAX, s);
        return buf;
}

static int jws_parse_header(struct jws *j, const char *s, size_t len, struct gx_error *err)
{
        _cleanup_free_ unsigned char *raw = NULL;
        size_t raw_len;
        const char *why;

        if (b64url_decode(s, len, &raw, &raw_len) < 0)
                return deny(err, "format", "header is not strict base64url");
        if (json_parse_object((const char *)raw, raw_len, &j->header, &why) < 0)
                return deny(err, "format", "header: %s", why);

        /* An allow-list, never the header's choice: "none" and HS256 (with the RSA public key
         * as the HMAC secret) are the classic forgeries. */
        const char *alg = member_string(j->header, "alg", 16);
        if (alg && strcmp(alg, "RS256") == 0)
                j->alg = ALG_RS256;
        else if (alg && strcmp(alg, "ES256") == 0)
                j->alg = ALG_ES256;
        else
                return deny(err, "alg", "only RS256 and ES256 are accepted");

        struct json_object *v;
        if (json_object_object_get_ex(j->header, "typ", &v)) {
                const char *typ = clean_string(v, 16);
                if (!typ || (strcasecmp(typ, "JWT") != 0 && strcasecmp(typ, "at+jwt") != 0))
                        return deny(err, "typ", "typ is neither JWT nor at+jwt");
        }
        /* Nothing here understands extensions that the issuer marked critical. */
        if (json_object_object_get_ex(j->header, "crit", NULL))
                return deny(err, "crit", "critical header extensions are not supported");
        /* jku, x5u, jwk and x5c would let the token choose its own key; they are ignored. */
        j->kid = member_string(j->header, "kid", KID_MAX);
        if (!j->kid || !*j->kid)
                return deny(err, "kid", "no usable kid in the header");
        return 0;
}

static int jws_parse(const char *token, size_t len, struct jws *ret, struct gx_error *err)
{
        _cleanup_(jws_done) struct jws j = {};
        _cleanup_free_ unsigned char *raw = NULL;
        size_t raw_len;
        const char *why;

        while (len > 0 && is_json_space(token[0]))
                token++, len--;
        while (len > 0 && is_json_space(token[len - 1]))
                len--;
        if (len == 0)
                return deny(err, "format", "empty token");
        if (len > CRED_TOKEN_MAX_BYTES)
                return deny(err, "format", "longer than %d bytes", CRED_TOKEN_MAX_BYTES);

        const char *dot[2] = {NULL, NULL};
        size_t parts = 1;
        for (size_t i = 0; i < len; i++)
                if (token[i] == '.') {
                        if (parts <= 2)
                                dot[parts - 1] = token + i;
                        parts++;
                }
        if (parts != 3)
                return deny(err, "format", "not a compact JWS: %zu parts instead of 3", parts);

        int r = jws_parse_header(&j, token, (size_t)(dot[0] - token), err);
        if (r < 0)
                return r;

        const char *p = dot[0] + 1;
        if (b64url_decode(p, (size_t)(dot[1] - p), &raw, &raw_len) < 0)
                return deny(err, "format", "payload is not strict base64url");
        if (json_parse_object((const char *)raw, raw_len, &j.payload, &why) < 0)
                return deny(err, "format", "payload: %s", why);
        j.iss = member_string(j.payload, "iss", GX_TOKEN_STR_MAX - 1);
        if (!j.iss || !*j.iss)
                return deny(err, "iss", "no usable iss claim");

        const char *s = dot[1] + 1;
        if (b64url_decode(s, (size_t)(token + len - s), &j.sig, &j.sig_len) < 0)
                return deny(err, "format", "signature is not strict base64url");
        j.signing_input = token;
        j.signing_input_len = (size_t)(dot[1] - token);
        *ret = j;
        j = (struct jws){};
        return 0;
}

/* --- token-issuers file ------------------------------------------------------------------ */

struct issuer_line {
        const char *iss;
        const char *jwks_path;
};

struct issuers {
        char *buf;
        struct issuer_line *v;
        size_t n;
};

static void issuers_done(struct issuers *l)
{
        free(l->buf);
        free(l->v);
}

/* Lines of `"<issuer URL>" <absolute JWKS path>`, '#' comments. Errors name the line. */
static int issuers_parse(const char *text, size_t len, struct issuers *ret, struct gx_error *err)
{
        _cleanup_(issuers_done) struct issuers l = {};
        unsigned lineno = 0;

        if (len > CRED_TOKEN_ISSUERS_MAX_BYTES)
                return gx_fail(err, GX_SYSTEM, 0, "larger than %d bytes",
                               CRED_TOKEN_ISSUERS_MAX_BYTES);
        if (memchr(text, '\0', len))
                return gx_fail(err, GX_SYSTEM, 0, "holds a NUL byte");
        l.buf = strndup(text, len);
        if (!l.buf)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "token issuers");

        for (char *line = l.buf, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;
                char *p = gx_strstrip(line);
                if (*p == '\0' || *p == '#')
                        continue;
                if (*p != '"')
                        return gx_fail(err, GX_SYSTEM, 0, "line %u: expected a quoted issuer URL",
                                       lineno);
                char *iss = p + 1, *q = strchr(iss, '"');
                if (!q)
                        return gx_fail(err, GX_SYSTEM, 0, "line %u: unterminated quote", lineno);
                *q = '\0';
                size_t iss_len = strlen(iss);
                if (iss_len == 0 || iss_len >= GX_TOKEN_STR_MAX || has_control(iss, iss_len))
                        return gx_fail(err, GX_SYSTEM, 0,
                                       "line %u: issuer URL empty, too long or not printable",
                                       lineno);
                char *path = q + 1;
                if (*path != ' ' && *path != '\t')
                        return gx_fail(err, GX_SYSTEM, 0,
                                       "line %u: expected a JWKS path after the issuer", lineno);
                path += strspn(path, " \t");
                if (*path != '/')
                        return gx_fail(err, GX_SYSTEM, 0,
                                       "line %u: the JWKS path must be absolute", lineno);
                size_t path_len = strcspn(path, " \t");
                if (path[path_len] != '\0' || has_control(path, path_len))
                        return gx_fail(err, GX_SYSTEM, 0, "line %u: text after the JWKS path",
                                       lineno);
                for (size_t i = 0; i < l.n; i++)
                        if (strcmp(l.v[i].iss, iss) == 0)
                                return gx_fail(err, GX_SYSTEM, 0, "line %u: issuer listed twice",
                                               lineno);
                struct issuer_line *nv = reallocarray(l.v, l.n + 1, sizeof(*nv));
                if (!nv)
                        return gx_fail(err, GX_SYSTEM, ENOMEM, "token issuers");
                l.v = nv;
                l.v[l.n++] = (struct issuer_line){iss, path};
        }
        *ret = l;
        l = (struct issuers){};
        return 0;
}

int cred_token_issuers_lookup(const char *text, size_t len, const char *iss,
                              char **ret_jwks_path, struct gx_error *err)
{
        _cleanup_(issuers_done) struct issuers l = {};
        char esc[ESC_MAX];

        int r = issuers_parse(text, len, &l, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++)
                if (strcmp(l.v[i].iss, iss) == 0) {
                        char *path = strdup(l.v[i].jwks_path);
                        if (!path)
                                return gx_fail(err, GX_SYSTEM, ENOMEM, "token issuers");
                        *ret_jwks_path = path;
                        return 0;
                }
        return deny(err, "iss", "issuer \"%s\" is not trusted", escape(esc, iss));
}

/* --- JWKS and keys ------------------------------------------------------------------------ */

/* A key set: a strict JSON object whose "keys" array holds objects with distinct kids. A
 * broken key set is the site's problem (202), not the token's. */
static int jwks_parse(const char *text, size_t len, const char *name, struct json_object **ret,
                      struct gx_error *err)
{
        _cleanup_(json_putp) struct json_object *o = NULL;
        const char *why;
        struct json_object *keys;

        if (len > CRED_TOKEN_JWKS_MAX_BYTES)
                return gx_fail(err, GX_SYSTEM, 0, "%s is larger than %d bytes", name,
                               CRED_TOKEN_JWKS_MAX_BYTES);
        if (json_parse_object(text, len, &o, &why) < 0)
                return gx_fail(err, GX_SYSTEM, 0, "%s: %s", name, why);
        if (!json_object_object_get_ex(o, "keys", &keys) ||
            !json_object_is_type(keys, json_type_array))
                return gx_fail(err, GX_SYSTEM, 0, "%s: no \"keys\" array", name);
        size_t n = json_object_array_length(keys);
        if (n > JWKS_MAX_KEYS)
                return gx_fail(err, GX_SYSTEM, 0, "%s: more than %d keys", name, JWKS_MAX_KEYS);
        for (size_t i = 0; i < n; i++) {
                struct json_object *k = json_object_array_get_idx(keys, i), *kid;
                if (!json_object_is_type(k, json_type_object))
                        return gx_fail(err, GX_SYSTEM, 0, "%s: key %zu is not an object", name, i);
                if (!json_object_object_get_ex(k, "kid", &kid))
                        continue;
                const char *s = clean_string(kid, KID_MAX);
                if (!s)
                        return gx_fail(err, GX_SYSTEM, 0, "%s: key %zu has an unusable kid", name,
                                       i);
                for (size_t j = 0; j < i; j++) {
                        const char *other = member_string(json_object_array_get_idx(keys, j),
                                                          "kid", KID_MAX);
                        if (other && strcmp(other, s) == 0)
                                return gx_fail(err, GX_SYSTEM, 0,
                                               "%s: keys %zu and %zu have the same kid", name, j,
                                               i);
                }
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static struct json_object *jwks_find(struct json_object *jwks, const char *kid)
{
        struct json_object *keys = json_object_object_get(jwks, "keys");
        size_t n = json_object_array_length(keys);

        for (size_t i = 0; i < n; i++) {
                struct json_object *k = json_object_array_get_idx(keys, i);
                const char *s = member_string(k, "kid", KID_MAX);
                if (s && strcmp(s, kid) == 0)
                        return k;
        }
        return NULL;
}

static int jwk_bytes(struct json_object *jwk, const char *name, unsigned char **ret,
                     size_t *ret_len)
{
        struct json_object *v;
        if (!json_object_object_get_ex(jwk, name, &v) || !json_object_is_type(v, json_type_string))
                return -ENOENT;
        return b64url_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                             ret, ret_len);
}

static int pkey_fromdata(const char *type, OSSL_PARAM *params, EVP_PKEY **ret)
{
        _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        EVP_PKEY *pkey = NULL;

        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
                return -EINVAL;
        *ret = pkey;
        return 0;
}

static int jwk_rsa(struct json_object *jwk, const char *kid, EVP_PKEY **ret, struct gx_error *err)
{
        _cleanup_free_ unsigned char *n = NULL, *e = NULL;
        size_t n_len, e_len;

        if (jwk_bytes(jwk, "n", &n, &n_len) < 0 || jwk_bytes(jwk, "e", &e, &e_len) < 0)
                return gx_fail(err, GX_SYSTEM, 0, "JWKS key \"%s\": bad RSA \"n\" or \"e\"", kid);
        _cleanup_(bn_freep) BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
        _cleanup_(bn_freep) BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
        if (!bn_n || !bn_e)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "JWKS key \"%s\"", kid);
        int bits = BN_num_bits(bn_n);
        if (bits < RSA_MIN_BITS)
                return deny(err, "key", "RSA key \"%s\" has %d bits, fewer than %d", kid, bits,
                            RSA_MIN_BITS);
        if (bits > RSA_MAX_BITS)
                return gx_fail(err, GX_SYSTEM, 0, "JWKS key \"%s\": RSA modulus above %d bits",
                               kid, RSA_MAX_BITS);
        /* e = 1 would make every message its own signature. */
        if (e_len > RSA_MAX_EXPONENT_BYTES || !BN_is_odd(bn_e) || BN_num_bits(bn_e) < 2)
                return gx_fail(err, GX_SYSTEM, 0, "JWKS key \"%s\": unusable RSA exponent", kid);

        _cleanup_(param_bld_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(params_freep) OSSL_PARAM *params = NULL;
        if (!bld || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
            !(params = OSSL_PARAM_BLD_to_param(bld)) || pkey_fromdata("RSA", params, ret) < 0)
                return gx_fail(err, GX_SYSTEM, 0, "JWKS key \"%s\": OpenSSL refuses the RSA key",
                               kid);
        return 0;
}

static int jwk_ec(struct json_object *jwk, const char *kid, EVP_PKEY **ret, struct gx_error *err)
{
        _cleanup_free_ unsigned char *x = NULL, *y = NULL;
        size_t x_len, y_len;
        unsigned char point[1 + 2 * EC_COORD_BYTES];

        const char *crv = member_string(jwk, "crv", 16);
        if (!crv || strcmp(crv, "P-256") != 0)
                return deny(err, "key", "key \"%s\" is not on curve P-256", kid);
        if (jwk_bytes(jwk, "x", &x, &x_len) < 0 || jwk_bytes(jwk, "y", &y, &y_len) < 0 ||
            x_len != EC_COORD_BYTES || y_len != EC_COORD_BYTES)
                return gx_fail(err, GX_SYSTEM, 0, "JWKS key \"%s\": bad EC \"x\" or \"y\"", kid);
        point[0] = POINT_CONVERSION_UNCOMPRESSED;
        memcpy(point + 1, x, EC_COORD_BYTES);
        memcpy(point + 1 + EC_COORD_BYTES, y, EC_COORD_BYTES);
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1",
                                                 0),
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
                OSSL_PARAM_construct_end(),
        };
        _cleanup_(pkey_freep) EVP_PKEY *pkey = NULL;
        if (pkey_fromdata("EC", params, &pkey) < 0)
                return gx_fail(err, GX_SYSTEM, 0, "JWKS key \"%s\": OpenSSL refuses the EC key",
                               kid);
        /* Whatever fromdata checked: the point must be on the curve and not at infinity. The
         * quick check skips the n*Q = O test, which P-256 (cofactor 1) does not need and which
         * would cost a third of the verification time. */
        _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!ctx || EVP_PKEY_public_check_quick(ctx) != 1)
                return gx_fail(err, GX_SYSTEM, 0, "JWKS key \"%s\": EC point not on P-256", kid);
        *ret = TAKE_PTR(pkey);
        return 0;
}

/* The verification key for the header's alg: its kty, and its alg and use if given, must
 * agree, or an RSA key could be fed to another algorithm. */
static int jwk_key(struct json_object *jwk, enum jws_alg alg, const char *kid, EVP_PKEY **ret,
                   struct gx_error *err)
{
        struct json_object *v;

        if (json_object_object_get_ex(jwk, "use", &v)) {
                const char *use = clean_string(v, 16);
                if (!use || strcmp(use, "sig") != 0)
                        return deny(err, "key", "key \"%s\" is not a signing key", kid);
        }
        if (json_object_object_get_ex(jwk, "alg", &v)) {
                const char *key_alg = clean_string(v, 16);
                if (!key_alg || strcmp(key_alg, alg_names[alg]) != 0)
                        return deny(err, "key", "key \"%s\" is not for %s", kid, alg_names[alg]);
        }
        const char *kty = member_string(jwk, "kty", 16);
        const char *want = alg == ALG_RS256 ? "RSA" : "EC";
        if (!kty || strcmp(kty, want) != 0)
                return deny(err, "key", "key \"%s\" is not of type %s as %s needs", kid, want,
                            alg_names[alg]);
        return alg == ALG_RS256 ? jwk_rsa(jwk, kid, ret, err) : jwk_ec(jwk, kid, ret, err);
}

static int jws_check_signature(const struct jws *j, EVP_PKEY *pkey, const char *kid,
                               struct gx_error *err)
{
        const unsigned char *sig = j->sig;
        size_t sig_len = j->sig_len;
        _cleanup_(openssl_freep) unsigned char *der = NULL;

        if (j->alg == ALG_ES256) {
                /* JWS carries R || S (RFC 7518 section 3.4) where OpenSSL wants DER. A DER
                 * signature in a token is malformed, not an alternative spelling. */
                if (sig_len != 2 * EC_COORD_BYTES)
                        return deny(err, "signature", "ES256 signature of %zu bytes, not 64 (R||S)",
                                    sig_len);
                _cleanup_(ecdsa_sig_freep) ECDSA_SIG *es = ECDSA_SIG_new();
                BIGNUM *r = BN_bin2bn(sig, EC_COORD_BYTES, NULL);
                BIGNUM *s = BN_bin2bn(sig + EC_COORD_BYTES, EC_COORD_BYTES, NULL);
                if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
                        BN_free(r);
                        BN_free(s);
                        return gx_fail(err, GX_SYSTEM, ENOMEM, "ECDSA signature");
                }
                int n = i2d_ECDSA_SIG(es, &der);
                if (n <= 0)
                        return gx_fail(err, GX_SYSTEM, ENOMEM, "ECDSA signature");
                sig = der;
                sig_len = (size_t)n;
        } else if (sig_len != (size_t)EVP_PKEY_get_size(pkey)) {
                return deny(err, "signature", "RS256 signature of %zu bytes for a %d-byte key",
                            sig_len, EVP_PKEY_get_size(pkey));
        }

        _cleanup_(md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) != 1)
                return gx_fail(err, GX_SYSTEM, 0, "OpenSSL cannot verify SHA-256 signatures");
        if (EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)j->signing_input,
                             j->signing_input_len) != 1)
                return deny(err, "signature", "does not verify with key \"%s\"", kid);
        return 0;
}

/* --- claims ------------------------------------------------------------------------------ */

/* A NumericDate. WLCG issuers write integers, and so must tokens here. */
static int claim_time(struct json_object *payload, const char *name, bool *present, int64_t *ret,
                      struct gx_error *err)
{
        struct json_object *v;

        *present = json_object_object_get_ex(payload, name, &v);
        if (!*present)
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return deny(err, name, "not an integer");
        int64_t t = json_object_get_int64(v);
        if (t < 0 || t > TIME_MAX)
                return deny(err, name, "out of range");
        *ret = t;
        return 0;
}

static int check_times(struct json_object *payload, const struct cred_token_policy *policy,
                       int64_t *ret_exp, struct gx_error *err)
{
        /* Both bounded (TIME_MAX, CRED_TOKEN_MAX_CLOCK_SKEW): the sums cannot overflow. */
        int64_t skew = (int64_t)policy->clock_skew, now = policy->now, exp = 0, nbf = 0, iat = 0;
        bool present;

        int r = claim_time(payload, "exp", &present, &exp, err);
        if (r < 0)
                return r;
        if (!present)
                return deny(err, "exp", "no exp claim");
        if (exp + skew <= now)
                return deny(err, "exp", "expired %" PRId64 " s ago", now - exp);
        r = claim_time(payload, "nbf", &present, &nbf, err);
        if (r < 0)
                return r;
        if (present && nbf - skew > now)
                return deny(err, "nbf", "not valid for another %" PRId64 " s", nbf - now);
        r = claim_time(payload, "iat", &present, &iat, err);
        if (r < 0)
                return r;
        if (present && iat - skew > now)
                return deny(err, "iat", "issued %" PRId64 " s in the future", iat - now);
        *ret_exp = exp;
        return 0;
}

static bool audience_ok(const char *aud, const struct cred_token_policy *policy)
{
        if (policy->accept_any_audience && strcmp(aud, CRED_TOKEN_ANY_AUDIENCE) == 0)
                return true;
        return gx_strv_contains(policy->audiences, aud);
}

static int check_audience(struct json_object *payload, const struct cred_token_policy *policy,
                          struct gx_error *err)
{
        struct json_object *v;
        bool ok = false;

        if (!json_object_object_get_ex(payload, "aud", &v))
                return deny(err, "aud", "no aud claim");
        if (json_object_is_type(v, json_type_string)) {
                ok = audience_ok(json_object_get_string(v), policy);
        } else if (json_object_is_type(v, json_type_array)) {
                size_t n = json_object_array_length(v);
                for (size_t i = 0; i < n; i++) {
                        struct json_object *a = json_object_array_get_idx(v, i);
                        if (!json_object_is_type(a, json_type_string))
                                return deny(err, "aud", "aud array holds a non-string");
                        ok = ok || audience_ok(json_object_get_string(a), policy);
                }
        } else {
                return deny(err, "aud", "aud is neither a string nor an array");
        }
        if (!ok)
                return deny(err, "aud", "not meant for this host");
        return 0;
}

/* wlcg.ver is "MAJOR.MINOR": major 1 is understood, newer minors are compatible. */
static bool version_ok(const char *v)
{
        if (!v || strncmp(v, "1.", 2) != 0)
                return false;
        size_t digits = strspn(v + 2, "0123456789");
        return digits >= 1 && digits <= 9 && v[2 + digits] == '\0';
}

/* Whether one scope of the token grants the required one. WLCG profile 2.2.1: "$AUTHZ:$PATH"
 * limits an authorization to PATH and what lies below it. A required scope without a path
 * (compute.create) is met only by the same bare scope: the profile defines no paths for
 * compute scopes, so a limited one ("compute.create:/x", even ":/") is never read as the
 * whole authorization. */
static bool scope_grants(const char *have, size_t have_len, const char *want)
{
        const char *colon = strchr(want, ':');
        if (!colon)
                return have_len == strlen(want) && memcmp(have, want, have_len) == 0;

        size_t authz_len = (size_t)(colon - want) + 1;
        const char *path = colon + 1;
        size_t path_len = strlen(path);
        if (have_len <= authz_len || memcmp(have, want, authz_len) != 0)
                return false;
        const char *hpath = have + authz_len;
        size_t hpath_len = have_len - authz_len;
        if (hpath[0] != '/' || hpath_len > path_len || memcmp(hpath, path, hpath_len) != 0)
                return false;
        return hpath_len == path_len || hpath[hpath_len - 1] == '/' || path[hpath_len] == '/';
}

static int check_scopes(struct json_object *payload, const struct cred_token_policy *policy,
                        struct gx_error *err)
{
        struct json_object *v;
        const char *scope = NULL;
        char esc[ESC_MAX];

        if (json_object_object_get_ex(payload, "scope", &v)) {
                scope = clean_string(v, CRED_TOKEN_MAX_BYTES);
                if (!scope)
                        return deny(err, "scope", "scope is not a clean string");
        }
        for (char *const *want = policy->required_scopes; want && *want; want++) {
                bool found = false;
                for (const char *p = scope; p && *p && !found;) {
                        size_t n = strcspn(p, " ");
                        found = n > 0 && scope_grants(p, n, *want);
                        p += n + (p[n] == ' ');
                }
                if (!found)
                        return deny(err, "scope", "no scope grants \"%s\"", escape(esc, *want));
        }
        return 0;
}

static int check_groups(struct json_object *payload, const char *ret[static GX_MAX_FQANS],
                        size_t *ret_n, struct gx_error *err)
{
        struct json_object *v;

        *ret_n = 0;
        if (!json_object_object_get_ex(payload, "wlcg.groups", &v))
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return deny(err, "wlcg.groups", "not an array");
        size_t n = json_object_array_length(v);
        if (n > GX_MAX_FQANS)
                return deny(err, "wlcg.groups", "more than %d groups", GX_MAX_FQANS);
        for (size_t i = 0; i < n; i++) {
                const char *g = clean_string(json_object_array_get_idx(v, i), GX_FQAN_MAX - 1);
                if (!g || g[0] != '/')
                        return deny(err, "wlcg.groups",
                                    "group %zu is not a clean \"/vo...\" string", i);
                ret[i] = g;
        }
        *ret_n = n;
        return 0;
}

static int check_claims(const struct jws *j, const struct cred_token_policy *policy,
                        struct gx_identity *ret, struct gx_error *err)
{
        int64_t exp;
        const char *groups[GX_MAX_FQANS];
        size_t n_groups;

        int r = check_times(j->payload, policy, &exp, err);
        if (r < 0)
                return r;
        r = check_audience(j->payload, policy, err);
        if (r < 0)
                return r;
        if (!version_ok(member_string(j->payload, "wlcg.ver", 16)))
                return deny(err, "wlcg.ver", "not a WLCG profile 1.x token");
        r = check_scopes(j->payload, policy, err);
        if (r < 0)
                return r;
        const char *sub = member_string(j->payload, "sub", SUB_MAX);
        if (!sub || !*sub)
                return deny(err, "sub", "no sub of 1 to %d clean characters", SUB_MAX);
        for (const char *p = sub; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        return deny(err, "sub", "sub is not ASCII");
        r = check_groups(j->payload, groups, &n_groups, err);
        if (r < 0)
                return r;

        /* Every length was bounded above, so the copies cannot truncate. */
        memset(ret, 0, sizeof(*ret));
        ret->kind = GX_CRED_TOKEN;
        gx_strlcpy(ret->token_iss, j->iss, sizeof(ret->token_iss));
        gx_strlcpy(ret->token_sub, sub, sizeof(ret->token_sub));
        for (size_t i = 0; i < n_groups; i++)
                gx_strlcpy(ret->token_groups[i], groups[i], sizeof(ret->token_groups[i]));
        ret->n_token_groups = n_groups;
        ret->not_after = exp;
        return 0;
}

/* --- entry points ------------------------------------------------------------------------ */

static int check_policy(const struct cred_token_policy *policy, struct gx_error *err)
{
        if (policy->clock_skew > CRED_TOKEN_MAX_CLOCK_SKEW)
                return gx_fail(err, GX_SYSTEM, 0, "token_clock_skew %" PRIu64 " is above %d s",
                               policy->clock_skew, CRED_TOKEN_MAX_CLOCK_SKEW);
        return 0;
}

/* Everything after the issuer is known: its key set, the key, the signature, the claims. */
static int jws_finish(const struct jws *j, const char *jwks_text, size_t jwks_len,
                      const char *jwks_name, const struct cred_token_policy *policy,
                      struct gx_identity *ret, struct gx_error *err)
{
        _cleanup_(json_putp) struct json_object *jwks = NULL;
        _cleanup_(pkey_freep) EVP_PKEY *pkey = NULL;
        char kid[ESC_MAX];

        escape(kid, j->kid);
        int r = jwks_parse(jwks_text, jwks_len, jwks_name, &jwks, err);
        if (r < 0)
                return r;
        struct json_object *jwk = jwks_find(jwks, j->kid);
        if (!jwk)
                return deny(err, "kid", "the issuer has no key \"%s\"", kid);
        r = jwk_key(jwk, j->alg, kid, &pkey, err);
        if (r < 0)
                return r;
        r = jws_check_signature(j, pkey, kid, err);
        if (r < 0)
                return r;
        /* Claims only now: before the signature they are anyone's words. */
        return check_claims(j, policy, ret, err);
}

int cred_token_verify_with(const char *token, size_t len, const struct cred_token_policy *policy,
                           const struct cred_token_issuer *issuers, size_t n_issuers,
                           struct gx_identity *ret, struct gx_error *err)
{
        _cleanup_(jws_done) struct jws j = {};
        char esc[ESC_MAX], name[ESC_MAX + 16];

        int r = check_policy(policy, err);
        if (r >= 0)
                r = jws_parse(token, len, &j, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_issuers; i++)
                if (strcmp(issuers[i].iss, j.iss) == 0) {
                        snprintf(name, sizeof(name), "JWKS of %s", escape(esc, j.iss));
                        r = jws_finish(&j, issuers[i].jwks, issuers[i].jwks_len, name, policy, ret,
                                       err);
                        ERR_clear_error();
                        return r;
                }
        return deny(err, "iss", "issuer \"%s\" is not trusted", escape(esc, j.iss));
}

static int read_trusted(const char *path, size_t max, const char *what, char **ret,
                        size_t *ret_len, struct gx_error *err)
{
        struct stat st;

        if (!path || !*path)
                return gx_fail(err, GX_SYSTEM, 0, "no %s is configured", what);
        /* O_NONBLOCK: a FIFO must not hang the launcher; it is refused below. */
        _cleanup_close_ int fd = gx_open_trusted(path, O_RDONLY | O_NONBLOCK, err);
        if (fd < 0) {
                gx_error_prefix(err, "%s", what);
                return fd;
        }
        if (fstat(fd, &st) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "%s %s", what, path);
        if (!S_ISREG(st.st_mode))
                return gx_fail(err, GX_SYSTEM, 0, "%s %s is not a regular file", what, path);
        int r = gx_read_all(fd, max, ret, ret_len);
        if (r == -EFBIG)
                return gx_fail(err, GX_SYSTEM, 0, "%s %s is larger than %zu bytes", what, path,
                               max);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s %s", what, path);
        return 0;
}

int cred_token_verify(const char *token, size_t len, const struct cred_token_policy *policy,
                      struct gx_identity *ret, char *jwks_used, struct gx_error *err)
{
        _cleanup_(jws_done) struct jws j = {};
        _cleanup_free_ char *issuers = NULL, *jwks_path = NULL, *jwks = NULL;
        size_t issuers_len, jwks_len;

        int r = check_policy(policy, err);
        if (r >= 0)
                r = jws_parse(token, len, &j, err);
        if (r >= 0)
                r = read_trusted(policy->issuers_file, CRED_TOKEN_ISSUERS_MAX_BYTES,
                                 "token issuers file", &issuers, &issuers_len, err);
        if (r < 0)
                return r;
        r = cred_token_issuers_lookup(issuers, issuers_len, j.iss, &jwks_path, err);
        if (r < 0) {
                if (err && err->class == GX_SYSTEM)
                        gx_error_prefix(err, "token issuers file %s", policy->issuers_file);
                return r;
        }
        r = read_trusted(jwks_path, CRED_TOKEN_JWKS_MAX_BYTES, "JWKS file", &jwks, &jwks_len, err);
        if (r < 0)
                return r;
        r = jws_finish(&j, jwks, jwks_len, jwks_path, policy, ret, err);
        ERR_clear_error();
        if (r >= 0 && jwks_used)
                gx_strlcpy(jwks_used, jwks_path, PATH_MAX);
        return r;
}

int cred_token_check_issuers(const char *issuers_file, struct gx_error *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(issuers_done) struct issuers l = {};
        size_t len;

        int r = read_trusted(issuers_file, CRED_TOKEN_ISSUERS_MAX_BYTES, "token issuers file",
                             &text, &len, err);
        if (r < 0)
                return r;
        r = issuers_parse(text, len, &l, err);
        if (r < 0) {
                gx_error_prefix(err, "token issuers file %s", issuers_file);
                return r;
        }
        for (size_t i = 0; i < l.n; i++) {
                _cleanup_free_ char *jwks = NULL;
                _cleanup_(json_putp) struct json_object *o = NULL;
                size_t jwks_len;
                r = read_trusted(l.v[i].jwks_path, CRED_TOKEN_JWKS_MAX_BYTES, "JWKS file", &jwks,
                                 &jwks_len, err);
                if (r < 0)
                        return r;
                r = jwks_parse(jwks, jwks_len, l.v[i].jwks_path, &o, err);
                if (r < 0)
                        return r;
        }
        return (int)l.n;
}
