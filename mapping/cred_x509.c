/* X.509 proxy verification (RFC 3820, optionally pre-RFC "legacy" proxies) with OpenSSL 3.0:
 * chain and CRLs by OpenSSL, then the grid policy OpenSSL does not know (reference/
 * credentials.md sections 1 and 3): end-entity detection, limited proxies, proof of
 * possession, lifetime, and the VOMS AC (voms.c). */
#include "mapping/credential.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/strutil.h"
#include "voms.h"

/* Certificates accepted in one credential file, and the verification depth: a few proxies on
 * top of an IGTF chain is all real use needs, and the bound keeps chain building cheap. */
#define CRED_MAX_CERTS 16
#define CRED_MAX_DEPTH 12

#define OID_LIMITED_PROXY "1.3.6.1.4.1.3536.1.1.1.9"

enum proxy_kind {
        PROXY_NONE = 0,
        PROXY_FULL,
        PROXY_LIMITED,
        PROXY_UNSUPPORTED,
};

int cred_time_to_unix(const ASN1_TIME *t, int64_t *ret)
{
        struct tm tm;

        if (!t || !ASN1_TIME_to_tm(t, &tm))
                return -EINVAL;
        *ret = (int64_t)timegm(&tm);
        return 0;
}

/* A value that could be read as an RDN boundary in the "/attr=value" form. */
static bool value_forges_rdn(const unsigned char *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (s[i] != '/')
                        continue;
                size_t j = i + 1;
                while (j < n && (s[j] == '.' || (s[j] >= '0' && s[j] <= '9') ||
                                 (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z')))
                        j++;
                if (j > i + 1 && j < n && s[j] == '=')
                        return true;
        }
        return false;
}

static int append(char *buf, size_t size, size_t *o, const char *s, size_t n)
{
        if (*o + n >= size)
                return -ENAMETOOLONG;
        memcpy(buf + *o, s, n);
        *o += n;
        buf[*o] = '\0';
        return 0;
}

/* The classic X509_NAME_oneline form "/DC=org/CN=Alice" that grid-mapfiles use, written here
 * because OpenSSL 3.0 patch releases started escaping '/' and '+' in it, which would change a
 * user's identity with a library update. Values are taken as UTF-8, bytes above '~' become
 * \xHH as in the classic form. What the form cannot represent unambiguously is refused:
 * control characters (NUL included), backslashes, and "/attr=" inside a value. */
int cred_name_oneline(const X509_NAME *name, char *buf, size_t size)
{
        int n = X509_NAME_entry_count(name), r = 0;
        size_t o = 0;

        if (n <= 0 || size == 0)
                return -EINVAL;
        buf[0] = '\0';
        for (int i = 0; i < n && r == 0; i++) {
                const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
                const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
                int nid = OBJ_obj2nid(obj);
                const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
                char oid[80];
                if (!sn) {
                        int l = OBJ_obj2txt(oid, sizeof(oid), obj, 1);
                        if (l <= 0 || (size_t)l >= sizeof(oid))
                                return -EINVAL;
                        sn = oid;
                }
                unsigned char *v = NULL;
                int len = ASN1_STRING_to_UTF8(&v, X509_NAME_ENTRY_get_data(e));
                if (len <= 0 || value_forges_rdn(v, (size_t)len))
                        r = -EINVAL;
                if (r == 0)
                        r = append(buf, size, &o, "/", 1);
                if (r == 0)
                        r = append(buf, size, &o, sn, strlen(sn));
                if (r == 0)
                        r = append(buf, size, &o, "=", 1);
                for (int k = 0; k < len && r == 0; k++) {
                        char hex[5];
                        if (v[k] < 0x20 || v[k] == 0x7f || v[k] == '\\')
                                r = -EINVAL;
                        else if (v[k] > '~') {
                                snprintf(hex, sizeof(hex), "\\x%02X", v[k]);
                                r = append(buf, size, &o, hex, 4);
                        } else
                                r = append(buf, size, &o, (const char *)v + k, 1);
                }
                OPENSSL_free(v);
        }
        return r;
}

int cred_store_ctx_init(X509_STORE_CTX *ctx, X509_STORE *store, X509 *leaf,
                        STACK_OF(X509) *untrusted, const struct cred_x509_policy *policy,
                        bool proxies)
{
        if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted))
                return -ENOMEM;
        X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
        unsigned long flags = 0;
        /* CRL_CHECK alone only looks at the leaf, which for a proxy chain means nothing is
         * checked at all: the EEC's revocation is only seen with CRL_CHECK_ALL. */
        if (policy->check_crls)
                flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
        if (proxies)
                flags |= X509_V_FLAG_ALLOW_PROXY_CERTS;
        X509_VERIFY_PARAM_set_flags(vp, flags);
        X509_VERIFY_PARAM_set_time(vp, (time_t)policy->now);
        /* Level 2: RSA/DSA/DH keys of at least 2048 bits, no SHA-1 signatures. */
        X509_VERIFY_PARAM_set_auth_level(vp, 2);
        X509_VERIFY_PARAM_set_depth(vp, CRED_MAX_DEPTH);
        return 0;
}

