#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "mapping/identity.h"

/* One log-safe line describing who the credential belongs to (escaped, bounded). */
void identity_describe(const struct gx_identity *id, char *buf, size_t n);

/* Is id of this kind, with its counts in bounds and every string NUL-terminated? For an
 * identity that crossed a process or file boundary (glexec-verify's answer, a cache entry). */
bool identity_well_formed(const struct gx_identity *id, enum gx_cred_kind kind);
