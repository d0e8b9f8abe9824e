/* The configuration parser on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        struct config cfg;
        struct gx_error err;
        if (config_init_defaults(&cfg) == 0)
                config_parse_string(&cfg, text, "fuzz.conf", &err);
        config_free(&cfg);
        free(text);
        return 0;
}
