#pragma once

#include <stddef.h>

#include "mapping/identity.h"

/* One log-safe line describing who the credential belongs to (escaped, bounded). */
void identity_describe(const struct gx_identity *id, char *buf, size_t n);
