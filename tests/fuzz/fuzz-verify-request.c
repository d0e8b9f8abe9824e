/* verify_request_decode on arbitrary bytes: what glexec-verify reads from its stdin. A
 * request that decodes must encode to bytes that decode again, to the same request (flags
 * other than 0 and 1 become 1, so the bytes may differ from the input once). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier-wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct verify_request req;
        if (verify_request_decode((const char *)data, size, &req) < 0)
                return 0;
        char *buf = NULL, *again = NULL;
        size_t len = 0, again_len = 0;
        struct verify_request back;
        if (verify_request_encode(&req, &buf, &len) == 0) {
                if (verify_request_decode(buf, len, &back) < 0)
                        abort();
                if (verify_request_encode(&back, &again, &again_len) == 0 &&
                    (again_len != len || memcmp(again, buf, len) != 0))
                        abort();
                verify_request_wipe(again, again_len);
                verify_request_free(&back);
        }
        verify_request_wipe(buf, len);
        verify_request_free(&req);
        return 0;
}
