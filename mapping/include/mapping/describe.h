#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "mapping/identity.h"

/* An FQAN as the report, the audit log and the logs show it (SPEC section 8): with its role,
 * "/Role=NULL" when it has none ("/atlas" -> "/atlas/Role=NULL"), without the deprecated
 * "/Capability=NULL". Identities hold FQANs in the short form that matching uses. */
#define FQAN_DISPLAY_MAX (GX_FQAN_MAX + sizeof("/Role=NULL"))
void fqan_display(const char *fqan, char *buf, size_t n);

/* One log-safe line describing who the credential belongs to (escaped, bounded). */
void identity_describe(const struct gx_identity *id, char *buf, size_t n);

/* Is id of this kind, with its counts in bounds and every string NUL-terminated? For an
 * identity that crossed a process or file boundary (glexec-verify's answer, a cache entry). */
bool identity_well_formed(const struct gx_identity *id, enum gx_cred_kind kind);