static enum proxy_kind rfc_proxy_kind(X509 *x)
{
        int crit = -1;
        PROXY_CERT_INFO_EXTENSION *pci = X509_get_ext_d2i(x, NID_proxyCertInfo, &crit, NULL);
        if (!pci)
                return PROXY_UNSUPPORTED;
        enum proxy_kind kind = PROXY_UNSUPPORTED;
        const ASN1_OBJECT *lang = pci->proxyPolicy ? pci->proxyPolicy->policyLanguage : NULL;
        char oid[80];
        if (crit != 1 || !lang)
                kind = PROXY_UNSUPPORTED;
        else if (OBJ_obj2nid(lang) == NID_id_ppl_inheritAll)
                kind = PROXY_FULL;
        else if (OBJ_obj2txt(oid, sizeof(oid), lang, 1) > 0 && strcmp(oid, OID_LIMITED_PROXY) == 0)
                kind = PROXY_LIMITED;
        PROXY_CERT_INFO_EXTENSION_free(pci);
        return kind;
}

/* A pre-RFC (Globus GT2) proxy: no proxyCertInfo, not a CA, subject = issuer plus one RDN
 * "CN=proxy" or "CN=limited proxy". */
static enum proxy_kind legacy_proxy_kind(X509 *x)
{
        if (X509_get_extension_flags(x) & EXFLAG_PROXY || X509_check_ca(x) != 0)
                return PROXY_NONE;
        const X509_NAME *subject = X509_get_subject_name(x);
        const X509_NAME *issuer = X509_get_issuer_name(x);
        int n = X509_NAME_entry_count(subject);
        if (n < 2 || n != X509_NAME_entry_count(issuer) + 1)
                return PROXY_NONE;
        const X509_NAME_ENTRY *last = X509_NAME_get_entry(subject, n - 1);
        if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(last)) != NID_commonName ||
            X509_NAME_ENTRY_set(last) == X509_NAME_ENTRY_set(X509_NAME_get_entry(subject, n - 2)))
                return PROXY_NONE;
        const ASN1_STRING *v = X509_NAME_ENTRY_get_data(last);
        enum proxy_kind kind = PROXY_NONE;
        if (ASN1_STRING_length(v) == 5 && memcmp(ASN1_STRING_get0_data(v), "proxy", 5) == 0)
                kind = PROXY_FULL;
        else if (ASN1_STRING_length(v) == 13 &&
                 memcmp(ASN1_STRING_get0_data(v), "limited proxy", 13) == 0)
                kind = PROXY_LIMITED;
        if (kind == PROXY_NONE)
                return PROXY_NONE;

        X509_NAME *prefix = X509_NAME_dup(subject);
        if (!prefix)
                return PROXY_NONE;
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(prefix, n - 1));
        if (X509_NAME_cmp(prefix, issuer) != 0)
                kind = PROXY_NONE;
        X509_NAME_free(prefix);
        return kind;
}

static bool is_any_proxy(X509 *x)
{
        return (X509_get_extension_flags(x) & EXFLAG_PROXY) || legacy_proxy_kind(x) != PROXY_NONE;
}

/* Installed only when legacy proxies are allowed. OpenSSL sees the user certificate that signed
 * a legacy proxy as a CA, so it reports exactly these errors for a sound legacy chain; each is
 * forgiven only where that explanation holds. */
