/* Private glue between cred_x509.c and voms.c: VOMS attribute-certificate verification and the
 * few X.509 helpers both use. Not part of the mapping API. */
#pragma once

#include <stdint.h>

#include <openssl/x509.h>

#include "common/error.h"
#include "mapping/credential.h"
#include "mapping/identity.h"

/* Everything an AC is checked against, besides the AC itself. */
struct voms_trust {
        const struct cred_x509_policy *policy; /* vomsdir, host_fqdn, now, check_crls */
        X509_STORE *store;                     /* the site's CA directory */
        X509 *eec;                             /* the holder: end-entity certificate */
        struct cred_trust_use *use;            /* gets the VOs whose vomsdir was read; may be NULL */
};

/* Look for a VOMS AC in the proxies chain[0..eec_index-1] (leaf first; the first one found
 * wins) and verify it completely. Appends the normalised FQANs to id->fqans and lowers
 * id->not_after to the AC's end. Returns 0 when there is no AC, 1 when one was verified, and
 * a negative errno (GX_AUTHZ, or GX_SYSTEM for an unusable vomsdir) when an AC is present
 * but not acceptable. */
int voms_verify_chain(STACK_OF(X509) *chain, int eec_index, const struct voms_trust *trust,
                      struct gx_identity *id, struct gx_error *err);

/* Set up ctx to verify leaf against store at policy->now with the site's settings (CRLs,
 * auth level 2, depth limit); proxies selects RFC 3820 proxy support. */
int cred_store_ctx_init(X509_STORE_CTX *ctx, X509_STORE *store, X509 *leaf,
                        STACK_OF(X509) *untrusted, const struct cred_x509_policy *policy,
                        bool proxies);

/* ASN1_TIME (UTCTime or GeneralizedTime) to seconds since the epoch. */
int cred_time_to_unix(const ASN1_TIME *t, int64_t *ret);

/* The classic X509_NAME_oneline form of name ("/DC=org/CN=Alice"), refused when it could be
 * mistaken for another name: control characters, NUL or backslash in a value, or a value
 * containing "/attr=". -ENAMETOOLONG if it does not fit. */
int cred_name_oneline(const X509_NAME *name, char *buf, size_t size);

/* Fill err with an authorization failure: the public message is "credential verification
 * failed: <public_reason>", the log message the formatted detail. */
int cred_deny(struct gx_error *err, const char *public_reason, const char *fmt, ...)
        _printf_(3, 4);
