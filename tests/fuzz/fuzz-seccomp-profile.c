/* The seccomp profile parser and compiler: any input gives a filter or an error, never a
 * crash, a leak or a read outside the input (which is not NUL-terminated here). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sandbox/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sc_filter f = {0};
        struct gx_error err = {0};

        if (sc_profile_compile_text((const char *)data, size, &f, &err) < 0)
                return 0;
        /* Walk the program on a few inputs derived from the profile itself. */
        for (size_t i = 0; i < 8; i++) {
                struct seccomp_data d = {.nr = (int)i * 61, .arch = f.insns[1].k};
                memcpy(d.args, data, size < sizeof(d.args) ? size : sizeof(d.args));
                sc_filter_eval(&f, &d);
        }
        sc_filter_free(&f);
        return 0;
}
