/* What glexec and glexec-verify say to each other (verifier.h): one request, written by
 * glexec to the verifier's stdin and closed, then one reply, written by the verifier to its
 * stdout. Both programs come from one build, so the reply is a plain struct; the request has
 * strings of any length and is encoded field by field. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "mapping/credential.h"
#include "mapping/identity.h"
#include "mapping/token.h"

enum verify_op {
        VERIFY_X509 = 1,      /* cred_x509_verify() */
        VERIFY_TOKEN,         /* cred_token_verify() */
        VERIFY_CHECK_ISSUERS, /* cred_token_check_issuers(), for --check-config */
};

/* The largest request: a credential and the policy's strings. */
#define VERIFY_REQUEST_MAX (GX_CRED_MAX_BYTES + 64 * 1024)

struct verify_reply {
        char magic[8];
        int32_t result; /* the verification's return value: 0 (or the issuer count) or < 0 */
        int32_t pad;
        struct gx_error err;
        struct gx_identity id;
        struct cred_trust_use use;
        char jwks_used[PATH_MAX];
};

extern const char verify_reply_magic[8];

/* Does the reply make sense as the answer to op? The verifier runs with the caller's ids,
 * so whatever it wrote is checked before glexec reads a string or a count of it: a malformed
 * reply is GX_SYSTEM; a refusal is the verifier's error, returned as err. */
int verify_reply_check(const struct verify_reply *r, enum verify_op op, struct gx_error *err);

/* A request: the operation, its policy and the credential. For VERIFY_CHECK_ISSUERS only
 * token.issuers_file is used. */
struct verify_request {
        enum verify_op op;
        struct cred_x509_policy x509;   /* VERIFY_X509 */
        struct cred_token_policy token; /* VERIFY_TOKEN */
        const char *credential;         /* the proxy or token, not NUL-terminated */
        size_t credential_len;
};

/* The request as bytes: a malloc'd buffer in *ret_buf, wiped and freed with
 * verify_request_wipe(); -ENOMEM. */
int verify_request_encode(const struct verify_request *req, char **ret_buf, size_t *ret_len);
void verify_request_wipe(char *buf, size_t len);

/* The request in buf (which its strings and credential point into, so it must outlive
 * them); -EINVAL for anything but exactly one well-formed request. The string lists are
 * malloc'd: verify_request_free(). */
int verify_request_decode(const char *buf, size_t len, struct verify_request *ret);
void verify_request_free(struct verify_request *req);
