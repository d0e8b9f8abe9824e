/* Map-file parsers and matching rules (mapping/mapfile.c), through the text entry point. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mapping/mapfile.h"
#include "test.h"

static int parse(enum map_file_kind kind, const char *text, struct map_file *f,
                 struct gx_error *err)
{
        return map_file_parse(kind, text, strlen(text), "test", f, err);
}

/* Parsing fails with GX_SYSTEM and the message names "test:<line>". */
static void check_error(enum map_file_kind kind, const char *text, unsigned line)
{
        struct map_file f = {0};
        struct gx_error err = {0};
        char where[32];
        int r = parse(kind, text, &f, &err);
        CHECK(r < 0);
        CHECK(err.class == GX_SYSTEM);
        snprintf(where, sizeof(where), "test:%u:", line);
        if (!strstr(err.msg, where))
                fprintf(stderr, "expected %s in: %s\n", where, err.msg);
        CHECK(strstr(err.msg, where) != NULL);
        map_file_free(&f);
}

static void test_gridmap(void)
{
        struct map_file f = {0};
        struct gx_error err = {0};
        const char *text =
                "# comment line\n"
                "\n"
                "   # indented comment\n"
                "\"/DC=org/DC=example/CN=Alice Smith\" alice\n"
                "\"/DC=org/DC=example/CN=Bob \\\"the\\\" \\\\Builder\" bob1, bob2 ,bob3 # trailing\r\n"
                "\"/DC=org/DC=example/CN=Ren\\xC3\\xA9\" rene\n"
                "/DC=org/DC=example/CN=unquoted .dteam\n"
                "\t\"/DC=org/DC=example/OU=pool/*\"\t.pool\n"
                "\"/DC=org/DC=example/CN=\xc3\xa9t\xc3\xa9\" ete";
        CHECK(parse(MAP_GRIDMAP, text, &f, &err) == 0);
        CHECK(f.n_rules == 6);
        if (f.n_rules == 6) {
                CHECK_STREQ(f.rules[0].subject, "/DC=org/DC=example/CN=Alice Smith");
                CHECK_STREQ(f.rules[0].names[0], "alice");
                CHECK(f.rules[0].names[1] == NULL);
                CHECK(f.rules[0].pool == NULL);
                CHECK(f.rules[0].line == 4);
                CHECK_STREQ(f.rules[1].subject, "/DC=org/DC=example/CN=Bob \"the\" \\Builder");
                CHECK_STREQ(f.rules[1].names[0], "bob1");
                CHECK_STREQ(f.rules[1].names[1], "bob2");
                CHECK_STREQ(f.rules[1].names[2], "bob3");
                CHECK(f.rules[1].names[3] == NULL);
                /* DNs in the oneline form that credential verification writes. */
                CHECK_STREQ(f.rules[2].subject, "/DC=org/DC=example/CN=Ren\\xC3\\xA9");
                CHECK_STREQ(f.rules[3].subject, "/DC=org/DC=example/CN=unquoted");
                CHECK_STREQ(f.rules[3].pool, "dteam");
                CHECK(f.rules[3].names == NULL);
                CHECK_STREQ(f.rules[4].pool, "pool");
                CHECK_STREQ(f.rules[5].subject, "/DC=org/DC=example/CN=\\xC3\\xA9t\\xC3\\xA9");
                CHECK(f.rules[5].line == 9);

                const struct map_rule *r;
                r = map_file_match_dn(&f, "/DC=org/DC=example/CN=Alice Smith", false);
                CHECK(r == &f.rules[0]);
                CHECK(map_file_match_dn(&f, "/DC=org/DC=example/CN=Alice Smith", true) == NULL);
                CHECK(map_file_match_dn(&f, "/DC=org/DC=example/CN=alice smith", false) == NULL);
                r = map_file_match_dn(&f, "/DC=org/DC=example/OU=pool/CN=Carol", true);
                CHECK(r == &f.rules[4]);
                CHECK(map_file_match_dn(&f, "/DC=org/DC=example/OU=poolx/CN=Carol", true) == NULL);
                CHECK(map_file_match_dn(&f, "", false) == NULL);
                CHECK(map_file_match_dn(&f, "/DC=org/DC=example/CN=Ren\\xC3\\xA9", false) ==
                      &f.rules[2]);
                CHECK(map_file_match_dn(&f, "/DC=org/DC=example/CN=\\xC3\\xA9t\\xC3\\xA9",
                                        false) == &f.rules[5]);
        }
        map_file_free(&f);

        /* Wildcards next to \xHH: the backslash is not an fnmatch escape. */
        CHECK(parse(MAP_GRIDMAP, "\"/DC=org/CN=Ren\xc3*\" rene\n", &f, &err) == 0);
        CHECK(f.n_rules == 1 &&
              map_file_match_dn(&f, "/DC=org/CN=Ren\\xC3\\xA9", false) == &f.rules[0]);
        CHECK(f.n_rules == 1 && map_file_match_dn(&f, "/DC=org/CN=RenxC3", false) == NULL);
        map_file_free(&f);

        /* Syntax errors name the line. */
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\" a\n\"/DC=x/CN=b b\n", 2);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\"\n", 1);
        check_error(MAP_GRIDMAP, "#\n\"/DC=x/CN=a\" a b\n", 2);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\" a,,b\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\" a,\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\" -rf\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\" ../etc\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\" a/b\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\" .\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\" ..pool\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\\x00b\" a\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\\xZZ\" a\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\\x4\" a\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\\", 1);
        check_error(MAP_GRIDMAP, "\"\" a\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\tb\" a\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\x01\" a\n", 1);
        check_error(MAP_GRIDMAP, "\"/*/*/*/*/*\" a\n", 1);
        check_error(MAP_GRIDMAP, "\"/DC=x/CN=a\" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                    1);

        /* A NUL byte is an error on its line, not the end of the file. */
        struct map_file g = {0};
        static const char nul[] = "\"/DC=x/CN=a\" a\n\"/DC=x/CN=b\" b\0\"/DC=x/CN=c\" c\n";
        CHECK(map_file_parse(MAP_GRIDMAP, nul, sizeof(nul) - 1, "test", &g, &err) < 0);
        CHECK(strstr(err.msg, "test:2:") != NULL);
        map_file_free(&g);

        /* Line length limit. */
        size_t n = MAP_LINE_MAX + 10;
        char *longline = malloc(n + 1);
        memset(longline, 'a', n);
        longline[0] = '"';
        longline[n] = '\0';
        check_error(MAP_GRIDMAP, longline, 1);
        free(longline);

        /* A field longer than a DN can be. */
        char *longdn = malloc(GX_DN_MAX + 16);
        memset(longdn, 'a', GX_DN_MAX + 8);
        longdn[0] = '"';
        memcpy(longdn + GX_DN_MAX + 4, "\" a", 4);
        check_error(MAP_GRIDMAP, longdn, 1);
        free(longdn);
}

