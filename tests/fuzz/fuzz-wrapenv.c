/* glexec_unwrapenv's decoder of GLEXEC_ENV (base64, zlib, base64 items) on arbitrary bytes;
 * whatever it accepts must pack and unpack again to the same variables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char **vars = NULL;
        if (envpack_decode((const char *)data, size, &vars) < 0)
                return 0;
        char *packed = NULL;
        char **again = NULL;
        if (envpack_encode(vars, &packed) == 0 &&
            envpack_decode(packed, strlen(packed), &again) == 0) {
                size_t i = 0;
                for (; vars[i] && again[i]; i++)
                        if (strcmp(vars[i], again[i]) != 0)
                                abort();
                if (vars[i] || again[i])
                        abort();
        }
        envpack_free(again);
        free(packed);
        envpack_free(vars);
        return 0;
}
