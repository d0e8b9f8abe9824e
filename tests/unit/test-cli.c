#include <string.h>

#include "cli.h"
#include "test.h"

static int parse(struct launch_request *req, struct gx_error *err, int argc, char **argv)
{
        return cli_parse(argc, argv, NULL, req, err);
}

#define ARGS(...) ((char *[]){"glexec", __VA_ARGS__, NULL})
#define NARGS(...) ((int)(sizeof((char *[]){"glexec", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(req, err, ...) parse(req, err, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

int main(void)
{
        struct launch_request req;
        struct gx_error err = {0};

        CHECK(PARSE(&req, &err, "/bin/sh", "-c", "x") == 0);
        CHECK(req.action == CLI_RUN);
        CHECK(req.n_command == 3);
        CHECK_STREQ(req.command[1], "-c");

        CHECK(PARSE(&req, &err, "--memory", "512M", "--cpus=0.5", "--pids", "10", "--walltime",
                    "60", "--report-fd", "5", "--stage-in", "a", "--stage-in", "b",
                    "--stage-out", "out", "--", "--weird-name") == 0);
        CHECK(req.memory == 512ULL << 20);
        CHECK(req.cpus_milli == 500);
        CHECK(req.pids == 10);
        CHECK(req.walltime == 60);
        CHECK(req.report_fd == 5);
        CHECK(req.n_stage_in == 2 && strcmp(req.stage_in[1], "b") == 0);
        CHECK(req.n_stage_out == 1);
        CHECK(req.n_command == 1 && strcmp(req.command[0], "--weird-name") == 0);

        CHECK(PARSE(&req, &err, "-h") == 0 && req.action == CLI_HELP);
        CHECK(PARSE(&req, &err, "--version") == 0 && req.action == CLI_VERSION);
        CHECK(PARSE(&req, &err, "-V") == 0 && req.action == CLI_SHOW_BUILD);
        CHECK(PARSE(&req, &err, "--check-config") == 0 && req.action == CLI_CHECK_CONFIG);
        CHECK(PARSE(&req, &err, "--map-only") == 0 && req.action == CLI_MAP_ONLY);

        /* Errors are client errors. */
        CHECK(PARSE(&req, &err, "--bogus", "/bin/true") < 0 && err.class == GX_CLIENT);
        CHECK(PARSE(&req, &err, "--memory") < 0);
        CHECK(PARSE(&req, &err, "--memory", "lots", "/bin/true") < 0);
        CHECK(PARSE(&req, &err, "--memory", "0", "/bin/true") < 0);
        /* Below what a payload needs to start: refused, saying the minimum. */
        CHECK(PARSE(&req, &err, "--memory", "1023K", "/bin/true") < 0 && err.class == GX_CLIENT);
        CHECK(strstr(err.msg, "minimum of 1M") != NULL);
        CHECK(PARSE(&req, &err, "--memory", "1M", "/bin/true") == 0 && req.memory == 1 << 20);
        CHECK(PARSE(&req, &err, "--pids", "1", "/bin/true") < 0 && err.class == GX_CLIENT);
        CHECK(PARSE(&req, &err, "--pids", "2", "/bin/true") == 0 && req.pids == 2);
        CHECK(PARSE(&req, &err, "--cpus", "-1", "/bin/true") < 0);
        CHECK(PARSE(&req, &err, "--report-fd", "1", "/bin/true") < 0);
        CHECK(PARSE(&req, &err, "--report-fd", "99999999999", "/bin/true") < 0);
        CHECK(PARSE(&req, &err, "--help=x") < 0);
        CHECK(PARSE(&req, &err, "-h", "-v") < 0);
        CHECK(PARSE(&req, &err, "-v", "/bin/true") < 0);
        CHECK(PARSE(&req, &err, "--stage-in", "", "/bin/true") < 0);
        CHECK(cli_parse(1, ARGS(NULL), "lcmaps_get_account", &req, &err) == 0 &&
              req.action == CLI_MAP_ONLY);
        CHECK(cli_parse(2, ARGS("/bin/true"), "lcmaps_get_account", &req, &err) == 0 &&
              req.action == CLI_RUN);
        CHECK(parse(&req, &err, 1, ARGS(NULL)) < 0);
        CHECK(strstr(err.msg, "no command") != NULL);
        TEST_MAIN_END();
}