static int legacy_verify_cb(int ok, X509_STORE_CTX *ctx)
{
        if (ok)
                return ok;
        int depth = X509_STORE_CTX_get_error_depth(ctx);
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
        if (!chain || depth < 0 || depth >= sk_X509_num(chain))
                return 0;

        switch (X509_STORE_CTX_get_error(ctx)) {
        case X509_V_ERR_INVALID_CA:
        case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
        case X509_V_ERR_INVALID_PURPOSE:
                /* at the certificate that signed a legacy proxy */
                return depth >= 1 &&
                       legacy_proxy_kind(sk_X509_value(chain, depth - 1)) != PROXY_NONE;
        case X509_V_ERR_UNABLE_TO_GET_CRL:
                /* a legacy proxy's "CA" (the user) publishes no CRL */
                return legacy_proxy_kind(sk_X509_value(chain, depth)) != PROXY_NONE;
        case X509_V_ERR_PATH_LENGTH_EXCEEDED: {
                /* OpenSSL counted the user certificate as an intermediate CA. Recount the real
                 * intermediates between the end-entity certificate and this CA. */
                int eec = 0;
                while (eec < depth && is_any_proxy(sk_X509_value(chain, eec)))
                        eec++;
                if (eec >= depth || eec == 0)
                        return 0;
                long pathlen = X509_get_pathlen(sk_X509_value(chain, depth));
                long n = 0;
                for (int i = eec + 1; i < depth; i++)
                        if (!(X509_get_extension_flags(sk_X509_value(chain, i)) & EXFLAG_SI))
                                n++;
                return pathlen < 0 || n <= pathlen;
        }
        default:
                return 0;
        }
}

struct pem_contents {
        STACK_OF(X509) *certs; /* in file order: leaf first */
        EVP_PKEY *key;
};

static void pem_contents_free(struct pem_contents *c)
{
        sk_X509_pop_free(c->certs, X509_free);
        /* EVP_PKEY_free clears the key's bignums. */
        EVP_PKEY_free(c->key);
}

static int pem_malformed(struct gx_error *err, const char *detail)
{
        return cred_deny(err, "malformed credential file", "malformed credential file: %s",
                         detail);
}

static int pem_add_block(struct pem_contents *c, const char *name, const char *header,
                         const unsigned char *data, long len, struct gx_error *err)
{
        const unsigned char *p = data;

        if (strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0) {
                if (sk_X509_num(c->certs) >= CRED_MAX_CERTS)
                        return pem_malformed(err, "too many certificates");
                X509 *x = d2i_X509(NULL, &p, len);
                if (!x || p != data + len || header[0]) {
                        X509_free(x);
                        return pem_malformed(err, "undecodable certificate");
                }
                if (!sk_X509_push(c->certs, x)) {
                        X509_free(x);
                        return gx_fail(err, GX_SYSTEM, ENOMEM, "credential");
                }
                return 0;
        }

        int type;
        if (strcmp(name, PEM_STRING_PKCS8INF) == 0)
                type = EVP_PKEY_NONE;
        else if (strcmp(name, PEM_STRING_RSA) == 0)
                type = EVP_PKEY_RSA;
        else if (strcmp(name, PEM_STRING_ECPRIVATEKEY) == 0)
                type = EVP_PKEY_EC;
        else {
                char esc[64];
                gx_escape(esc, sizeof(esc), name);
                return cred_deny(err, "malformed credential file",
                                 "malformed credential file: unexpected PEM block \"%s\"", esc);
        }
        /* A header means Proc-Type/DEK-Info, i.e. an encrypted key: never prompt for a
         * passphrase in a setuid program. */
        if (header[0])
                return pem_malformed(err, "encrypted private key");
        if (c->key)
                return pem_malformed(err, "more than one private key");
        EVP_PKEY *key = type == EVP_PKEY_NONE ? d2i_AutoPrivateKey(NULL, &p, len)
                                              : d2i_PrivateKey(type, NULL, &p, len);
        if (!key || p != data + len) {
                EVP_PKEY_free(key);
                return pem_malformed(err, "undecodable private key");
        }
        c->key = key;
        return 0;
}

