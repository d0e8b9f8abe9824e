/* Verified proxies and tokens, kept so that the same credential presented again is not
 * verified again. */
#pragma once

#include "common/error.h"
#include "mapping/credential.h"
#include "mapping/token.h"

/* cred_x509_verify() in glexec-verify (verifier.h), or the identity an earlier launch of this
 * glexec verified for the same bytes under the same policy, when it is still valid at
 * policy->now for policy->min_lifetime and none of the trust files it relied on has changed
 * since. Only successes are kept; every refusal comes from a full verification. */
int cred_cache_verify_x509(const char *pem, size_t len, const struct cred_x509_policy *policy,
                           struct gx_identity *ret, struct gx_error *err);

/* The same for a token: cred_token_verify() in glexec-verify, or an earlier launch's
 * identity for the same token under the same policy, before the token's exp and while the
 * issuers file and the JWKS file it was checked against, and their directories, are
 * unchanged and trusted. */
int cred_cache_verify_token(const char *token, size_t len, const struct cred_token_policy *policy,
                            struct gx_identity *ret, struct gx_error *err);
