/* WLCG token verification against the tokens of tests/fixtures/make-tokens.sh: every verdict
 * of expect.tsv, the policy knobs (clock skew, audiences, any-audience, required scopes), key
 * sets and issuers files, and agreement with PyJWT (tests/fixtures/pyjwt-verify.py) on every
 * fixture when python3-jwt is installed. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "mapping/token.h"
#include "test.h"

#define RSA_ISS "https://issuer.example/rsa"
#define EC_ISS "https://issuer.example/ec"
#define ALICE "alice-7f2a9c1e"
#define BOB "bob-b81d44e0"
#define MAX_FIXTURES 128

static char dir[] = "/tmp/gx-test-token-XXXXXX";
static char *jwks_rsa, *jwks_ec;
static struct cred_token_issuer issuers[2];
static int64_t made_at;

static char wn01[] = "https://wn01.example", other[] = "https://other.example";
static char compute_create[] = "compute.create";
static char *const default_audiences[] = {wn01, NULL};
static char *const default_scopes[] = {compute_create, NULL};

struct fixture {
        char name[64];
        bool ok;
        char sub[300];
        char iss[64];
};
static struct fixture fixtures[MAX_FIXTURES];
static size_t n_fixtures;

static struct cred_token_policy default_policy(void)
{
        return (struct cred_token_policy){
                .audiences = default_audiences,
                .accept_any_audience = false,
                .required_scopes = default_scopes,
                .clock_skew = 60,
                .now = made_at,
        };
}

static char *read_path(const char *path, size_t *ret_len)
{
        char *buf = NULL;
        size_t len = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || gx_read_all(fd, 1 << 20, &buf, &len) < 0) {
                fprintf(stderr, "cannot read %s\n", path);
                exit(1);
        }
        close(fd);
        if (ret_len)
                *ret_len = len;
        return buf;
}

static char *read_token(const char *name, size_t *ret_len)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/tokens/%s.jwt", dir, name);
        return read_path(path, ret_len);
}

static int verify_text(const char *token, size_t len, const struct cred_token_policy *policy,
                       struct gx_identity *id, struct gx_error *err)
{
        memset(err, 0, sizeof(*err));
        return cred_token_verify_with(token, len, policy, issuers, ELEMENTSOF(issuers), id, err);
}

static int verify(const char *name, const struct cred_token_policy *policy, struct gx_identity *id,
                  struct gx_error *err)
{
        size_t len;
        char *token = read_token(name, &len);
        int r = verify_text(token, len, policy, id, err);
        free(token);
        return r;
}

/* Whether name passes policy; on a refusal checks the error class and that the message
 * quotes no part of the token. */
static bool passes(const char *name, const struct cred_token_policy *policy)
{
        struct gx_identity id;
        struct gx_error err;
        size_t len;
        char *token = read_token(name, &len);
        int r = verify_text(token, len, policy, &id, &err);
        if (r < 0) {
                CHECK(err.class == GX_AUTHZ);
                for (const char *seg = token; *seg; seg += strcspn(seg, "."), seg += *seg == '.')
                        if (strcspn(seg, ".") >= 16) {
                                char probe[17];
                                memcpy(probe, seg, 16);
                                probe[16] = '\0';
                                CHECK(!strstr(err.msg, probe) && !strstr(err.public_msg, probe));
                        }
        }
        free(token);
        return r == 0;
}

