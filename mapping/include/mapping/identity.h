/* What credential verification yields: a flat, fixed-size description of the payload owner
 * with no pointers into parser objects, so that it could be returned over a pipe by an
 * unprivileged verifier process. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GX_DN_MAX 1024
#define GX_FQAN_MAX 256
#define GX_MAX_FQANS 32
#define GX_TOKEN_STR_MAX 512

enum gx_cred_kind {
        GX_CRED_NONE = 0,
        GX_CRED_X509,
        GX_CRED_TOKEN,
};

struct gx_identity {
        enum gx_cred_kind kind;

        /* X.509: the end-entity certificate's subject and issuer, "/DC=org/.../CN=..." form. */
        char dn[GX_DN_MAX];
        char issuer[GX_DN_MAX];
        /* VOMS FQANs in the order of the attribute certificate, normalised (no trailing
         * "/Role=NULL" or "/Capability=NULL"). */
        char fqans[GX_MAX_FQANS][GX_FQAN_MAX];
        size_t n_fqans;
        bool limited_proxy;

        /* WLCG token claims. */
        char token_iss[GX_TOKEN_STR_MAX];
        char token_sub[GX_TOKEN_STR_MAX];
        char token_groups[GX_MAX_FQANS][GX_FQAN_MAX];
        size_t n_token_groups;

        /* Earliest end of validity over everything verified (chain, ACs, token exp). */
        int64_t not_after;
};
