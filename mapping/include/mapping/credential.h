/* Verification of the payload owner's credential. Input is untrusted bytes (or an fd the
 * launcher opened with the caller's rights) plus the site's trust settings; output is a
 * struct gx_identity. No privileges, no exits, no logging. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "mapping/identity.h"

/* Largest credential file accepted; anything bigger is refused before parsing. */
#define GX_CRED_MAX_BYTES (256 * 1024)

struct cred_x509_policy {
        const char *certdir;        /* hashed CA directory (IGTF layout, <hash>.0 and .r0) */
        const char *vomsdir;        /* vomsdir/<vo>/<host>.lsc; NULL disables VOMS */
        const char *host_fqdn;      /* for the VOMS Targets extension */
        int64_t now;                /* seconds since the epoch */
        uint64_t min_lifetime;      /* seconds the credential must still be valid */
        bool require_private_key;   /* proof of possession */
        bool allow_limited;
        bool allow_legacy;
        bool check_crls;
};

/* The site's trust files that a successful verification relied on, so that a store of
 * verified results can tell when one has gone stale. hash_dir reads a certificate or CRL by
 * the hash of a name: every <hash>.N (certificates) or <hash>.rN (CRLs) file of the hashes
 * listed here may have been read, and nothing else of certdir; of vomsdir, the files in
 * vomsdir/<vo>/ for the VOs listed and the plain files in vomsdir itself (the legacy layout). */
#define CRED_TRUST_MAX_HASHES 16
#define CRED_TRUST_MAX_VOS 8
struct cred_trust_use {
        unsigned long cert_hashes[CRED_TRUST_MAX_HASHES];
        size_t n_cert_hashes;
        unsigned long crl_hashes[CRED_TRUST_MAX_HASHES];
        size_t n_crl_hashes;
        int64_t crls_next_update; /* earliest nextUpdate of those CRLs; INT64_MAX if none */
        char vos[CRED_TRUST_MAX_VOS][256];
        size_t n_vos;
        bool incomplete; /* more than the arrays hold: do not rely on the lists */
};

/* Verify a PEM proxy file (certificate, optional key, chain). When use is not NULL and the
 * verification succeeds, it is filled with the trust files the result depends on. */
int cred_x509_verify(const char *pem, size_t len, const struct cred_x509_policy *policy,
                     struct gx_identity *ret, struct cred_trust_use *use, struct gx_error *err);

/* The lifetime rule of cred_x509_verify on an identity it returned: at least
 * policy->min_lifetime seconds left after policy->now, else a refusal saying so. */
int cred_x509_check_lifetime(const struct gx_identity *id, const struct cred_x509_policy *policy,
                             struct gx_error *err);

/* Parse a DER VOMS AC container (the value of proxy extension 1.3.6.1.4.1.8005.100.100.5) and
 * apply every check that needs neither the holder nor a trust anchor: structure, version,
 * algorithms, extensions (Targets against host_fqdn), policy authority, FQAN syntax. Fills
 * ret->fqans and ret->n_fqans with the normalised FQANs, which are NOT verified: this is for
 * fuzzing and diagnostics; authorization uses cred_x509_verify, which runs the same checks
 * plus the holder, validity and signature checks. */
int cred_voms_parse_unverified(const uint8_t *der, size_t len, const char *host_fqdn,
                               struct gx_identity *ret, struct gx_error *err);