static void load_fixtures(void)
{
        char cmd[1024], path[512];

        snprintf(cmd, sizeof(cmd), "bash '%s/tests/fixtures/make-tokens.sh' '%s'", GX_SOURCE_DIR,
                 dir);
        if (system(cmd) != 0) {
                fprintf(stderr, "make-tokens.sh failed\n");
                exit(1);
        }
        snprintf(path, sizeof(path), "%s/now", dir);
        char *now = read_path(path, NULL);
        made_at = strtoll(now, NULL, 10);
        free(now);

        size_t rsa_len, ec_len;
        snprintf(path, sizeof(path), "%s/jwks-rsa.json", dir);
        jwks_rsa = read_path(path, &rsa_len);
        snprintf(path, sizeof(path), "%s/jwks-ec.json", dir);
        jwks_ec = read_path(path, &ec_len);
        issuers[0] = (struct cred_token_issuer){RSA_ISS, jwks_rsa, rsa_len};
        issuers[1] = (struct cred_token_issuer){EC_ISS, jwks_ec, ec_len};

        snprintf(path, sizeof(path), "%s/expect.tsv", dir);
        char *expect = read_path(path, NULL);
        for (char *line = strtok(expect, "\n"); line; line = strtok(NULL, "\n")) {
                if (line[0] == '#')
                        continue;
                struct fixture *f = &fixtures[n_fixtures++];
                char verdict[8];
                if (n_fixtures > MAX_FIXTURES ||
                    sscanf(line, "%63[^\t]\t%7[^\t]\t%299[^\t]\t%63s", f->name, verdict, f->sub,
                           f->iss) != 4) {
                        fprintf(stderr, "bad expect.tsv line: %s\n", line);
                        exit(1);
                }
                f->ok = strcmp(verdict, "ok") == 0;
        }
        free(expect);
}

static void test_expectations(void)
{
        struct cred_token_policy policy = default_policy();

        for (size_t i = 0; i < n_fixtures; i++) {
                const struct fixture *f = &fixtures[i];
                struct gx_identity id;
                struct gx_error err;
                int r = verify(f->name, &policy, &id, &err);
                if ((r == 0) != f->ok)
                        fprintf(stderr, "%s: expected %s, got %s\n", f->name,
                                f->ok ? "ok" : "deny", r == 0 ? "ok" : err.msg);
                CHECK((r == 0) == f->ok);
                if (r == 0 && f->ok) {
                        CHECK(id.kind == GX_CRED_TOKEN);
                        CHECK_STREQ(id.token_sub, f->sub);
                        CHECK_STREQ(id.token_iss, f->iss);
                }
                CHECK(passes(f->name, &policy) == f->ok);
        }
        CHECK(n_fixtures >= 58);
}

static void test_claims(void)
{
        struct cred_token_policy policy = default_policy();
        struct gx_identity id;
        struct gx_error err;

        CHECK(verify("good_rs256", &policy, &id, &err) == 0);
        CHECK(id.kind == GX_CRED_TOKEN);
        CHECK_STREQ(id.token_iss, RSA_ISS);
        CHECK_STREQ(id.token_sub, ALICE);
        CHECK(id.n_token_groups == 2);
        CHECK_STREQ(id.token_groups[0], "/atlas");
        CHECK_STREQ(id.token_groups[1], "/atlas/production");
        CHECK(id.not_after == made_at + 3600);
        CHECK(id.dn[0] == '\0' && id.n_fqans == 0);

        CHECK(verify("good_es256", &policy, &id, &err) == 0);
        CHECK_STREQ(id.token_iss, EC_ISS);
        CHECK_STREQ(id.token_sub, BOB);
        CHECK(id.n_token_groups == 2);

        CHECK(verify("good_minimal", &policy, &id, &err) == 0);
        CHECK(id.n_token_groups == 0);

        /* The refusals name their check. */
        CHECK(verify("expired", &policy, &id, &err) < 0);
        CHECK(err.class == GX_AUTHZ && strstr(err.public_msg, "exp"));
        CHECK(verify("hs256_with_rsa_pubkey", &policy, &id, &err) < 0);
        CHECK(strstr(err.public_msg, "alg"));
        CHECK(verify("es256_der_signature", &policy, &id, &err) < 0);
        CHECK(strstr(err.public_msg, "signature"));
        CHECK(verify("swapped_payload", &policy, &id, &err) < 0);
        CHECK(strstr(err.public_msg, "signature"));
        CHECK(verify("duplicate_key_escaped", &policy, &id, &err) < 0);
        CHECK(strstr(err.msg, "duplicate key"));
        CHECK(verify("kid_kty_mismatch", &policy, &id, &err) < 0);
        CHECK(strstr(err.public_msg, "key"));
        CHECK(verify("rsa_weak_key", &policy, &id, &err) < 0);
        CHECK(strstr(err.msg, "1024 bits"));
        CHECK(verify("unknown_iss", &policy, &id, &err) < 0);
        CHECK(strstr(err.public_msg, "iss"));
        /* The caller sees the check, not the site's policy. */
        CHECK(verify("missing_scope", &policy, &id, &err) < 0);
        CHECK(!strstr(err.public_msg, "compute.create") && strstr(err.msg, "compute.create"));
}

