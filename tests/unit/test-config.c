#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "test.h"

static int parse(struct config *cfg, const char *text, struct gx_error *err)
{
        config_init_defaults(cfg);
        return config_parse_string(cfg, text, "test.conf", err);
}

static void test_defaults(void)
{
        struct config cfg;
        struct gx_error err = {0};
        CHECK(parse(&cfg, "", &err) == 0);
        CHECK(cfg.mode == GX_MODE_MAPPING);
        CHECK(cfg.log_level == 3);
        CHECK(cfg.min_proxy_lifetime == 300);
        CHECK(cfg.memory_max == 4ULL << 30);
        CHECK(cfg.cpu_max_milli == 1000);
        CHECK(cfg.pids_max == 4096);
        CHECK(cfg.require_audit);
        CHECK(cfg.check_crls);
        CHECK(!cfg.allow_limited_proxy);
        CHECK_STREQ(cfg.certdir, "/etc/grid-security/certificates");
        CHECK_STREQ(cfg.token_required_scopes[0], "compute.create");
        CHECK(cfg.namespaces == (GX_NS_USER | GX_NS_MOUNT | GX_NS_PID));
        CHECK_STREQ(cfg.token_issuers, "/etc/glexec/token-issuers.conf");
        CHECK_STREQ(cfg.token_mapfile, "/etc/grid-security/token-mapfile");
        CHECK_STREQ(cfg.hide_paths[0], "/etc/grid-security/gridmapdir");
        CHECK(cfg.hide_paths[1] == NULL);
        config_free(&cfg);

        /* hide_paths follows the gridmapdir unless it is given itself, even empty. */
        CHECK(parse(&cfg, "[mapping]\ngridmapdir = /srv/gmd\n", &err) == 0);
        CHECK_STREQ(cfg.hide_paths[0], "/srv/gmd");
        config_free(&cfg);
        CHECK(parse(&cfg, "[sandbox]\nhide_paths =\n[mapping]\ngridmapdir = /srv/gmd\n", &err) ==
              0);
        CHECK(cfg.hide_paths[0] == NULL);
        config_free(&cfg);
}

static void test_values(void)
{
        struct config cfg;
        struct gx_error err = {0};
        const char *text = "[glexec]\n"
                           "mode = site-isolation   # comment\n"
                           "user_white_list = pilot, .atlpilot ,\n"
                           "log_level = 5\n"
                           "syslog_facility = LOG_LOCAL3\n"
                           "linger = yes\n"
                           "[limits]\n"
                           "memory_max = 512M\n"
                           "cpu_max = 2.5\n"
                           "cgroup_leaf_move = never\n"
                           "[sandbox]\n"
                           "namespaces = user,mount,pid,net\n"
                           "tmp_size = 64k\n"
                           "[limits]\n"
                           "pids_max = 4K\n";
        CHECK(parse(&cfg, text, &err) == 0);
        CHECK(cfg.mode == GX_MODE_SITE_ISOLATION);
        CHECK_STREQ(cfg.user_white_list[0], "pilot");
        CHECK_STREQ(cfg.user_white_list[1], ".atlpilot");
        CHECK(cfg.user_white_list[2] == NULL);
        CHECK(cfg.log_level == 5);
        CHECK(cfg.memory_max == 512ULL << 20);
        CHECK(cfg.cpu_max_milli == 2500);
        CHECK(cfg.cgroup_leaf_move == GX_LEAF_MOVE_NEVER);
        CHECK(cfg.namespaces & GX_NS_NET);
        CHECK(cfg.tmp_size == 64 << 10);
        CHECK(cfg.pids_max == 4096); /* every integer takes K/M/G (SPEC section 6) */
        config_free(&cfg);
}

static void expect_error(const char *text, const char *fragment)
{
        struct config cfg;
        struct gx_error err = {0};
        int r = parse(&cfg, text, &err);
        CHECK(r < 0);
        CHECK(err.class == GX_SYSTEM);
        if (!strstr(err.msg, fragment)) {
                fprintf(stderr, "expected \"%s\" in \"%s\"\n", fragment, err.msg);
                CHECK(0);
        }
        config_free(&cfg);
}

static void test_errors(void)
{
        expect_error("[limits]\npids_max = 1\n", "pids_max must be 0 (none) or at least 2");
        expect_error("[limits]\nmemory_max = 4K\n", "memory_max must be 0 (none) or at least 1M");
        expect_error("[limits]\npids_max = 4294967297\n", "test.conf:2:");
        expect_error("[glexec]\nmode = mapping\nbogus = 1\n", "test.conf:3: unknown key [glexec] bogus");
        expect_error("[nosuch]\nmode = x\n", "test.conf:2: unknown key");
        expect_error("[glexec]\nmode = wrong\n", "test.conf:2: bad value \"wrong\" for [glexec] mode");
        expect_error("[glexec]\nlog_level = 6\n", "bad value");
        expect_error("[glexec]\nlog_level = -1\n", "bad value");
        expect_error("[glexec]\nlinger = no\n", "not supported");
        expect_error("[limits]\nmemory_max = 12X\n", "bad value");
        expect_error("[limits]\nmemory_max = 99999999999999999999\n", "bad value");
        expect_error("[limits]\ncpu_max = 1.2345\n", "bad value");
        expect_error("[limits]\nrequire_cgroup = maybe\n", "bad value");
        expect_error("[sandbox]\nnamespaces = user,mount\n", "bad value");
        expect_error("[sandbox]\nnamespaces = user,mount,pid,cgroup\n", "bad value");
        expect_error("[glexec]\nthis line has no equals sign\n", "test.conf:2:");
        expect_error("[credentials]\ncertdir = relative/path\n", "absolute");
        expect_error("[audit]\naudit_log =\n", "require_audit");
        expect_error("[limits]\ncgroup_parent = relative\n", "cgroup_parent");
        /* A line longer than inih's default 200 bytes still parses. */
        char long_line[1024];
        snprintf(long_line, sizeof(long_line), "[glexec]\npreserve_env_variables = %0900d\n", 0);
        struct config cfg;
        struct gx_error err = {0};
        CHECK(parse(&cfg, long_line, &err) == 0);
        config_free(&cfg);
}

static void test_escaping(void)
{
        struct config cfg;
        struct gx_error err = {0};
        CHECK(parse(&cfg, "[glexec]\nmode = x\x1b[31m\n", &err) < 0);
        CHECK(strchr(err.msg, '\x1b') == NULL);
        config_free(&cfg);
}

int main(void)
{
        test_defaults();
        test_values();
        test_errors();
        test_escaping();
        TEST_MAIN_END();
}
