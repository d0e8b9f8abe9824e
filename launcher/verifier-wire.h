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

/* Building a request. A failed allocation is remembered and reported by wire_finish(). */
struct wire {
        char *buf;
        size_t len, cap;
        bool failed;
};
void wire_put_u64(struct wire *w, uint64_t v);
/* A string, or NULL. */
void wire_put_str(struct wire *w, const char *s);
/* A NULL-terminated string list, or NULL. */
void wire_put_strv(struct wire *w, char *const *v);
/* Bytes of any kind (the credential). */
void wire_put_bytes(struct wire *w, const void *data, size_t len);
/* 0, or -ENOMEM if anything could not be added. */
int wire_finish(const struct wire *w);
/* Wipe (it may hold a private key) and free the buffer. */
void wire_free(struct wire *w);

/* Reading one. Every getter returns 0 or NULL past the end or on a malformed field and sets
 * failed; strings point into the buffer, which must outlive them. */
struct wire_reader {
        const char *p;
        size_t left;
        bool failed;
};
uint64_t wire_get_u64(struct wire_reader *r);
const char *wire_get_str(struct wire_reader *r);
/* The list as a malloc'd array of pointers into the buffer (NULL for a NULL list). */
char **wire_get_strv(struct wire_reader *r);
const char *wire_get_bytes(struct wire_reader *r, size_t *ret_len);