static void test_clock_skew(void)
{
        struct cred_token_policy policy = default_policy();
        int64_t exp = made_at + 3600, nbf = made_at - 60;
        struct gx_identity id;
        struct gx_error err;

        policy.now = exp + 59;
        CHECK(passes("good_rs256", &policy));
        policy.now = exp + 60;
        CHECK(verify("good_rs256", &policy, &id, &err) < 0 && strstr(err.public_msg, "exp"));
        policy.clock_skew = 0;
        policy.now = exp - 1;
        CHECK(passes("good_rs256", &policy));
        policy.now = exp;
        CHECK(!passes("good_rs256", &policy));

        policy.clock_skew = 60;
        policy.now = nbf - 60;
        CHECK(passes("good_rs256", &policy));
        policy.now = nbf - 61;
        CHECK(verify("good_rs256", &policy, &id, &err) < 0 && strstr(err.public_msg, "nbf"));
        /* iat = exp = made_at + 3600 */
        policy.now = made_at + 3540;
        CHECK(passes("iat_future", &policy));
        policy.now = made_at + 3539;
        CHECK(verify("iat_future", &policy, &id, &err) < 0 && strstr(err.public_msg, "iat"));
        /* Without nbf and iat only exp bounds the time. */
        policy.now = made_at - 1000000;
        CHECK(passes("good_minimal", &policy));
        CHECK(!passes("good_rs256", &policy));

        policy.clock_skew = 0;
        CHECK(!passes("good_exp_in_skew", &policy));
        CHECK(!passes("good_nbf_in_skew", &policy));
        policy.now = made_at;
        policy.clock_skew = CRED_TOKEN_MAX_CLOCK_SKEW;
        CHECK(passes("good_rs256", &policy));
        policy.clock_skew = CRED_TOKEN_MAX_CLOCK_SKEW + 1;
        CHECK(verify("good_rs256", &policy, &id, &err) < 0 && err.class == GX_SYSTEM);
}

static void test_audiences(void)
{
        static char a[] = "https://a.example";
        char *const two[] = {a, wn01, NULL}, *const only_a[] = {a, NULL}, *const none[] = {NULL};
        char *const only_other[] = {other, NULL};
        struct cred_token_policy policy = default_policy();

        policy.audiences = two;
        CHECK(passes("good_rs256", &policy));
        policy.audiences = only_a;
        CHECK(!passes("good_rs256", &policy));
        policy.audiences = none;
        CHECK(!passes("good_rs256", &policy));
        policy.audiences = NULL;
        CHECK(!passes("good_rs256", &policy));
        policy.audiences = only_other;
        CHECK(passes("good_aud_array", &policy));
        CHECK(!passes("aud_array_non_string", &policy));

        policy.audiences = default_audiences;
        CHECK(!passes("no_aud_match_any_disabled", &policy));
        policy.accept_any_audience = true;
        CHECK(passes("no_aud_match_any_disabled", &policy));
        CHECK(passes("good_rs256", &policy));
        CHECK(!passes("wrong_aud", &policy));
        policy.audiences = NULL;
        CHECK(passes("no_aud_match_any_disabled", &policy));
        CHECK(!passes("good_rs256", &policy));
}