/* PEM_X509_INFO_read_bio would do, but it frees the decoded key DER without wiping it and
 * silently skips unknown blocks; PEM_FLAG_SECURE makes OpenSSL clear every buffer it used. */
static int pem_load(const char *pem, size_t len, struct pem_contents *c, struct gx_error *err)
{
        int r = 0;

        if (len > GX_CRED_MAX_BYTES)
                return pem_malformed(err, "file too large");
        c->certs = sk_X509_new_null();
        BIO *bio = BIO_new_mem_buf(pem, (int)len);
        if (!c->certs || !bio) {
                BIO_free(bio);
                return gx_fail(err, GX_SYSTEM, ENOMEM, "credential");
        }
        for (;;) {
                char *name = NULL, *header = NULL;
                unsigned char *data = NULL;
                long dlen = 0;
                if (!PEM_read_bio_ex(bio, &name, &header, &data, &dlen,
                                     PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE)) {
                        unsigned long e = ERR_peek_last_error();
                        if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
                            ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
                                r = pem_malformed(err, "bad PEM encoding");
                        ERR_clear_error();
                        break;
                }
                r = pem_add_block(c, name, header, data, dlen, err);
                OPENSSL_secure_free(name);
                OPENSSL_secure_free(header);
                OPENSSL_secure_clear_free(data, (size_t)dlen);
                if (r < 0)
                        break;
        }
        BIO_free(bio);
        if (r == 0 && sk_X509_num(c->certs) == 0)
                r = pem_malformed(err, "no certificate");
        return r;
}

/* RSA: the key file's prime factors multiply to the certificate's modulus. Knowing them is
 * knowing the private key, and nobody else can supply them. */
static bool rsa_factors_match(EVP_PKEY *key)
{
        BIGNUM *n = NULL, *p = NULL, *q = NULL, *pq = BN_new();
        BN_CTX *bn = BN_CTX_new();
        bool ok = pq && bn && EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
                  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1, &p) == 1 &&
                  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR2, &q) == 1 &&
                  !BN_is_one(p) && !BN_is_one(q) && !BN_is_zero(p) && !BN_is_zero(q) &&
                  BN_mul(pq, p, q, bn) == 1 && BN_cmp(pq, n) == 0;
        BN_clear_free(p);
        BN_clear_free(q);
        BN_free(n);
        BN_free(pq);
        BN_CTX_free(bn);
        return ok;
}

/* X509_check_private_key() compares only the public halves, which a made-up key file can copy
 * from the certificate: the private half must be shown to belong too. For RSA the factors are
 * checked (microseconds; OpenSSL's own RSA pairwise check tests primality and a sign-verify
 * round costs about 1.7 ms); other key types get OpenSSL's pairwise check (EC: the private
 * scalar times G is the public point). */
static bool key_proves_possession(EVP_PKEY *key, X509 *leaf)
{
        if (X509_check_private_key(leaf, key) != 1)
                return false;
        if (EVP_PKEY_is_a(key, "RSA"))
                return rsa_factors_match(key);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        bool ok = ctx && EVP_PKEY_pairwise_check(ctx) == 1;
        EVP_PKEY_CTX_free(ctx);
        return ok;
}

static X509_STORE *store_new(const char *certdir)
{
        X509_STORE *st = X509_STORE_new();
        if (!st)
                return NULL;
        /* hash_dir only: never X509_STORE_set_default_paths, which would trust the system's web
         * roots. */
        X509_LOOKUP *lu = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir());
        if (!lu || !X509_LOOKUP_add_dir(lu, certdir, X509_FILETYPE_PEM)) {
                X509_STORE_free(st);
                return NULL;
        }
        return st;
}

static int chain_verify(X509_STORE *st, const struct pem_contents *c,
                        const struct cred_x509_policy *policy, STACK_OF(X509) **ret_chain,
                        struct gx_error *err)
{
        X509 *leaf = sk_X509_value(c->certs, 0);
        STACK_OF(X509) *untrusted = sk_X509_dup(c->certs);
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        int r;

