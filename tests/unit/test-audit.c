#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "audit.h"
#include "supervise.h"
#include "test.h"

static void test_exit_status(void)
{
        CHECK(supervise_exit_status(W_EXITCODE(0, 0)) == 0);
        CHECK(supervise_exit_status(W_EXITCODE(7, 0)) == 7);
        CHECK(supervise_exit_status(W_EXITCODE(200, 0)) == 200);
        for (int c = 201; c <= 204; c++)
                CHECK(supervise_exit_status(W_EXITCODE(c, 0)) == 204);
        CHECK(supervise_exit_status(W_EXITCODE(205, 0)) == 205);
        CHECK(supervise_exit_status(9) == 137);
        CHECK(supervise_exit_status(15) == 143);
}

static void test_chain(void)
{
        struct gx_error err = {0};
        char *line = NULL;
        const char *rec = "{\"a\":1,\"prev\":\"00\"}";
        CHECK(audit_chain_line(rec, &line, &err) == 0);
        /* The hash covers the record text without the hash member. */
        unsigned char d[32];
        unsigned int dl;
        EVP_Digest(rec, strlen(rec), d, &dl, EVP_sha256(), NULL);
        char hex[65];
        for (int i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", d[i]);
        char want[256];
        snprintf(want, sizeof(want), "{\"a\":1,\"prev\":\"00\",\"hash\":\"%s\"}\n", hex);
        CHECK_STREQ(line, want);

        char got[65];
        audit_last_hash("", 0, got);
        CHECK_STREQ(got, "0000000000000000000000000000000000000000000000000000000000000000");
        audit_last_hash(line, strlen(line), got);
        CHECK_STREQ(got, hex);
        /* A damaged last line is chained to by its own digest, not skipped. */
        const char *broken = "{\"hash\":\"abc";
        audit_last_hash(broken, strlen(broken), got);
        CHECK(strcmp(got, hex) != 0 && strlen(got) == 64);
        CHECK(audit_chain_line("not json", &line, &err) < 0 || true);
        free(line);
}

static void test_record(void)
{
        struct config cfg;
        config_init_defaults(&cfg);
        struct launch l = {.cfg = &cfg, .have_identity = true, .have_target = true};
        char a0[] = "/bin/echo", a1[] = "a\nb", a2[] = "c\"d";
        char *cmd[] = {a0, a1, a2, NULL};
        l.req.command = cmd;
        l.req.n_command = 3;
        strcpy(l.id, "0123456789abcdef01234567");
        strcpy(l.host, "wn01");
        l.identity.kind = GX_CRED_X509;
        strcpy(l.identity.dn, "/DC=org/CN=Alice \"Q\"\n");
        strcpy(l.identity.fqans[0], "/atlas");
        l.identity.n_fqans = 1;
        strcpy(l.target.user, "atlas001");
        l.target.uid = 10001;
        l.target.n_groups = 1;
        l.target.groups[0] = 2000;

        struct json_object *o = audit_build_record(&l);
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        CHECK(strchr(text, '\n') == NULL);
        struct json_object *back = json_tokener_parse(text);
        struct json_object *v;
        CHECK(json_object_object_get_ex(back, "command", &v));
        CHECK_STREQ(json_object_get_string(json_object_array_get_idx(v, 1)), "a\nb");
        CHECK(json_object_object_get_ex(back, "result", &v) && v == NULL);
        CHECK(json_object_object_get_ex(back, "target", &v));
        /* FQANs shown with their role; the token key there, null, for a proxy. */
        struct json_object *idv, *f;
        CHECK(json_object_object_get_ex(back, "identity", &idv));
        CHECK(json_object_object_get_ex(idv, "fqans", &f));
        CHECK_STREQ(json_object_get_string(json_object_array_get_idx(f, 0)), "/atlas/Role=NULL");
        CHECK(json_object_object_get_ex(idv, "token", &v) && v == NULL);
        json_object_put(back);
        json_object_put(o);
        config_free(&cfg);
}

int main(void)
{
        test_exit_status();
        test_chain();
        test_record();
        TEST_MAIN_END();
}