static void test_scopes(void)
{
        static char compute_read[] = "compute.read", compute_cancel[] = "compute.cancel";
        static char root_create[] = "compute.create:/";
        struct cred_token_policy policy = default_policy();
        struct {
                const char *want;
                bool ok;
        } storage[] = {
                {"storage.read:/atlas", true},
                {"storage.read:/atlas/data/file", true},
                {"storage.read:/atlasx", false},
                {"storage.read:/", false},
                {"storage.read", false},
                {"storage.create:/atlas/out/x", true},
                {"storage.create:/atlas/out", false},
                {"storage.stage:/cms", true},
                {"storage.modify:/atlas", false},
                {"compute.create", true},
                {"compute.create:/", false},
                {"compute", false},
                {"compute.creat", false},
        };

        char *const both[] = {compute_create, compute_read, NULL};
        policy.required_scopes = both;
        CHECK(passes("good_rs256", &policy));
        char *const cancel[] = {compute_cancel, NULL};
        policy.required_scopes = cancel;
        CHECK(!passes("good_rs256", &policy));
        policy.required_scopes = NULL;
        CHECK(passes("missing_scope", &policy));
        CHECK(passes("no_scope", &policy));
        CHECK(passes("scope_with_path", &policy));
        char *const rooted[] = {root_create, NULL};
        policy.required_scopes = rooted;
        CHECK(passes("scope_with_path", &policy));
        CHECK(!passes("good_rs256", &policy));

        for (size_t i = 0; i < ELEMENTSOF(storage); i++) {
                char want[64];
                snprintf(want, sizeof(want), "%s", storage[i].want);
                char *const required[] = {want, NULL};
                policy.required_scopes = required;
                if (passes("good_storage_scopes", &policy) != storage[i].ok)
                        fprintf(stderr, "scope %s: expected %s\n", want,
                                storage[i].ok ? "ok" : "deny");
                CHECK(passes("good_storage_scopes", &policy) == storage[i].ok);
        }
}

static void test_token_text(void)
{
        struct cred_token_policy policy = default_policy();
        struct gx_identity id;
        struct gx_error err;
        size_t len;
        char *token = read_token("good_rs256", &len);
        char *buf = malloc(CRED_TOKEN_MAX_BYTES + 64);

        snprintf(buf, CRED_TOKEN_MAX_BYTES + 64, " \t%s\r\n", token);
        CHECK(verify_text(buf, strlen(buf), &policy, &id, &err) == 0);
        /* Bytes after len are not part of the token. */
        snprintf(buf, CRED_TOKEN_MAX_BYTES + 64, "%sAAAA", token);
        CHECK(verify_text(buf, len, &policy, &id, &err) == 0);
        CHECK(verify_text(buf, len + 4, &policy, &id, &err) < 0);
        snprintf(buf, CRED_TOKEN_MAX_BYTES + 64, "%s", token);
        buf[20] = ' ';
        CHECK(verify_text(buf, len, &policy, &id, &err) < 0);
        CHECK(verify_text("", 0, &policy, &id, &err) < 0 && err.class == GX_AUTHZ);
        CHECK(verify_text("..", 2, &policy, &id, &err) < 0 && err.class == GX_AUTHZ);
        CHECK(verify_text(token, len - 1, &policy, &id, &err) < 0);
        memcpy(buf, token, len);
        buf[len] = '\0';
        buf[len - 5] = '\0';
        CHECK(verify_text(buf, len, &policy, &id, &err) < 0);
        memset(buf, 'A', CRED_TOKEN_MAX_BYTES + 1);
        buf[10] = buf[20] = '.';
        CHECK(verify_text(buf, CRED_TOKEN_MAX_BYTES + 1, &policy, &id, &err) < 0);
        CHECK(strstr(err.msg, "longer than"));
        free(buf);
        free(token);
}

