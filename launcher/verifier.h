/* Credential verification in a process of its own (DESIGN.md, "Process model").
 *
 * Everything that parses the credential (PEM, X.509 chains, VOMS ACs, JWTs, JWKS) is in
 * glexec-verify, a separate program in the libexec directory that is not setuid. glexec forks
 * and executes it as it is (euid root, real ids the caller's), so that the kernel makes it
 * undumpable and the caller cannot trace it; it gives up root for the caller's ids before
 * reading the request and confines itself with a seccomp filter before parsing it; glexec
 * then checks that its answer is well formed before using it.
 * A parser exploit thus yields the caller's own uid, not root. It also keeps OpenSSL's X.509
 * and provider code out of glexec, whose every exec would pay for loading it: a credential
 * verified before comes from the cache (cred-cache.h) without starting the verifier. */
#pragma once

#include <limits.h>
#include <stddef.h>

#include "build-config.h"
#include "common/error.h"
#include "mapping/credential.h"
#include "mapping/token.h"

/* The installed verifier. */
#define VERIFIER_PATH GLEXEC_LIBEXECDIR "/glexec-verify"

/* cred_x509_verify() in glexec-verify. */
int verifier_x509(const char *pem, size_t len, const struct cred_x509_policy *policy,
                  struct gx_identity *ret, struct cred_trust_use *use, struct gx_error *err);

/* cred_token_verify() in glexec-verify; jwks_used gets at most PATH_MAX bytes. */
int verifier_token(const char *token, size_t len, const struct cred_token_policy *policy,
                   struct gx_identity *ret, char *jwks_used, struct gx_error *err);

/* cred_token_check_issuers() in glexec-verify: the number of issuers, or < 0. */
int verifier_check_issuers(const char *issuers_file, struct gx_error *err);
