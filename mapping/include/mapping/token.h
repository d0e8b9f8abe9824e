/* WLCG JWT bearer tokens (WLCG Common JWT Profile 1.0) as the payload owner's credential,
 * verified offline: the keys come from local JWKS files that the site's token-issuers file
 * names (SPEC section 7), never from the network. No privileges, no exits, no logging. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "mapping/identity.h"

/* Size caps, checked before anything is parsed. */
#define CRED_TOKEN_MAX_BYTES (16 * 1024)
#define CRED_TOKEN_JWKS_MAX_BYTES (256 * 1024)
#define CRED_TOKEN_ISSUERS_MAX_BYTES (64 * 1024)

/* Largest token_clock_skew accepted; a larger one is a configuration error (GX_SYSTEM). */
#define CRED_TOKEN_MAX_CLOCK_SKEW 86400

/* The "aud" value meaning any relying party. */
#define CRED_TOKEN_ANY_AUDIENCE "https://wlcg.cern.ch/jwt/v1/any"

struct cred_token_policy {
        const char *issuers_file;        /* token_issuers: "<issuer URL>" <JWKS path> lines */
        char *const *audiences;          /* token_audience, NULL-terminated */
        bool accept_any_audience;        /* token_accept_any_audience */
        char *const *required_scopes;    /* token_required_scopes, NULL-terminated */
        uint64_t clock_skew;             /* token_clock_skew, seconds */
        int64_t now;                     /* seconds since the epoch */
};

/* Verify a compact JWS token (leading and trailing whitespace are ignored, as bearer token
 * files often end in a newline) and describe its owner: kind GX_CRED_TOKEN, token_iss,
 * token_sub, token_groups from wlcg.groups, not_after = exp. The issuers file and the JWKS
 * files are opened with gx_open_trusted(). Every verdict on the token is GX_AUTHZ with one line
 * naming the failed check and never quoting the token; an untrusted, unreadable or malformed
 * issuers or JWKS file is GX_SYSTEM. jwks_used, when not NULL, gets the path (at most
 * PATH_MAX bytes) of the JWKS file a verified token was checked against. */
int cred_token_verify(const char *token, size_t len, const struct cred_token_policy *policy,
                      struct gx_identity *ret, char *jwks_used, struct gx_error *err);

/* A trusted issuer whose JWKS text is already in memory. */
struct cred_token_issuer {
        const char *iss;
        const char *jwks;
        size_t jwks_len;
};

/* cred_token_verify() against an in-memory issuer list (policy->issuers_file is not used):
 * for tests and fuzzers. */
int cred_token_verify_with(const char *token, size_t len, const struct cred_token_policy *policy,
                           const struct cred_token_issuer *issuers, size_t n_issuers,
                           struct gx_identity *ret, struct gx_error *err);

/* Parse the text of a token-issuers file and return (malloc'd) the JWKS path configured for
 * iss. A malformed file is GX_SYSTEM naming the line; an issuer it does not list is
 * GX_AUTHZ. */
int cred_token_issuers_lookup(const char *text, size_t len, const char *iss,
                              char **ret_jwks_path, struct gx_error *err);

/* For --check-config: open the issuers file and every JWKS file it names the way verification
 * does, and check their syntax. Returns the number of issuers. */
int cred_token_check_issuers(const char *issuers_file, struct gx_error *err);
