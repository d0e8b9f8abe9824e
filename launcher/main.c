/* glexec: the phase order of one launch. The only file that exits.
 *
 * Phases: process hygiene -> command line -> configuration -> caller -> credential ->
 * policy and mapping -> plan (limits, filter, environment) -> sandbox directory -> audit
 * "start" -> namespaces and payload -> supervision -> teardown -> audit "end" -> exit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "build-config.h"
#include "cli.h"
#include "common/fdutil.h"
#include "common/strutil.h"
#include "common/trace.h"
#include "config.h"
#include "credentials.h"
#include "launch.h"
#include "log.h"
#include "privs.h"
#include "run.h"

extern char **environ;

/* ---- process hygiene (sandbox-anchors.md checklist B) ---------------------------------- */

static void ensure_std_fds(void)
{
        /* A closed 0, 1 or 2 would make our next open() land there and be written to by
         * whatever expects stdio. Fill the gaps with /dev/null, checked to be the real one
         * (crun CVE-2026-88265). */
        for (int fd = 0; fd <= 2; fd++) {
                if (fcntl(fd, F_GETFD) >= 0)
                        continue;
                int n = open("/dev/null", O_RDWR | O_NOCTTY);
                struct stat st;
                if (n != fd || fstat(n, &st) < 0 || !S_ISCHR(st.st_mode) ||
                    st.st_rdev != (dev_t)makedev(1, 3))
                        _exit(GX_SYSTEM);
        }
}

