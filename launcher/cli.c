#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/parse.h"
#include "common/strutil.h"
#include "config.h"

void cli_usage(FILE *out)
{
        fputs("Usage: glexec [OPTIONS] [--] COMMAND [ARG...]\n"
              "Run COMMAND for the owner of the credential in GLEXEC_CLIENT_CERT (an X.509\n"
              "proxy) or GLEXEC_CLIENT_TOKEN (a WLCG token), isolated and accounted.\n"
              "\n"
              "  -h, --help            show this help\n"
              "  -v, --version         show the version\n"
              "  -V                    show compiled-in paths and the configuration (root)\n"
              "      --check-config    check the configuration and the files it names (root)\n"
              "      --cleanup         remove what killed launches left behind (root)\n"
              "      --map-only        authorize and map, print `user uid gid gids`, run nothing\n"
              "      --memory BYTES    lower the memory limit (K, M, G suffixes)\n"
              "      --cpus N.N        lower the CPU limit\n"
              "      --pids N          lower the process limit\n"
              "      --walltime SECS   lower the wall-time limit\n"
              "      --stage-in PATH   copy PATH into the payload's sandbox (repeatable)\n"
              "      --stage-out NAME  copy NAME from the sandbox back afterwards (repeatable)\n"
              "      --report-fd N     write a JSON report to fd N when the payload has ended\n"
              "\n"
              "Exit status: the payload's (201-204 become 204), 128+N for signal N, 126 not\n"
              "executable, 127 not found, 201 client error, 202 system error, 203 not\n"
              "authorized.\n",
              out);
}

enum opt_arg {
        OPT_NONE,
        OPT_SIZE,
        OPT_MILLI,
        OPT_UINT,
        OPT_STAGE_IN,
        OPT_STAGE_OUT,
        OPT_FD,
};

static const struct option_def {
        const char *long_name;
        char short_name;
        enum opt_arg arg;
        enum cli_action action;
        size_t offset; /* for numeric options */
        /* The least a numeric request may be, and why: below it no payload could start. */
        uint64_t min;
        const char *min_why;
} options[] = {
        {"help", 'h', OPT_NONE, CLI_HELP, 0},
        {"version", 'v', OPT_NONE, CLI_VERSION, 0},
        {NULL, 'V', OPT_NONE, CLI_SHOW_BUILD, 0},
        {"check-config", 0, OPT_NONE, CLI_CHECK_CONFIG, 0},
        {"cleanup", 0, OPT_NONE, CLI_CLEANUP, 0},
        {"map-only", 0, OPT_NONE, CLI_MAP_ONLY, 0},
        {"memory", 0, OPT_SIZE, CLI_RUN, offsetof(struct launch_request, memory), GX_MEMORY_MIN,
         "1M (what starting a payload takes)"},
        {"cpus", 0, OPT_MILLI, CLI_RUN, offsetof(struct launch_request, cpus_milli)},
        {"pids", 0, OPT_UINT, CLI_RUN, offsetof(struct launch_request, pids), GX_PIDS_MIN,
         "2 (glexec's init in the sandbox is one of the processes)"},
        {"walltime", 0, OPT_UINT, CLI_RUN, offsetof(struct launch_request, walltime)},
        {"stage-in", 0, OPT_STAGE_IN, CLI_RUN, 0},
        {"stage-out", 0, OPT_STAGE_OUT, CLI_RUN, 0},
        {"report-fd", 0, OPT_FD, CLI_RUN, 0},
};

