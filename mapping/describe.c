#include "mapping/describe.h"

#include <stdio.h>
#include <string.h>

#include "common/strutil.h"

void fqan_display(const char *fqan, char *buf, size_t n)
{
        snprintf(buf, n, "%s%s", fqan, strstr(fqan, "/Role=") ? "" : "/Role=NULL");
}

void identity_describe(const struct gx_identity *id, char *buf, size_t n)
{
        char a[600], b[600], fqan[FQAN_DISPLAY_MAX];
        size_t o = 0;

        buf[0] = '\0';
        switch (id->kind) {
        case GX_CRED_X509:
                gx_escape(a, sizeof(a), id->dn);
                o = (size_t)snprintf(buf, n, "DN \"%s\"", a);
                for (size_t i = 0; i < id->n_fqans && o < n; i++) {
                        fqan_display(id->fqans[i], fqan, sizeof(fqan));
                        gx_escape(b, sizeof(b), fqan);
                        o += (size_t)snprintf(buf + o, n - o, "%s\"%s\"", i ? "," : " FQANs ", b);
                }
                break;
        case GX_CRED_TOKEN:
                gx_escape(a, sizeof(a), id->token_iss);
                gx_escape(b, sizeof(b), id->token_sub);
                snprintf(buf, n, "token iss \"%s\" sub \"%s\"", a, b);
                break;
        case GX_CRED_NONE:
                snprintf(buf, n, "no credential");
                break;
        }
}

bool identity_well_formed(const struct gx_identity *id, enum gx_cred_kind kind)
{
        if (id->kind != kind || id->n_fqans > GX_MAX_FQANS ||
            id->n_token_groups > GX_MAX_FQANS || !gx_terminated(id->dn, sizeof(id->dn)) ||
            !gx_terminated(id->issuer, sizeof(id->issuer)) ||
            !gx_terminated(id->token_iss, sizeof(id->token_iss)) ||
            !gx_terminated(id->token_sub, sizeof(id->token_sub)))
                return false;
        for (size_t i = 0; i < id->n_fqans; i++)
                if (!gx_terminated(id->fqans[i], sizeof(id->fqans[i])))
                        return false;
        for (size_t i = 0; i < id->n_token_groups; i++)
                if (!gx_terminated(id->token_groups[i], sizeof(id->token_groups[i])))
                        return false;
        return true;
}
