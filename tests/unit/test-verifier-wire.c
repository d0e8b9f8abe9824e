/* The request between glexec and glexec-verify: what verify_request_encode() writes,
 * verify_request_decode() reads back field by field, NULL strings and lists staying NULL;
 * a truncated, padded or forged request is refused instead of read past its end. And the
 * reply: verify_reply_check() takes a well-formed answer and refuses a forged one (the
 * verifier runs with the caller's ids) before any of its strings or counts is used. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "verifier-wire.h"

/* Encode in and decode it again into *out; the encoding stays in *buf, *len. */
static void round_trip(const struct verify_request *in, struct verify_request *out, char **buf,
                       size_t *len)
{
        CHECK(verify_request_encode(in, buf, len) == 0);
        CHECK(verify_request_decode(*buf, *len, out) == 0);
        CHECK(out->op == in->op);
}

/* Every truncation of a request is refused. */
static void check_truncations(const char *buf, size_t len)
{
        struct verify_request out;
        for (size_t cut = 0; cut < len; cut++)
                CHECK(verify_request_decode(buf, cut, &out) == -EINVAL);
}

static void test_x509(void)
{
        const char pem[] = "-----BEGIN CERTIFICATE-----\n\0binary\n";
        struct verify_request in = {
                .op = VERIFY_X509,
                .x509 = {.certdir = "/etc/grid-security/certificates",
                         .vomsdir = NULL,
                         .host_fqdn = "wn01.example",
                         .now = -5,
                         .min_lifetime = 300,
                         .require_private_key = true,
                         .check_crls = true},
                .credential = pem,
                .credential_len = sizeof(pem),
        };
        char *buf = NULL;
        size_t len = 0;
        struct verify_request out;
        round_trip(&in, &out, &buf, &len);
        CHECK_STREQ(out.x509.certdir, "/etc/grid-security/certificates");
        CHECK(out.x509.vomsdir == NULL);
        CHECK_STREQ(out.x509.host_fqdn, "wn01.example");
        CHECK(out.x509.now == -5 && out.x509.min_lifetime == 300);
        CHECK(out.x509.require_private_key && !out.x509.allow_limited &&
              !out.x509.allow_legacy && out.x509.check_crls);
        CHECK(out.credential_len == sizeof(pem) &&
              memcmp(out.credential, pem, sizeof(pem)) == 0);
        verify_request_free(&out);

        /* Every truncation, and one byte too many, is refused. */
        check_truncations(buf, len);
        char *longer = malloc(len + 1);
        memcpy(longer, buf, len);
        longer[len] = 0;
        CHECK(verify_request_decode(longer, len + 1, &out) == -EINVAL);
        free(longer);
        verify_request_wipe(buf, len);
}

static void test_token(void)
{
        char *const aud[] = {"https://wn01.example", "any", NULL};
        char *const none[] = {NULL};
        const char token[] = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n";
        struct verify_request in = {
                .op = VERIFY_TOKEN,
                .token = {.issuers_file = "/etc/glexec/token-issuers.conf",
                          .audiences = aud,
                          .accept_any_audience = true,
                          .required_scopes = none,
                          .clock_skew = 60,
                          .now = 1796680902},
                .credential = token,
                .credential_len = strlen(token),
        };
        char *buf = NULL;
        size_t len = 0;
        struct verify_request out;
        round_trip(&in, &out, &buf, &len);
        CHECK_STREQ(out.token.issuers_file, "/etc/glexec/token-issuers.conf");
        CHECK(out.token.audiences && out.token.audiences[2] == NULL);
        CHECK_STREQ(out.token.audiences ? out.token.audiences[0] : NULL, "https://wn01.example");
        CHECK_STREQ(out.token.audiences ? out.token.audiences[1] : NULL, "any");
        CHECK(out.token.required_scopes && out.token.required_scopes[0] == NULL);
        CHECK(out.token.accept_any_audience && out.token.clock_skew == 60 &&
              out.token.now == 1796680902);
        CHECK(out.credential_len == strlen(token) &&
              memcmp(out.credential, token, strlen(token)) == 0);
        verify_request_free(&out);
        check_truncations(buf, len);
        verify_request_wipe(buf, len);

        /* A NULL list stays NULL. */
        in.token.audiences = NULL;
        CHECK(verify_request_encode(&in, &buf, &len) == 0);
        CHECK(verify_request_decode(buf, len, &out) == 0 && out.token.audiences == NULL);
        verify_request_free(&out);
        verify_request_wipe(buf, len);
}

static size_t put64(char *buf, size_t at, uint64_t v)
{
        memcpy(buf + at, &v, sizeof(v));
        return at + sizeof(v);
}

static size_t put_bytes(char *buf, size_t at, const char *s, size_t len)
{
        at = put64(buf, at, len);
        memcpy(buf + at, s, len);
        return at + len;
}

/* Requests no glexec writes: an unknown operation, a string without its NUL or with one
 * inside, an empty or missing issuers file, a list claiming more strings than there are
 * bytes. */