static void test_voms_and_fqans(void)
{
        char fq[GX_FQAN_MAX];
        snprintf(fq, sizeof(fq), "/atlas/Role=NULL/Capability=NULL");
        map_fqan_normalise(fq);
        CHECK_STREQ(fq, "/atlas");
        snprintf(fq, sizeof(fq), "/atlas/higgs/Role=production/Capability=NULL");
        map_fqan_normalise(fq);
        CHECK_STREQ(fq, "/atlas/higgs/Role=production");
        snprintf(fq, sizeof(fq), "/atlas/Role=NULL");
        map_fqan_normalise(fq);
        CHECK_STREQ(fq, "/atlas");
        snprintf(fq, sizeof(fq), "/Role=NULL");
        map_fqan_normalise(fq);
        CHECK_STREQ(fq, "/Role=NULL");

        CHECK(map_fqan_match("/atlas/*", "/atlas"));
        CHECK(map_fqan_match("/atlas/*", "/atlas/higgs"));
        CHECK(map_fqan_match("/atlas/*", "/atlas/Role=production"));
        CHECK(map_fqan_match("/atlas/*", "/atlas/higgs/Role=pilot"));
        CHECK(!map_fqan_match("/atlas/*", "/atlasx"));
        CHECK(!map_fqan_match("/atlas/*", "/cms"));
        CHECK(map_fqan_match("/atlas", "/atlas"));
        CHECK(!map_fqan_match("/atlas", "/atlas/higgs"));
        CHECK(map_fqan_match("/atlas/Role=*", "/atlas/Role=production"));
        CHECK(map_fqan_match("/atlas/Role=*", "/atlas"));
        CHECK(!map_fqan_match("/atlas/Role=*", "/atlas/higgs"));

        struct map_file f = {0};
        struct gx_error err = {0};
        const char *text = "\"/atlas/Role=production/Capability=NULL\" .atlprd\n"
                           "\"/atlas/Role=NULL/Capability=NULL\" atlasuser\n"
                           "\"/atlas/*\" .atlas\n"
                           "\"/cms/Role=NULL\" cmsuser\n";
        CHECK(parse(MAP_VOMS_GRIDMAP, text, &f, &err) == 0);
        CHECK(f.n_rules == 4);
        if (f.n_rules == 4) {
                CHECK_STREQ(f.rules[0].subject, "/atlas/Role=production");
                CHECK_STREQ(f.rules[1].subject, "/atlas");
                CHECK_STREQ(f.rules[3].subject, "/cms");
                CHECK(map_file_match_fqan(&f, "/atlas", false) == &f.rules[1]);
                CHECK(map_file_match_fqan(&f, "/atlas", true) == &f.rules[2]);
                /* An unnormalised FQAN from a careless verifier still matches. */
                CHECK(map_file_match_fqan(&f, "/atlas/Role=NULL/Capability=NULL", false) ==
                      &f.rules[1]);
                CHECK(map_file_match_fqan(&f, "/atlas/Role=production", true) == &f.rules[0]);
                CHECK(map_file_match_fqan(&f, "/atlas/Role=production", false) == NULL);
                CHECK(map_file_match_fqan(&f, "/cms", false) == &f.rules[3]);
                CHECK(map_file_match_fqan(&f, "/lhcb", false) == NULL);
                CHECK(map_file_match_fqan(NULL, "/atlas", false) == NULL);
        }
        map_file_free(&f);

        /* groupmapfile: exactly one group, no pools. */
        CHECK(parse(MAP_GROUPMAP, "\"/atlas/Role=NULL\" atlas\n\"/atlas/*\" atlasx\n", &f, &err) == 0);
        CHECK(f.n_rules == 2);
        if (f.n_rules == 2) {
                CHECK_STREQ(f.rules[0].subject, "/atlas");
                CHECK_STREQ(f.rules[0].names[0], "atlas");
        }
        map_file_free(&f);
        check_error(MAP_GROUPMAP, "\"/atlas\" atlas,atlas2\n", 1);
        check_error(MAP_GROUPMAP, "\"/atlas\" .pool\n", 1);
}

