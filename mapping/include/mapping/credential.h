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

/* Verify a PEM proxy file (certificate, optional key, chain). */
int cred_x509_verify(const char *pem, size_t len, const struct cred_x509_policy *policy,
                     struct gx_identity *ret, struct gx_error *err);

/* Parse a DER VOMS AC container (the value of proxy extension 1.3.6.1.4.1.8005.100.100.5) and
 * apply every check that needs neither the holder nor a trust anchor: structure, version,
 * algorithms, extensions (Targets against host_fqdn), policy authority, FQAN syntax. Fills
 * ret->fqans and ret->n_fqans with the normalised FQANs, which are NOT verified: this is for
 * fuzzing and diagnostics; authorization uses cred_x509_verify, which runs the same checks
 * plus the holder, validity and signature checks. */
int cred_voms_parse_unverified(const uint8_t *der, size_t len, const char *host_fqdn,
                               struct gx_identity *ret, struct gx_error *err);