static void test_forged(void)
{
        char buf[64];
        struct verify_request out;
        size_t n;

        n = put_bytes(buf, put64(buf, 0, VERIFY_CHECK_ISSUERS), "/x\0", 3);
        CHECK(verify_request_decode(buf, n, &out) == 0);
        verify_request_free(&out);
        n = put_bytes(buf, put64(buf, 0, VERIFY_CHECK_ISSUERS), "ab", 2);
        CHECK(verify_request_decode(buf, n, &out) == -EINVAL);
        n = put_bytes(buf, put64(buf, 0, VERIFY_CHECK_ISSUERS), "a\0b\0", 4);
        CHECK(verify_request_decode(buf, n, &out) == -EINVAL);
        n = put_bytes(buf, put64(buf, 0, VERIFY_CHECK_ISSUERS), "", 0);
        CHECK(verify_request_decode(buf, n, &out) == -EINVAL);
        n = put64(buf, put64(buf, 0, VERIFY_CHECK_ISSUERS), UINT64_MAX);
        CHECK(verify_request_decode(buf, n, &out) == -EINVAL);
        n = put_bytes(buf, put64(buf, 0, 99), "/x\0", 3);
        CHECK(verify_request_decode(buf, n, &out) == -EINVAL);
        n = put64(buf, put_bytes(buf, put64(buf, 0, VERIFY_TOKEN), "/\0", 2), 1000000);
        CHECK(verify_request_decode(buf, n, &out) == -EINVAL);
        CHECK(verify_request_decode(buf, 0, &out) == -EINVAL);
}

/* A well-formed X.509 answer, then one flaw at a time. */
static struct verify_reply *good_reply(void)
{
        struct verify_reply *r = calloc(1, sizeof(*r));
        memcpy(r->magic, verify_reply_magic, sizeof(r->magic));
        r->id.kind = GX_CRED_X509;
        strcpy(r->id.dn, "/DC=org/CN=Alice");
        r->id.n_fqans = 1;
        strcpy(r->id.fqans[0], "/atlas");
        r->use.n_vos = 1;
        strcpy(r->use.vos[0], "atlas");
        return r;
}

static void test_reply(void)
{
        struct gx_error err;
        struct verify_reply *r = good_reply();
        CHECK(verify_reply_check(r, VERIFY_X509, &err) == 0);
        /* An X.509 answer to a token question. */
        CHECK(verify_reply_check(r, VERIFY_TOKEN, &err) < 0 && err.class == GX_SYSTEM);

        r->magic[0] = 'x';
        CHECK(verify_reply_check(r, VERIFY_X509, &err) < 0 && err.class == GX_SYSTEM);
        free(r);
        r = good_reply();
        memset(r->id.dn, 'a', sizeof(r->id.dn));
        CHECK(verify_reply_check(r, VERIFY_X509, &err) < 0 && err.class == GX_SYSTEM);
        free(r);
        r = good_reply();
        r->id.n_fqans = GX_MAX_FQANS + 1;
        CHECK(verify_reply_check(r, VERIFY_X509, &err) < 0 && err.class == GX_SYSTEM);
        free(r);
        r = good_reply();
        r->use.n_vos = SIZE_MAX;
        CHECK(verify_reply_check(r, VERIFY_X509, &err) < 0 && err.class == GX_SYSTEM);
        free(r);
        r = good_reply();
        memset(r->use.vos[0], 'v', sizeof(r->use.vos[0]));
        CHECK(verify_reply_check(r, VERIFY_X509, &err) < 0 && err.class == GX_SYSTEM);
        free(r);
        r = good_reply();
        memset(r->jwks_used, 'j', sizeof(r->jwks_used));
        CHECK(verify_reply_check(r, VERIFY_X509, &err) < 0 && err.class == GX_SYSTEM);
        free(r);

        /* A token answer: its counts of the X.509 trust files are not looked at. */
        r = good_reply();
        r->id.kind = GX_CRED_TOKEN;
        r->use.n_vos = SIZE_MAX;
        CHECK(verify_reply_check(r, VERIFY_TOKEN, &err) == 0);
        free(r);

        /* A refusal passes the verifier's error on; one without a class is malformed. */
        r = good_reply();
        r->result = -EINVAL;
        r->err.class = GX_AUTHZ;
        strcpy(r->err.msg, "credential expired");
        CHECK(verify_reply_check(r, VERIFY_X509, &err) == -EINVAL && err.class == GX_AUTHZ &&
              strcmp(err.msg, "credential expired") == 0);
        r->err.class = GX_OK;
        CHECK(verify_reply_check(r, VERIFY_X509, &err) < 0 && err.class == GX_SYSTEM);
        memset(r->err.msg, 'm', sizeof(r->err.msg));
        r->err.class = GX_AUTHZ;
        CHECK(verify_reply_check(r, VERIFY_X509, &err) < 0 && err.class == GX_SYSTEM);
        free(r);
}

int main(void)
{
        test_x509();
        test_token();
        test_forged();
        test_reply();
        TEST_MAIN_END();
}