        if (!untrusted || !ctx) {
                r = gx_fail(err, GX_SYSTEM, ENOMEM, "credential");
                goto out;
        }
        (void)sk_X509_shift(untrusted);
        r = cred_store_ctx_init(ctx, st, leaf, untrusted, policy, true);
        if (r < 0) {
                r = gx_fail(err, GX_SYSTEM, -r, "credential: verification context");
                goto out;
        }
        if (policy->allow_legacy)
                X509_STORE_CTX_set_verify_cb(ctx, legacy_verify_cb);
        if (X509_verify_cert(ctx) != 1) {
                int e = X509_STORE_CTX_get_error(ctx);
                X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
                char esc[300] = "?";
                char *s = cur ? X509_NAME_oneline(X509_get_subject_name(cur), NULL, 0) : NULL;
                if (s)
                        gx_escape(esc, sizeof(esc), s);
                OPENSSL_free(s);
                r = cred_deny(err, X509_verify_cert_error_string(e),
                              "proxy chain verification failed at depth %d (%s): %s",
                              X509_STORE_CTX_get_error_depth(ctx), esc,
                              X509_verify_cert_error_string(e));
                goto out;
        }
        *ret_chain = X509_STORE_CTX_get1_chain(ctx);
        if (!*ret_chain)
                r = gx_fail(err, GX_SYSTEM, ENOMEM, "credential");
out:
        X509_STORE_CTX_free(ctx);
        sk_X509_free(untrusted);
        return r;
}

/* The grid policy on a verified chain (leaf first). Returns the index of the end-entity
 * certificate. */
static int chain_policy(STACK_OF(X509) *chain, const struct cred_x509_policy *policy,
                        struct gx_identity *id, struct gx_error *err)
{
        int n = sk_X509_num(chain), eec = -1;
        bool rfc = false, legacy = false;

        for (int i = 0; i < n && eec < 0; i++) {
                X509 *x = sk_X509_value(chain, i);
                if (X509_get_extension_flags(x) & EXFLAG_PROXY)
                        rfc = true;
                else if (legacy_proxy_kind(x) != PROXY_NONE)
                        legacy = true;
                else
                        eec = i;
        }
        if (eec < 0)
                return cred_deny(err, "no end-entity certificate",
                                 "no end-entity certificate in the proxy chain");
        if (X509_check_ca(sk_X509_value(chain, eec)) != 0)
                return cred_deny(err, "no end-entity certificate",
                                 "the certificate below the proxies (depth %d) is a CA", eec);
        if (legacy && !policy->allow_legacy)
                return cred_deny(err, "legacy proxy not accepted",
                                 "legacy (pre-RFC 3820) proxy not accepted");
        if (legacy && rfc)
                return cred_deny(err, "mixed proxy types",
                                 "proxy chain mixes RFC 3820 and legacy proxies");

        /* Globus semantics: everything delegated from a limited proxy is limited. */
        bool limited = false;
        for (int i = eec - 1; i >= 0; i--) {
                X509 *x = sk_X509_value(chain, i);
                enum proxy_kind k = legacy ? legacy_proxy_kind(x) : rfc_proxy_kind(x);
                if (k == PROXY_UNSUPPORTED)
                        return cred_deny(err, "unsupported proxy policy",
                                         "proxy at depth %d has an unsupported or non-critical "
                                         "proxy policy",
                                         i);
                if (k == PROXY_FULL && limited)
                        return cred_deny(err, "full proxy below a limited proxy",
                                         "full proxy at depth %d was delegated from a limited "
                                         "proxy",
                                         i);
                if (k == PROXY_LIMITED)
                        limited = true;
        }
        if (limited && !policy->allow_limited)
                return cred_deny(err, "limited proxy not accepted", "limited proxy not accepted");
        id->limited_proxy = limited;

        id->not_after = INT64_MAX;
        for (int i = 0; i < n; i++) {
                int64_t t;
                if (cred_time_to_unix(X509_get0_notAfter(sk_X509_value(chain, i)), &t) < 0)
                        return cred_deny(err, "bad validity", "unreadable notAfter at depth %d",
                                         i);
                if (t < id->not_after)
                        id->not_after = t;
        }
        return eec;
}

static void add_hash(unsigned long *hashes, size_t *n, unsigned long h, bool *incomplete)
{
        for (size_t i = 0; i < *n; i++)
                if (hashes[i] == h)
                        return;
        if (*n < CRED_TRUST_MAX_HASHES)
                hashes[(*n)++] = h;
        else
                *incomplete = true;
}

