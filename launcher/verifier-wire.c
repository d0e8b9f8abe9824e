#include "verifier-wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "mapping/describe.h"

const char verify_reply_magic[8] = {'g', 'x', 'v', 'e', 'r', 'i', 0, 1};

/* The encoding: each number a native uint64_t; a string its length with its NUL, then its
 * bytes; a list its count, then its strings; the credential its length, then its bytes. */
struct wire {
        char *buf;
        size_t len, cap;
        bool failed; /* an allocation failed: the buffer is incomplete */
};

struct wire_reader {
        const char *p;
        size_t left;
        bool failed; /* read past the end, or a malformed field */
};

/* A NULL string or list: a length no real one can have. */
#define WIRE_NULL UINT64_MAX

static void put(struct wire *w, const void *data, size_t len)
{
        if (w->failed || len == 0)
                return;
        if (len > w->cap - w->len) {
                size_t cap = w->cap ? w->cap : 4096;
                while (cap - w->len < len)
                        cap *= 2;
                /* Not realloc(): the old buffer may hold a private key, wiped before it goes. */
                char *buf = malloc(cap);
                if (!buf) {
                        w->failed = true;
                        return;
                }
                if (w->buf) {
                        memcpy(buf, w->buf, w->len);
                        explicit_bzero(w->buf, w->cap);
                        free(w->buf);
                }
                w->buf = buf;
                w->cap = cap;
        }
        memcpy(w->buf + w->len, data, len);
        w->len += len;
}

static void wire_put_u64(struct wire *w, uint64_t v)
{
        put(w, &v, sizeof(v));
}

static void wire_put_bytes(struct wire *w, const void *data, size_t len)
{
        wire_put_u64(w, len);
        put(w, data, len);
}

static void wire_put_str(struct wire *w, const char *s)
{
        if (s)
                wire_put_bytes(w, s, strlen(s) + 1);
        else
                wire_put_u64(w, WIRE_NULL);
}

static void wire_put_strv(struct wire *w, char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        wire_put_u64(w, v ? n : WIRE_NULL);
        for (size_t i = 0; i < n; i++)
                wire_put_str(w, v[i]);
}

static const char *take(struct wire_reader *r, size_t len)
{
        if (r->failed || len > r->left) {
                r->failed = true;
                return NULL;
        }
        const char *p = r->p;
        r->p += len;
        r->left -= len;
        return p;
}

static uint64_t wire_get_u64(struct wire_reader *r)
{
        uint64_t v = 0;
        const char *p = take(r, sizeof(v));
        if (p)
                memcpy(&v, p, sizeof(v));
        return v;
}

static const char *wire_get_bytes(struct wire_reader *r, size_t *ret_len)
{
        uint64_t len = wire_get_u64(r);
        const char *p = take(r, len);
        *ret_len = p ? len : 0;
        return p;
}

static const char *wire_get_str(struct wire_reader *r)
{
        uint64_t len = wire_get_u64(r);
        if (len == WIRE_NULL)
                return NULL;
        const char *p = take(r, len);
        /* One NUL, at the end: a string that says what it is. */
        if (p && (len == 0 || memchr(p, '\0', len) != p + len - 1)) {
                r->failed = true;
                return NULL;
        }
        return p;
}

static char **wire_get_strv(struct wire_reader *r)
{
        uint64_t n = wire_get_u64(r);
        if (n == WIRE_NULL || r->failed)
                return NULL;
        /* Each string takes at least 9 bytes: more than fit is a lie. */
        if (n > r->left / 9) {
                r->failed = true;
                return NULL;
        }
        char **v = calloc(n + 1, sizeof(*v));
        if (!v) {
                r->failed = true;
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                v[i] = (char *)wire_get_str(r);
                if (!v[i]) {
                        r->failed = true;
                        break;
                }
        }
        return v;
}

/* The fields, in order, of each operation: encode and decode below must agree. */
int verify_request_encode(const struct verify_request *req, char **ret_buf, size_t *ret_len)
{
        struct wire w = {0};
        wire_put_u64(&w, req->op);
        switch (req->op) {
        case VERIFY_X509:
                wire_put_str(&w, req->x509.certdir);
                wire_put_str(&w, req->x509.vomsdir);
                wire_put_str(&w, req->x509.host_fqdn);
                wire_put_u64(&w, (uint64_t)req->x509.now);
                wire_put_u64(&w, req->x509.min_lifetime);
                wire_put_u64(&w, req->x509.require_private_key);
                wire_put_u64(&w, req->x509.allow_limited);
                wire_put_u64(&w, req->x509.allow_legacy);
                wire_put_u64(&w, req->x509.check_crls);
                wire_put_bytes(&w, req->credential, req->credential_len);
                break;
        case VERIFY_TOKEN:
                wire_put_str(&w, req->token.issuers_file);
                wire_put_strv(&w, req->token.audiences);
                wire_put_u64(&w, req->token.accept_any_audience);
                wire_put_strv(&w, req->token.required_scopes);
                wire_put_u64(&w, req->token.clock_skew);
                wire_put_u64(&w, (uint64_t)req->token.now);
                wire_put_bytes(&w, req->credential, req->credential_len);
                break;
        case VERIFY_CHECK_ISSUERS:
                wire_put_str(&w, req->token.issuers_file);
                break;
        }
        if (w.failed) {
                verify_request_wipe(w.buf, w.cap);
                return -ENOMEM;
        }
        *ret_buf = w.buf;
        *ret_len = w.len;
        return 0;
}