static void test_ban(void)
{
        struct map_file f = {0};
        struct gx_error err = {0};
        const char *text = "# bans\n"
                           "\"/DC=org/DC=example/CN=Mallory*\"\n"
                           "\"/badvo/*\"\n"
                           "\"/atlas/Role=evil/Capability=NULL\"\n"
                           "\"https://issuer.example\" \"bad-sub\"\n"
                           "\"https://other.example\" \"*\" # whole issuer\n";
        CHECK(parse(MAP_BANFILE, text, &f, &err) == 0);
        CHECK(f.n_rules == 5);

        struct gx_identity id = {.kind = GX_CRED_X509};
        snprintf(id.dn, sizeof(id.dn), "/DC=org/DC=example/CN=Alice");
        snprintf(id.fqans[0], sizeof(id.fqans[0]), "/atlas");
        id.n_fqans = 1;
        CHECK(map_file_match_ban(&f, &id) == NULL);

        snprintf(id.dn, sizeof(id.dn), "/DC=org/DC=example/CN=Mallory Evil");
        CHECK(map_file_match_ban(&f, &id) == &f.rules[0]);

        snprintf(id.dn, sizeof(id.dn), "/DC=org/DC=example/CN=Alice");
        snprintf(id.fqans[1], sizeof(id.fqans[1]), "/badvo");
        id.n_fqans = 2;
        CHECK(map_file_match_ban(&f, &id) == &f.rules[1]);
        snprintf(id.fqans[1], sizeof(id.fqans[1]), "/atlas/Role=evil");
        CHECK(map_file_match_ban(&f, &id) == &f.rules[2]);

        struct gx_identity tok = {.kind = GX_CRED_TOKEN};
        snprintf(tok.token_iss, sizeof(tok.token_iss), "https://issuer.example");
        snprintf(tok.token_sub, sizeof(tok.token_sub), "good-sub");
        CHECK(map_file_match_ban(&f, &tok) == NULL);
        snprintf(tok.token_sub, sizeof(tok.token_sub), "bad-sub");
        CHECK(map_file_match_ban(&f, &tok) == &f.rules[3]);
        snprintf(tok.token_sub, sizeof(tok.token_sub), "good-sub");
        snprintf(tok.token_groups[0], sizeof(tok.token_groups[0]), "/badvo/sub");
        tok.n_token_groups = 1;
        CHECK(map_file_match_ban(&f, &tok) == &f.rules[1]);
        tok.n_token_groups = 0;
        snprintf(tok.token_iss, sizeof(tok.token_iss), "https://other.example");
        CHECK(map_file_match_ban(&f, &tok) == &f.rules[4]);
        map_file_free(&f);

        check_error(MAP_BANFILE, "\"/DC=x\" \"a\" \"b\"\n", 1);
        check_error(MAP_BANFILE, "\"/DC=x\" alice\n\n", 1);
}