/* good_NAME against the issuers with one JWKS text edited: from -> to. */
static int verify_edited(const char *name, bool ec, const char *from, const char *to,
                         struct gx_error *err)
{
        struct cred_token_policy policy = default_policy();
        const char *orig = ec ? jwks_ec : jwks_rsa;
        const char *at = strstr(orig, from);
        struct gx_identity id;
        char edited[8192];

        if (!at) {
                fprintf(stderr, "JWKS has no %s\n", from);
                return 1;
        }
        snprintf(edited, sizeof(edited), "%.*s%s%s", (int)(at - orig), orig, to, at + strlen(from));
        struct cred_token_issuer edited_issuers[2] = {issuers[0], issuers[1]};
        edited_issuers[ec] = (struct cred_token_issuer){ec ? EC_ISS : RSA_ISS, edited,
                                                        strlen(edited)};
        size_t len;
        char *token = read_token(name, &len);
        memset(err, 0, sizeof(*err));
        int r = cred_token_verify_with(token, len, &policy, edited_issuers, 2, &id, err);
        free(token);
        return r;
}

static void test_key_sets(void)
{
        struct gx_error err;

        CHECK(verify_edited("good_rs256", false, "\"use\":\"sig\"", "\"use\":\"sig\"", &err) == 0);
        CHECK(verify_edited("good_rs256", false, "\"alg\":\"RS256\"", "\"alg\":\"RS512\"",
                            &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        CHECK(verify_edited("good_rs256", false, "\"use\":\"sig\"", "\"use\":\"enc\"", &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        CHECK(verify_edited("good_rs256", false, "\"kty\":\"RSA\"", "\"kty\":\"EC\"", &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        CHECK(verify_edited("good_rs256", false, "\"kid\":\"rsa-weak\"", "\"kid\":\"rsa-1\"",
                            &err) < 0);
        CHECK(err.class == GX_SYSTEM && strstr(err.msg, "same kid"));
        CHECK(verify_edited("good_rs256", false, "\"e\":\"AQAB\"", "\"e\":\"AQ\"", &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        CHECK(verify_edited("good_rs256", false, "\"e\":\"AQAB\"", "\"e\":\"AQAB=\"", &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        CHECK(verify_edited("good_rs256", false, "{\"keys\":[", "{\"keys\":[1,", &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        CHECK(verify_edited("good_rs256", false, "{\"keys\":", "{\"keys\":{},\"keys\":", &err) < 0);
        CHECK(err.class == GX_SYSTEM && strstr(err.msg, "duplicate key"));
        CHECK(verify_edited("good_rs256", false, "{\"keys\":", "{\"kees\":", &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        CHECK(verify_edited("good_rs256", false, "]}", "]", &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        CHECK(verify_edited("good_es256", true, "\"crv\":\"P-256\"", "\"crv\":\"P-384\"",
                            &err) < 0);
        CHECK(err.class == GX_AUTHZ);
        CHECK(verify_edited("good_es256", true, "\"x\":\"", "\"x\":\"AAAA", &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        /* Another x of the right size: the point is not on the curve. */
        const char *x = strstr(jwks_ec, "\"x\":\"") + 5;
        char from[8], to[8];
        snprintf(from, sizeof(from), "\"x\":\"%c", *x);
        snprintf(to, sizeof(to), "\"x\":\"%c", *x == 'A' ? 'B' : 'A');
        CHECK(verify_edited("good_es256", true, from, to, &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        CHECK(verify_edited("good_es256", true, "\"kty\":\"EC\"", "\"kty\":\"RSA\"", &err) < 0);
        CHECK(err.class == GX_AUTHZ);
}

static void test_issuers_text(void)
{
        static const struct {
                const char *text;
                bool ok;
        } cases[] = {
                {"\"https://i.example\" /etc/jwks.json\n", true},
                {"# comment\n\n  \"https://i.example\"\t/etc/jwks.json  \r\n", true},
                {"\"https://i.example\" etc/jwks.json\n", false},
                {"\"https://i.example /etc/jwks.json\n", false},
                {"https://i.example /etc/jwks.json\n", false},
                {"\"https://i.example\"/etc/jwks.json\n", false},
                {"\"https://i.example\" /etc/jwks.json extra\n", false},
                {"\"https://i.example\"\n", false},
                {"\"\" /etc/jwks.json\n", false},
                {"\"https://i.example\" /a\n\"https://i.example\" /b\n", false},
                {"\"https://i.example\" /etc/jw\x01ks.json\n", false},
        };
        struct gx_error err;
        char *path;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                path = NULL;
                memset(&err, 0, sizeof(err));
                int r = cred_token_issuers_lookup(cases[i].text, strlen(cases[i].text),
                                                  "https://i.example", &path, &err);
                if ((r == 0) != cases[i].ok)
                        fprintf(stderr, "issuers case %zu: %s\n", i, r == 0 ? "ok" : err.msg);
                CHECK((r == 0) == cases[i].ok);
                if (r == 0)
                        CHECK_STREQ(path, "/etc/jwks.json");
                else
                        CHECK(err.class == GX_SYSTEM && strstr(err.msg, "line "));
                free(path);
        }
        const char nul[] = "\"https://i.example\" /etc/jwks.json\n\0";
        CHECK(cred_token_issuers_lookup(nul, sizeof(nul) - 1, "https://i.example", &path,
                                        &err) < 0);
        CHECK(err.class == GX_SYSTEM);
        const char *good = cases[0].text;
        CHECK(cred_token_issuers_lookup(good, strlen(good), "https://i.example/", &path, &err) < 0);
        CHECK(err.class == GX_AUTHZ);
}

/* The file entry point needs root-owned files along the path: only as root. */
static void test_files(void)
{
        char issuers_file[256], jwks_file[256];
        struct cred_token_policy policy = default_policy();
        struct gx_identity id;
        struct gx_error err;
        size_t len;

        if (geteuid() != 0) {
                printf("SKIP: file entry point checks need root (trusted-file ownership)\n");
                return;
        }
        snprintf(issuers_file, sizeof(issuers_file), "%s/issuers.conf", dir);
        snprintf(jwks_file, sizeof(jwks_file), "%s/jwks-rsa.json", dir);
        policy.issuers_file = issuers_file;
        char *token = read_token("good_rs256", &len);

        memset(&err, 0, sizeof(err));
        CHECK(cred_token_verify(token, len, &policy, &id, NULL, &err) == 0);
        CHECK_STREQ(id.token_sub, ALICE);
        CHECK(cred_token_check_issuers(issuers_file, &err) == 2);

        CHECK(chmod(jwks_file, 0664) == 0);
        CHECK(cred_token_verify(token, len, &policy, &id, NULL, &err) < 0 && err.class == GX_SYSTEM);
        CHECK(cred_token_check_issuers(issuers_file, &err) < 0 && err.class == GX_SYSTEM);
        CHECK(chmod(jwks_file, 0644) == 0);
        CHECK(chmod(issuers_file, 0646) == 0);
        CHECK(cred_token_verify(token, len, &policy, &id, NULL, &err) < 0 && err.class == GX_SYSTEM);
        CHECK(chmod(issuers_file, 0644) == 0);

        policy.issuers_file = "/nonexistent/issuers.conf";
        CHECK(cred_token_verify(token, len, &policy, &id, NULL, &err) < 0 && err.class == GX_SYSTEM);
        policy.issuers_file = NULL;
        CHECK(cred_token_verify(token, len, &policy, &id, NULL, &err) < 0 && err.class == GX_SYSTEM);
        free(token);

        policy.issuers_file = issuers_file;
        token = read_token("unknown_iss", &len);
        CHECK(cred_token_verify(token, len, &policy, &id, NULL, &err) < 0 && err.class == GX_AUTHZ);
        free(token);
        token = read_token("good_es256", &len);
        CHECK(cred_token_verify(token, len, &policy, &id, NULL, &err) == 0);
        free(token);
}

static const char *find_python(void)
{
        static const char *const candidates[] = {"/usr/bin/python3", "python3"};
        char cmd[256];

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                snprintf(cmd, sizeof(cmd), "%s -c 'import jwt' >/dev/null 2>&1", candidates[i]);
                if (system(cmd) == 0)
                        return candidates[i];
        }
        return NULL;
}

/* Run pyjwt-verify.py over every fixture and compare with this verifier at the same time. */
static void crosscheck(const char *python, bool any_audience)
{
        char cmd[2048], out[512];
        struct cred_token_policy policy = default_policy();

        policy.accept_any_audience = any_audience;
        snprintf(out, sizeof(out), "%s/pyjwt.tsv", dir);
        snprintf(cmd, sizeof(cmd),
                 "%s '%s/tests/fixtures/pyjwt-verify.py' --issuers '%s/issuers.conf' "
                 "--audience %s --scope %s --skew 60 %s '%s'/tokens/*.jwt >'%s'",
                 python, GX_SOURCE_DIR, dir, wn01, compute_create,
                 any_audience ? "--accept-any-audience" : "", dir, out);
        CHECK(system(cmd) == 0);
        policy.now = time(NULL);

        char *text = read_path(out, NULL);
        size_t seen = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char name[64], verdict[8], sub[300] = "", iss[64] = "";
                if (sscanf(line, "%63[^\t]\t%7[^\t]\t%299[^\t]\t%63s", name, verdict, sub, iss) < 2)
                        continue;
                struct gx_identity id;
                struct gx_error err;
                bool py_ok = strcmp(verdict, "ok") == 0;
                int r = verify(name, &policy, &id, &err);
                if ((r == 0) != py_ok)
                        fprintf(stderr, "PyJWT disagrees on %s: PyJWT %s, glexec %s\n", name,
                                py_ok ? "ok" : sub, r == 0 ? "ok" : err.msg);
                CHECK((r == 0) == py_ok);
                if (r == 0 && py_ok) {
                        CHECK_STREQ(id.token_sub, sub);
                        CHECK_STREQ(id.token_iss, iss);
                }
                seen++;
        }
        CHECK(seen == n_fixtures);
        free(text);
        unlink(out);
}

static void test_pyjwt(void)
{
        const char *python = find_python();
        if (!python) {
                printf("SKIP: python3-jwt is not installed; PyJWT cross-check not run\n");
                return;
        }
        crosscheck(python, false);
        crosscheck(python, true);
}

static void measure(const char *name)
{
        enum { ROUNDS = 200 };
        struct cred_token_policy policy = default_policy();
        struct gx_identity id;
        struct gx_error err;
        struct timespec a, b;
        size_t len;
        char *token = read_token(name, &len);
        int failed = 0;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
        for (int i = 0; i < ROUNDS; i++)
                failed += cred_token_verify_with(token, len, &policy, issuers, 2, &id, &err) < 0;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        CHECK(failed == 0);
        double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3;
        printf("%s: %.0f us CPU per verification (JWKS parse, key build, signature, claims)\n",
               name, us / ROUNDS);
        free(token);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

/* Also on the early exits of a broken setup. */
static void remove_dir(void)
{
        free(jwks_rsa);
        free(jwks_ec);
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        atexit(remove_dir);
        load_fixtures();
        test_expectations();
        test_claims();
        test_clock_skew();
        test_audiences();
        test_scopes();
        test_token_text();
        test_key_sets();
        test_issuers_text();
        test_files();
        test_pyjwt();
        measure("good_rs256");
        measure("good_es256");
        TEST_MAIN_END();
}
