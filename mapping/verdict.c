/* The verdicts on a credential that need no parsing, apart from the parsers so that the
 * setuid front end can apply them to a cached identity without linking OpenSSL's X.509 code
 * (it lives in glexec-verify). */
#include <stdarg.h>
#include <stdio.h>

#include "mapping/credential.h"
#include "voms.h"

int cred_deny(struct gx_error *err, const char *public_reason, const char *fmt, ...)
{
        char detail[sizeof(err->msg)], pub[sizeof(err->public_msg)];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        snprintf(pub, sizeof(pub), "credential verification failed: %s", public_reason);
        return gx_fail_public(err, GX_AUTHZ, 0, pub, "%s", detail);
}

int cred_x509_check_lifetime(const struct gx_identity *id, const struct cred_x509_policy *policy,
                             struct gx_error *err)
{
        int64_t left = id->not_after - policy->now;
        if (left < 0 ? policy->min_lifetime > 0 : (uint64_t)left < policy->min_lifetime)
                return cred_deny(err, "credential expires too soon",
                                 "credential is valid for %lld more seconds, less than the "
                                 "required %llu",
                                 (long long)left, (unsigned long long)policy->min_lifetime);
        return 0;
}
