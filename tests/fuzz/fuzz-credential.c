/* cred_x509_verify on arbitrary bytes: PEM parsing, certificate and key decoding, chain
 * building against a CA directory that holds nothing (so every chain fails to verify), the
 * legacy-proxy callback. The first byte selects the policy switches. */
#include <stdint.h>
#include <string.h>

#include "mapping/credential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        const struct cred_x509_policy policy = {
                .certdir = "/nonexistent/glexec-fuzz-certdir",
                .vomsdir = "/nonexistent/glexec-fuzz-vomsdir",
                .host_fqdn = "wn01.glexec-test.org",
                .now = 1800000000,
                .min_lifetime = data[0] & 1 ? 300 : 0,
                .require_private_key = data[0] & 2,
                .allow_limited = data[0] & 4,
                .allow_legacy = data[0] & 8,
                .check_crls = data[0] & 16,
        };
        static struct gx_identity id;
        struct gx_error err;
        memset(&err, 0, sizeof(err));
        (void)cred_x509_verify((const char *)data + 1, size - 1, &policy, &id, NULL, &err);
        return 0;
}
