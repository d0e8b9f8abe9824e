/* The VOMS AC parser on arbitrary DER, as found in proxy extension 1.3.6.1.4.1.8005.100.100.5:
 * ASN.1 templates, policy authority and FQAN checks, extensions, Targets (both encodings). */
#include <stdint.h>
#include <string.h>

#include "mapping/credential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct gx_identity id;
        struct gx_error err;
        memset(&err, 0, sizeof(err));
        (void)cred_voms_parse_unverified(data, size, "wn01.glexec-test.org", &id, &err);
        return 0;
}