static void reset_signals(void)
{
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        for (int sig = 1; sig < NSIG; sig++)
                sigaction(sig, &dfl, NULL);
        /* A report written to a pipe the caller closed must fail, not kill us mid-cleanup. */
        struct sigaction ign = {.sa_handler = SIG_IGN};
        sigaction(SIGPIPE, &ign, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

static void capture_and_scrub(struct inherited *in)
{
        size_t n = 0;
        while (environ && environ[n])
                n++;
        in->env = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; in->env && i < n; i++)
                in->env[i] = strdup(environ[i]);
        clearenv();

        in->umask = umask(077);
        for (int i = 0; i < RLIM_NLIMITS; i++)
                getrlimit((__rlimit_resource_t)i, &in->rlimits[i]);

        /* Never dumpable, no core files: we hold the credential and root's fds. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        struct rlimit zero = {0, 0};
        setrlimit(RLIMIT_CORE, &zero);
        /* A caller-set file-size limit must not truncate the audit log (SIGXFSZ mid-record),
         * nor a tiny fd limit break cleanup. As root we can lift them; else this is a no-op. */
        struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
        setrlimit(RLIMIT_FSIZE, &unlimited);
        struct rlimit files = {1024, 1024};
        if (in->rlimits[RLIMIT_NOFILE].rlim_cur < 1024)
                setrlimit(RLIMIT_NOFILE, &files);
        reset_signals();
}

const char *inherited_getenv(const struct inherited *in, const char *name)
{
        size_t len = strlen(name);
        for (size_t i = 0; in->env && in->env[i]; i++)
                if (strncmp(in->env[i], name, len) == 0 && in->env[i][len] == '=')
                        return in->env[i] + len + 1;
        return NULL;
}

/* ---- exits --------------------------------------------------------------------------- */

static _noreturn_ void fail_early(enum gx_class class, const char *fmt, ...) _printf_(2, 3);
static _noreturn_ void fail_early(enum gx_class class, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_stderr("%s", msg);
        exit(class);
}

/* Refuse with an audited "deny" record; the caller sees only the public message. */
static _noreturn_ void deny(struct launch *l, const struct gx_error *err)
{
        struct gx_error aerr = {0};
        log_msg(LOG_LVL_WARNING, "%s: %s", l->id, err->msg);
        if (audit_write(l, "deny", err->msg, &aerr) < 0 && l->cfg->require_audit)
                log_msg(LOG_LVL_FATAL, "%s: audit record lost: %s", l->id, aerr.msg);
        log_stderr("%s", gx_error_public(err));
        exit(err->class ? err->class : GX_SYSTEM);
}

static _noreturn_ void fail(struct launch *l, const struct gx_error *err)
{
        if (err->class == GX_AUTHZ)
                deny(l, err);
        log_msg(err->class == GX_CLIENT ? LOG_LVL_NOTICE : LOG_LVL_FATAL, "%s: %s", l->id,
                err->msg);
        log_stderr("%s", gx_error_public(err));
        exit(err->class ? err->class : GX_SYSTEM);
}

/* The exit status of a root action (--check-config, --cleanup) that listed its problems on
 * stdout: with them, the one "glexec:" line on stderr of every failure (SPEC section 5). */
static int action_status(int r, const char *failure)
{
        if (r == 0)
                return 0;
        fflush(stdout);
        log_stderr("%s: see the problems listed above", failure);
        return GX_SYSTEM;
}

/* ---- phases -------------------------------------------------------------------------- */

static void new_launch_id(char id[LAUNCH_ID_LEN + 1])
{
        unsigned char raw[LAUNCH_ID_LEN / 2];
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                fail_early(GX_SYSTEM, "no randomness for the launch id");
        gx_hex(raw, sizeof(raw), id);
}

static void check_install(const struct config *cfg)
{
        if (geteuid() == 0)
                return;
        if (cfg->mode == GX_MODE_DECLARE_ONLY)
                return;
        struct stat st;
        const char *why = "it is not installed setuid root";
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
                why = "no_new_privs is set in the calling process, so setuid cannot take effect";
        else if (stat("/proc/self/exe", &st) == 0 && (st.st_mode & S_ISUID) && st.st_uid == 0)
                why = "it lives on a file system mounted nosuid";
        fail_early(GX_SYSTEM, "mode %s needs glexec to run as root, but %s",
                   config_mode_name(cfg->mode), why);
}

/* The command as the payload will execute it: symlinks resolved, so that allowed_executables
 * is checked against the very file that runs and a link cannot be swapped in between. The
 * records show it as the caller named it (SPEC section 8), the logs both. A relative path
 * ("./job.sh") is the payload's business: its own execve resolves it in its working
 * directory, the sandbox (a script brought in with --stage-in), with its own rights; it is
 * kept as it is, and no allowed_executables entry, always absolute, can allow it. */
static void resolve_command(struct launch *l)
{
        const char *cmd = l->req.command[0];
        char candidate[PATH_MAX];
        bool found = false;

        if (strchr(cmd, '/') && cmd[0] != '/') {
                if (gx_strlcpy(l->command_path, cmd, sizeof(l->command_path)) == 0)
                        return;
        } else if (cmd[0] == '/') {
                found = gx_strlcpy(candidate, cmd, sizeof(candidate)) == 0 &&
                        access(candidate, F_OK) == 0;
        } else {
                _cleanup_strv_free_ char **dirs = gx_strv_split(l->cfg->path, ':');
                for (size_t i = 0; !found && dirs && dirs[i]; i++) {
                        struct stat st;
                        found = (size_t)snprintf(candidate, sizeof(candidate), "%s/%s", dirs[i],
                                                 cmd) < sizeof(candidate) &&
                                stat(candidate, &st) == 0 && S_ISREG(st.st_mode) &&
                                (st.st_mode & 0111);
                }
        }
        if (found && realpath(candidate, l->command_path)) {
                gx_strlcpy(l->command_shown, candidate, sizeof(l->command_shown));
                return;
        }
        char esc[256];
        gx_escape(esc, sizeof(esc), cmd);
        log_msg(LOG_LVL_NOTICE, "%s: command \"%s\" not found", l->id, esc);
        log_stderr("command \"%s\" not found", esc);
        exit(127);
}

static int check_limit_request(const char *what, uint64_t requested, uint64_t site,
                               struct gx_error *err)
{
        if (requested && site && requested > site)
                return gx_fail(err, GX_CLIENT, 0, "requested %s is above the site maximum", what);
        return 0;
}

static void print_map_only(const struct launch *l)
{
        printf("%s %u %u ", l->target.user, (unsigned)l->target.uid, (unsigned)l->target.gid);
        for (size_t i = 0; i < l->target.n_groups; i++)
                printf("%s%u", i ? "," : "", (unsigned)l->target.groups[i]);
        if (l->target.n_groups == 0)
                printf("%u", (unsigned)l->target.gid);
        printf("\n");
        fflush(stdout);
}

int main(int argc, char **argv)
{
        struct inherited in = {0};
        struct launch_request req;
        struct gx_error err = {0};
        static struct config cfg;
        static struct launch l;

        gx_trace_start();
        gx_trace("main");
        ensure_std_fds();
        gx_cloexec_from(3);
        capture_and_scrub(&in);

        if (cli_parse(argc, argv, inherited_getenv(&in, "GLEXEC_MODE"), &req, &err) < 0)
                fail_early(GX_CLIENT, "%s", err.msg);

        switch (req.action) {
        case CLI_HELP:
                cli_usage(stdout);
                return 0;
        case CLI_VERSION:
                printf("glexec-ng %s\n", GLEXEC_VERSION);
                return 0;
        case CLI_SHOW_BUILD:
        case CLI_CHECK_CONFIG:
        case CLI_CLEANUP:
                if (getuid() != 0)
                        fail_early(GX_CLIENT, "this option is for root only");
                break;
        case CLI_RUN:
        case CLI_MAP_ONLY:
                break;
        }

        /* Keep only 0-2 and the report fd; everything else the caller left open goes. */
        int keep[] = {req.report_fd};
        if (req.report_fd >= 0 && fcntl(req.report_fd, F_GETFD) < 0)
                fail_early(GX_CLIENT, "--report-fd %d is not open", req.report_fd);
        gx_close_from(3, keep, req.report_fd >= 0 ? 1 : 0);

        gx_trace("hygiene");
        if (config_init_defaults(&cfg) < 0)
                fail_early(GX_SYSTEM, "out of memory");
        if (req.action == CLI_SHOW_BUILD) {
                printf("glexec-ng %s\nconfig file: %s\ndata dir: %s\n\n", GLEXEC_VERSION,
                       GLEXEC_CONFIG_PATH, GLEXEC_DATADIR);
        }
        if (config_load(&cfg, GLEXEC_CONFIG_PATH, &err) < 0) {
                if (req.action == CLI_CHECK_CONFIG)
                        printf("%s\n", err.msg);
                fail_early(GX_SYSTEM, "%s", err.msg);
        }
        log_setup(&cfg);
        gx_trace("config");
        if (req.action == CLI_SHOW_BUILD) {
                if (GX_STAGE_TRACE)
                        printf("stage trace: compiled in (benchmark build)\n");
                config_dump(&cfg, stdout);
                return 0;
        }
        if (req.action == CLI_CHECK_CONFIG)
                return action_status(credentials_check_config(&cfg, stdout),
                                     "the configuration is not usable");
        if (req.action == CLI_CLEANUP)
                return action_status(run_cleanup(&cfg, stdout), "the cleanup did not finish");
        check_install(&cfg);

        l.cfg = &cfg;
        l.req = req;
        new_launch_id(l.id);
        clock_gettime(CLOCK_REALTIME, &l.start_real);
        clock_gettime(CLOCK_MONOTONIC, &l.start_mono);
        gethostname(l.host, sizeof(l.host) - 1);
        if (privs_capture_caller(&l.caller, &err) < 0)
                fail(&l, &err);

        if (!privs_caller_whitelisted(&l.caller, cfg.user_white_list, cfg.group_white_list)) {
                gx_fail_public(&err, GX_AUTHZ, 0, "not authorized: caller is not whitelisted",
                               "caller uid %u is not in user_white_list or group_white_list",
                               (unsigned)l.caller.uid);
                deny(&l, &err);
        }

        gx_trace("caller");
        /* The credential, read with the caller's rights and verified. */
        if (credentials_verify(&l, inherited_getenv(&in, "GLEXEC_CLIENT_CERT"),
                               inherited_getenv(&in, "GLEXEC_CLIENT_TOKEN"), &err) < 0)
                fail(&l, &err);
        gx_trace("credential");

        if (credentials_check_ban(&l, &err) < 0)
                fail(&l, &err);
        if (req.n_command > 0)
                resolve_command(&l);
        if (credentials_authorize(&l, &err) < 0)
                fail(&l, &err);
        gx_trace("authorize");

        if (req.action == CLI_MAP_ONLY) {
                print_map_only(&l);
                return 0;
        }

        uint64_t walltime = cfg.walltime_max;
        if (check_limit_request("memory", req.memory, cfg.memory_max, &err) < 0 ||
            check_limit_request("CPU", req.cpus_milli, cfg.cpu_max_milli, &err) < 0 ||
            check_limit_request("process count", req.pids, cfg.pids_max, &err) < 0 ||
            check_limit_request("wall time", req.walltime, cfg.walltime_max, &err) < 0)
                fail(&l, &err);
        if (req.walltime)
                walltime = req.walltime;

        int status = run_payload(&l, &in, walltime, &err);
        if (status < 0)
                fail(&l, &err);
        return status;
}
