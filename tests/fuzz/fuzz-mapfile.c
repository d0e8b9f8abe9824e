/* Every map-file parser (grid-mapfile, voms-grid-mapfile, groupmapfile, ban file, token
 * mapfile), selected by the first input byte, then the matching rules and lease names on
 * whatever parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mapping/lease.h"
#include "mapping/mapfile.h"
#include "mapping/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct map_file *f)
{
        static struct gx_identity x509 = {.kind = GX_CRED_X509}, tok = {.kind = GX_CRED_TOKEN};
        if (!x509.dn[0]) {
                snprintf(x509.dn, sizeof(x509.dn), "/DC=org/DC=example/CN=Alice \\xC3\\xA9");
                snprintf(x509.fqans[0], GX_FQAN_MAX, "/atlas/Role=production");
                snprintf(x509.fqans[1], GX_FQAN_MAX, "/atlas");
                x509.n_fqans = 2;
                snprintf(tok.token_iss, sizeof(tok.token_iss), "https://iss.example");
                snprintf(tok.token_sub, sizeof(tok.token_sub), "alice-sub");
                snprintf(tok.token_groups[0], GX_FQAN_MAX, "/atlas");
                tok.n_token_groups = 1;
        }

        map_file_match_ban(f, &x509);
        map_file_match_ban(f, &tok);
        map_file_match_token(f, &tok);
        for (int pools = 0; pools <= 1; pools++) {
                map_file_match_dn(f, x509.dn, pools);
                map_file_match_fqan(f, x509.fqans[0], pools);
                map_file_match_fqan(f, x509.fqans[1], pools);
        }

        struct map_rules rules = {0};
        switch (f->kind) {
        case MAP_GRIDMAP: rules.gridmap = f; break;
        case MAP_VOMS_GRIDMAP: rules.voms_gridmap = f; break;
        case MAP_GROUPMAP: rules.groupmap = f; break;
        case MAP_TOKENMAP: rules.tokenmap = f; break;
        default: break;
        }
        struct map_decision d;
        struct gx_error err;
        map_decide(&rules, &x509, &d, &err);
        map_decide(&rules, &tok, &d, &err);

        /* Parsed subjects as keys: lease names must always fit and be well formed. */
        for (size_t i = 0; i < f->n_rules && i < 64; i++) {
                const struct map_rule *r = &f->rules[i];
                char name[LEASE_NAME_MAX];
                const char *groups[] = {r->subject};
                if (lease_name_dn(r->subject, groups, 1, name) == 0 &&
                    (strlen(name) >= LEASE_NAME_MAX || name[0] != '%' || strchr(name, '/')))
                        __builtin_trap();
                if (r->subject2 && lease_name_token(r->subject, r->subject2, name) == 0 &&
                    (strlen(name) >= LEASE_NAME_MAX || strchr(name, '/')))
                        __builtin_trap();
                char fqan[GX_FQAN_MAX];
                snprintf(fqan, sizeof(fqan), "%s", r->subject);
                map_fqan_normalise(fqan);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        enum map_file_kind kind = (enum map_file_kind)(data[0] % _MAP_FILE_KIND_MAX);
        struct map_file f = {0};
        struct gx_error err;
        if (map_file_parse(kind, (const char *)data + 1, size - 1, "fuzz", &f, &err) == 0)
                exercise(&f);
        map_file_free(&f);
        return 0;
}