void verify_request_wipe(char *buf, size_t len)
{
        if (buf)
                explicit_bzero(buf, len);
        free(buf);
}

/* One statement per field: the order of an initializer list's evaluations is unspecified in
 * C, and it must be the order of the encoding. */
int verify_request_decode(const char *buf, size_t len, struct verify_request *ret)
{
        struct wire_reader r = {.p = buf, .left = len};
        *ret = (struct verify_request){.op = (enum verify_op)wire_get_u64(&r)};
        switch (ret->op) {
        case VERIFY_X509:
                ret->x509.certdir = wire_get_str(&r);
                ret->x509.vomsdir = wire_get_str(&r);
                ret->x509.host_fqdn = wire_get_str(&r);
                ret->x509.now = (int64_t)wire_get_u64(&r);
                ret->x509.min_lifetime = wire_get_u64(&r);
                ret->x509.require_private_key = wire_get_u64(&r) != 0;
                ret->x509.allow_limited = wire_get_u64(&r) != 0;
                ret->x509.allow_legacy = wire_get_u64(&r) != 0;
                ret->x509.check_crls = wire_get_u64(&r) != 0;
                ret->credential = wire_get_bytes(&r, &ret->credential_len);
                break;
        case VERIFY_TOKEN:
                ret->token.issuers_file = wire_get_str(&r);
                ret->token.audiences = wire_get_strv(&r);
                ret->token.accept_any_audience = wire_get_u64(&r) != 0;
                ret->token.required_scopes = wire_get_strv(&r);
                ret->token.clock_skew = wire_get_u64(&r);
                ret->token.now = (int64_t)wire_get_u64(&r);
                ret->credential = wire_get_bytes(&r, &ret->credential_len);
                break;
        case VERIFY_CHECK_ISSUERS:
                ret->token.issuers_file = wire_get_str(&r);
                if (!ret->token.issuers_file)
                        r.failed = true;
                break;
        default:
                r.failed = true;
        }
        if (r.failed || r.left) {
                verify_request_free(ret);
                return -EINVAL;
        }
        return 0;
}

void verify_request_free(struct verify_request *req)
{
        free((void *)req->token.audiences);
        free((void *)req->token.required_scopes);
        req->token.audiences = NULL;
        req->token.required_scopes = NULL;
}

int verify_reply_check(const struct verify_reply *r, enum verify_op op, struct gx_error *err)
{
        const char *bad = NULL;
        if (memcmp(r->magic, verify_reply_magic, sizeof(r->magic)) != 0)
                bad = "a reply of another program";
        else if (r->result < 0 && r->err.class != GX_AUTHZ && r->err.class != GX_SYSTEM &&
                 r->err.class != GX_CLIENT)
                bad = "a refusal without a reason";
        else if (!gx_terminated(r->err.msg, sizeof(r->err.msg)) ||
                 !gx_terminated(r->err.public_msg, sizeof(r->err.public_msg)) ||
                 !gx_terminated(r->jwks_used, sizeof(r->jwks_used)))
                bad = "an unterminated string";
        else if (r->result >= 0 && op == VERIFY_X509 &&
                 (!identity_well_formed(&r->id, GX_CRED_X509) ||
                  r->use.n_cert_hashes > CRED_TRUST_MAX_HASHES ||
                  r->use.n_crl_hashes > CRED_TRUST_MAX_HASHES ||
                  r->use.n_vos > CRED_TRUST_MAX_VOS))
                bad = "a malformed identity";
        else if (r->result >= 0 && op == VERIFY_TOKEN &&
                 !identity_well_formed(&r->id, GX_CRED_TOKEN))
                bad = "a malformed identity";
        /* use.n_vos is bounded above, for an X.509 answer only. */
        for (size_t i = 0; !bad && r->result >= 0 && op == VERIFY_X509 && i < r->use.n_vos; i++)
                if (!gx_terminated(r->use.vos[i], sizeof(r->use.vos[i])))
                        bad = "an unterminated string";
        if (bad)
                return gx_fail(err, GX_SYSTEM, 0, "credential verifier answered with %s", bad);
        if (r->result < 0) {
                *err = r->err;
                return r->result;
        }
        return 0;
}