static void test_tokenmap(void)
{
        struct map_file f = {0};
        struct gx_error err = {0};
        const char *text = "\"https://iss.example\" \"1234-abcd\" alice\n"
                           "\"https://iss.example\" \"/atlas/production\" .atlprd\n"
                           "\"https://iss.example\" \"/atlas\" .atlas\n"
                           "\"https://other.example\" \"/atlas\" otheratlas\n";
        CHECK(parse(MAP_TOKENMAP, text, &f, &err) == 0);
        CHECK(f.n_rules == 4);

        struct gx_identity tok = {.kind = GX_CRED_TOKEN};
        snprintf(tok.token_iss, sizeof(tok.token_iss), "https://iss.example");
        snprintf(tok.token_sub, sizeof(tok.token_sub), "1234-abcd");
        CHECK(map_file_match_token(&f, &tok) == &f.rules[0]);
        snprintf(tok.token_sub, sizeof(tok.token_sub), "1234-ABCD");
        CHECK(map_file_match_token(&f, &tok) == NULL);
        snprintf(tok.token_groups[0], sizeof(tok.token_groups[0]), "/atlas");
        snprintf(tok.token_groups[1], sizeof(tok.token_groups[1]), "/atlas/production");
        tok.n_token_groups = 2;
        /* First matching line wins, not first group. */
        CHECK(map_file_match_token(&f, &tok) == &f.rules[1]);
        snprintf(tok.token_iss, sizeof(tok.token_iss), "https://other.example");
        CHECK(map_file_match_token(&f, &tok) == &f.rules[3]);
        snprintf(tok.token_iss, sizeof(tok.token_iss), "https://iss.example/");
        CHECK(map_file_match_token(&f, &tok) == NULL);

        struct gx_identity x509 = {.kind = GX_CRED_X509};
        CHECK(map_file_match_token(&f, &x509) == NULL);
        map_file_free(&f);

        check_error(MAP_TOKENMAP, "\"https://iss.example\" alice\n", 1);
        check_error(MAP_TOKENMAP, "\"https://iss.example\" \"sub\"\n", 1);
}

static void test_load(void)
{
        struct map_file f = {0};
        struct gx_error err = {0};

        CHECK(map_file_load(MAP_GRIDMAP, "/nonexistent/grid-mapfile", &f, &err) == -ENOENT);
        CHECK(err.class == GX_SYSTEM);

        char dir[] = "/tmp/test-mapfile-XXXXXX";
        if (!mkdtemp(dir)) {
                CHECK(0);
                return;
        }
        char path[64];
        snprintf(path, sizeof(path), "%s/grid-mapfile", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        CHECK(fd >= 0);
        const char *text = "\"/DC=org/CN=a\" a\n";
        CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        close(fd);

        int r = map_file_load(MAP_GRIDMAP, path, &f, &err);
        if (geteuid() == 0) {
                /* Root-owned along the whole path (/tmp is sticky): trusted. */
                CHECK(r == 0);
                CHECK(f.n_rules == 1);
                CHECK(strcmp(f.name, path) == 0);
                map_file_free(&f);
                /* Group-writable: refused. */
                CHECK(chmod(path, 0664) == 0);
                CHECK(map_file_load(MAP_GRIDMAP, path, &f, &err) < 0);
                CHECK(err.class == GX_SYSTEM);
        } else {
                CHECK(r < 0);
                CHECK(err.class == GX_SYSTEM);
        }
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        test_gridmap();
        test_voms_and_fqans();
        test_ban();
        test_tokenmap();
        test_load();
        TEST_MAIN_END();
}