/* What the store's hash_dir lookup loaded is exactly what it read from certdir: it keeps
 * every certificate and CRL it found in the store's object cache. */
static void trust_use_from_store(X509_STORE *st, struct cred_trust_use *use)
{
        STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(st);
        for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
                X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
                X509 *x = X509_OBJECT_get0_X509(o);
                X509_CRL *crl = X509_OBJECT_get0_X509_CRL(o);
                int ok = 0;
                if (x) {
                        unsigned long h = X509_NAME_hash_ex(X509_get_subject_name(x), NULL,
                                                            NULL, &ok);
                        if (ok)
                                add_hash(use->cert_hashes, &use->n_cert_hashes, h,
                                         &use->incomplete);
                } else if (crl) {
                        unsigned long h = X509_NAME_hash_ex(X509_CRL_get_issuer(crl), NULL,
                                                            NULL, &ok);
                        if (ok)
                                add_hash(use->crl_hashes, &use->n_crl_hashes, h,
                                         &use->incomplete);
                        int64_t next;
                        if (cred_time_to_unix(X509_CRL_get0_nextUpdate(crl), &next) == 0 &&
                            next < use->crls_next_update)
                                use->crls_next_update = next;
                }
                if (!ok)
                        use->incomplete = true;
        }
}

int cred_x509_verify(const char *pem, size_t len, const struct cred_x509_policy *policy,
                     struct gx_identity *ret, struct cred_trust_use *use, struct gx_error *err)
{
        struct pem_contents c = {};
        X509_STORE *st = NULL;
        STACK_OF(X509) *chain = NULL;
        struct gx_identity *id = NULL;
        int r;

        ERR_clear_error();
        if (use)
                *use = (struct cred_trust_use){.crls_next_update = INT64_MAX};
        if (!policy->certdir)
                return gx_fail(err, GX_SYSTEM, EINVAL, "no certdir configured");
        r = pem_load(pem, len, &c, err);
        if (r < 0)
                goto out;

        X509 *leaf = sk_X509_value(c.certs, 0);
        if (c.key) {
                if (!key_proves_possession(c.key, leaf)) {
                        r = cred_deny(err, "private key does not match",
                                      "the private key does not match the proxy certificate");
                        goto out;
                }
        } else if (policy->require_private_key) {
                r = cred_deny(err, "no private key", "no private key in the credential file");
                goto out;
        }
        /* Proof of possession is done: nothing below needs the key. */
        EVP_PKEY_free(TAKE_PTR(c.key));

        st = store_new(policy->certdir);
        id = calloc(1, sizeof(*id));
        if (!st || !id) {
                r = gx_fail(err, GX_SYSTEM, ENOMEM, "credential: certificate store");
                goto out;
        }
        r = chain_verify(st, &c, policy, &chain, err);
        if (r < 0)
                goto out;
        int eec = chain_policy(chain, policy, id, err);
        if (eec < 0) {
                r = eec;
                goto out;
        }
        X509 *ee = sk_X509_value(chain, eec);
        if (cred_name_oneline(X509_get_subject_name(ee), id->dn, sizeof(id->dn)) < 0 ||
            cred_name_oneline(X509_get_issuer_name(ee), id->issuer, sizeof(id->issuer)) < 0) {
                r = cred_deny(err, "unusable subject name",
                              "the end-entity subject or issuer name is empty, too long or "
                              "contains control characters or an embedded \"/attr=\"");
                goto out;
        }
        if (policy->vomsdir) {
                const struct voms_trust trust = {
                        .policy = policy, .store = st, .eec = ee, .use = use};
                r = voms_verify_chain(chain, eec, &trust, id, err);
                if (r < 0)
                        goto out;
        }
        r = cred_x509_check_lifetime(id, policy, err);
        if (r < 0)
                goto out;

        id->kind = GX_CRED_X509;
        *ret = *id;
        if (use)
                trust_use_from_store(st, use);
        r = 0;
out:
        free(id);
        sk_X509_pop_free(chain, X509_free);
        X509_STORE_free(st);
        pem_contents_free(&c);
        ERR_clear_error();
        return r;
}