static const struct option_def *find_option(const char *arg, const char **ret_value)
{
        *ret_value = NULL;
        if (arg[1] != '-') {
                for (size_t i = 0; i < ELEMENTSOF(options); i++)
                        if (options[i].short_name && arg[1] == options[i].short_name && !arg[2])
                                return &options[i];
                return NULL;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (size_t i = 0; i < ELEMENTSOF(options); i++)
                if (options[i].long_name && strlen(options[i].long_name) == len &&
                    strncmp(options[i].long_name, name, len) == 0) {
                        if (eq)
                                *ret_value = eq + 1;
                        return &options[i];
                }
        return NULL;
}

static int add_stage(const char **list, int *n, const char *value, const char *what,
                     struct gx_error *err)
{
        if (*n >= CLI_MAX_STAGE)
                return gx_fail(err, GX_CLIENT, 0, "too many %s options (at most %d)", what,
                               CLI_MAX_STAGE);
        if (!*value)
                return gx_fail(err, GX_CLIENT, 0, "%s needs a non-empty value", what);
        list[(*n)++] = value;
        return 0;
}

static int parse_value(const struct option_def *o, const char *value, struct launch_request *req,
                       struct gx_error *err)
{
        char esc[64];
        int r = 0;
        uint64_t *field = (uint64_t *)((char *)req + o->offset);

        switch (o->arg) {
        case OPT_SIZE:
                r = gx_parse_size(value, field);
                break;
        case OPT_MILLI:
                r = gx_parse_milli(value, field);
                break;
        case OPT_UINT:
                r = gx_parse_u64(value, field);
                break;
        case OPT_STAGE_IN:
                return add_stage(req->stage_in, &req->n_stage_in, value, "--stage-in", err);
        case OPT_STAGE_OUT:
                return add_stage(req->stage_out, &req->n_stage_out, value, "--stage-out", err);
        case OPT_FD:
                r = gx_parse_fd(value, &req->report_fd);
                if (r == 0 && req->report_fd <= 2)
                        r = -EINVAL;
                break;
        case OPT_NONE:
                break;
        }
        if (r == 0 && o->arg != OPT_FD && *field == 0)
                r = -EINVAL; /* a zero limit is not a tightening anyone means */
        if (r < 0) {
                gx_escape(esc, sizeof(esc), value);
                return gx_fail(err, GX_CLIENT, 0, "invalid value \"%s\" for --%s", esc,
                               o->long_name);
        }
        if (*field < o->min) {
                gx_escape(esc, sizeof(esc), value);
                return gx_fail(err, GX_CLIENT, 0, "--%s %s is below the minimum of %s",
                               o->long_name, esc, o->min_why);
        }
        return 0;
}

int cli_parse(int argc, char *const *argv, const char *glexec_mode, struct launch_request *ret,
              struct gx_error *err)
{
        struct launch_request req = {.action = CLI_RUN, .report_fd = -1};
        bool action_set = false;
        int i;

        for (i = 1; i < argc; i++) {
                const char *arg = argv[i];
                if (strcmp(arg, "--") == 0) {
                        i++;
                        break;
                }
                if (arg[0] != '-' || arg[1] == '\0')
                        break;
                const char *value;
                const struct option_def *o = find_option(arg, &value);
                if (!o) {
                        char esc[64];
                        gx_escape(esc, sizeof(esc), arg);
                        return gx_fail(err, GX_CLIENT, 0, "unknown option \"%s\" (see glexec -h)",
                                       esc);
                }
                if (o->arg == OPT_NONE) {
                        if (value)
                                return gx_fail(err, GX_CLIENT, 0, "--%s takes no value",
                                               o->long_name);
                        if (action_set && req.action != o->action)
                                return gx_fail(err, GX_CLIENT, 0, "conflicting options");
                        req.action = o->action;
                        action_set = true;
                        continue;
                }
                if (!value) {
                        if (i + 1 >= argc)
                                return gx_fail(err, GX_CLIENT, 0, "--%s needs a value",
                                               o->long_name);
                        value = argv[++i];
                }
                int r = parse_value(o, value, &req, err);
                if (r < 0)
                        return r;
        }

        req.command = argv + i;
        req.n_command = argc - i;
        if (req.action == CLI_RUN && req.n_command == 0 && glexec_mode &&
            strcmp(glexec_mode, "lcmaps_get_account") == 0)
                req.action = CLI_MAP_ONLY;
        if (req.action == CLI_RUN && req.n_command == 0)
                return gx_fail(err, GX_CLIENT, 0,
                               "no command given (refreshing the proxy of a running payload is "
                               "not supported; see glexec -h)");
        if (req.action != CLI_RUN && req.action != CLI_MAP_ONLY && req.n_command > 0)
                return gx_fail(err, GX_CLIENT, 0, "this option takes no command");
        *ret = req;
        return 0;
}
