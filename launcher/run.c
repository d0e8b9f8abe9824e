#include "run.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "common/macro.h"
#include "common/strutil.h"
#include "common/trace.h"
#include "credentials.h"
#include "payload-cgroup.h"
#include "lock.h"
#include "log.h"
#include "reaper.h"
#include "seccomp-cache.h"
#include "sandbox/env.h"
#include "sandbox/launch.h"
#include "sandbox/seccomp.h"
#include "sandbox/stage.h"
#include "staging.h"
#include "supervise.h"

/* What one launch holds, released in reverse order by run_release(). */
struct resources {
        int base_fd;
        int lock_fd;
        int sandbox_fd;
        bool sandbox_made;
        struct launch_limits limits;
        struct reaper reaper;
        struct sc_filter filter;
        char **envp;
};

static unsigned clone_flags(unsigned namespaces)
{
        unsigned extra = 0;
        if (namespaces & GX_NS_IPC)
                extra |= CLONE_NEWIPC;
        if (namespaces & GX_NS_UTS)
                extra |= CLONE_NEWUTS;
        if (namespaces & GX_NS_NET)
                extra |= CLONE_NEWNET;
        return extra;
}

/* Everything up to the payload's start. */
static int prepare(struct launch *l, const struct inherited *in, struct resources *res,
                   struct gx_error *err)
{
        const struct config *cfg = l->cfg;
        bool privileged = geteuid() == 0;
        int r;

        /* Compiled here, by the supervisor; the payload only loads it. */
        r = seccomp_filter_get(cfg->seccomp_profile, &res->filter, err);
        if (r < 0)
                return r;
        gx_trace("seccomp-compile");

        res->base_fd = stage_open_base(cfg->sandbox_base, privileged, err);
        if (res->base_fd < 0)
                return res->base_fd;
        res->lock_fd = lock_create(res->base_fd, l->id, err);
        if (res->lock_fd < 0)
                return res->lock_fd;
        gx_trace("lock");

        r = limits_create(l, res->base_fd, &res->limits, err);
        if (r < 0)
                return r;
        gx_trace("cgroup-create");
        unsigned swept = lock_sweep_stale(res->base_fd, l->id);
        if (swept)
                log_msg(LOG_LVL_NOTICE, "%s: removed the sandboxes of %u dead launches", l->id,
                        swept);

        res->sandbox_fd = stage_create(res->base_fd, l->id, l->target.uid, l->target.gid, err);
        if (res->sandbox_fd < 0)
                return res->sandbox_fd;
        res->sandbox_made = true;
        snprintf(l->sandbox, sizeof(l->sandbox), "%s/%s", cfg->sandbox_base, l->id);
        if (l->command_path[0] != '/') {
                /* A command relative to the sandbox: shown where it is run from. */
                const char *rel = l->command_path;
                while (strncmp(rel, "./", 2) == 0)
                        rel += 2;
                snprintf(l->command_shown, sizeof(l->command_shown), "%s/%s", l->sandbox, rel);
        }

        static char proxy_path[PATH_MAX + 32], token_path[PATH_MAX + 32];
        const char *proxy = NULL, *token = NULL;
        r = credentials_deliver(l, res->sandbox_fd, inherited_getenv(in, "GLEXEC_SOURCE_PROXY"),
                                inherited_getenv(in, "GLEXEC_TARGET_PROXY"), proxy_path,
                                sizeof(proxy_path), &proxy, token_path, sizeof(token_path),
                                &token, err);
        if (r < 0)
                return r;
        r = staging_in(l, res->sandbox_fd, err);
        if (r < 0)
                return r;

        struct env_spec es = {
                .caller_env = in->env,
                .preserve = cfg->preserve_env_variables,
                .home = l->target.home,
                .user = l->target.user,
                .path = cfg->path,
                .target_dir = l->sandbox,
                .x509_user_proxy = proxy,
                .bearer_token_file = token,
        };
        r = env_build(&es, &res->envp, err);
        if (r < 0)
                return r;
        gx_trace("sandbox-stage");

        /* Forked only now: the credential has been wiped from our memory. */
        return reaper_start(l, res->base_fd, res->limits.cg, &res->reaper, err);
}

static void release(struct launch *l, struct resources *res)
{
        limits_finish(l, &res->limits);
        /* The cgroup is gone; the reaper stands down while we remove the rest. Killed from
         * here on, we would leave a sandbox and an unlocked lock file, which the next
         * launch's sweep (or --cleanup) removes. */
        reaper_dismiss(&res->reaper);
        if (res->sandbox_made && !l->cfg->keep_sandbox) {
                struct gx_error err = {0};
                if (stage_remove(res->base_fd, l->id, &err) < 0)
                        log_msg(LOG_LVL_WARNING, "%s: %s", l->id, err.msg);
        }
        if (res->lock_fd >= 0) {
                lock_remove(res->base_fd, l->id);
                res->lock_fd = safe_close(res->lock_fd);
        }
        res->sandbox_fd = safe_close(res->sandbox_fd);
        res->base_fd = safe_close(res->base_fd);
        reaper_let_go(&res->reaper);
        sc_filter_free(&res->filter);
        gx_strv_free(res->envp);
        res->envp = NULL;
}

/* The pilot's own credentials, by the names it passed (SPEC section 9): its proxy
 * (X509_USER_PROXY, or the classic /tmp/x509up_u<uid> when /tmp is shared) and the files it
 * handed to glexec, of which the payload has its own copy. Relative names are the caller's
 * cwd's, ours too. */
#define CALLER_FILES_MAX 5
static void caller_files(const struct launch *l, const struct inherited *in,
                         char paths[CALLER_FILES_MAX][PATH_MAX], const char **ret)
{
        static const char *const vars[] = {"X509_USER_PROXY", "GLEXEC_CLIENT_CERT",
                                           "GLEXEC_SOURCE_PROXY", "GLEXEC_CLIENT_TOKEN"};
        char cwd[PATH_MAX] = "";
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                const char *v = inherited_getenv(in, vars[i]);
                if (!v || !v[0] || (v[0] != '/' && !cwd[0] && !getcwd(cwd, sizeof(cwd))))
                        continue;
                int w = v[0] == '/' ? snprintf(paths[n], PATH_MAX, "%s", v)
                                    : snprintf(paths[n], PATH_MAX, "%s/%s", cwd, v);
                if (w > 0 && w < PATH_MAX) {
                        ret[n] = paths[n];
                        n++;
                }
        }
        if (!l->cfg->private_tmp) {
                snprintf(paths[n], PATH_MAX, "/tmp/x509up_u%u", (unsigned)l->caller.uid);
                ret[n] = paths[n];
                n++;
        }
        ret[n] = NULL;
}

static int start_and_supervise(struct launch *l, const struct inherited *in,
                               struct resources *res, struct audit_log *audit,
                               uint64_t walltime, struct gx_error *err)
{
        const struct config *cfg = l->cfg;
        char caller_paths[CALLER_FILES_MAX][PATH_MAX];
        const char *caller_list[CALLER_FILES_MAX + 1];
        caller_files(l, in, caller_paths, caller_list);
        struct sandbox_spec spec = {
                .extra_clone_flags = clone_flags(cfg->namespaces),
                .privileged = geteuid() == 0,
                .uid = l->target.uid,
                .gid = l->target.gid,
                .groups = l->target.groups,
                .n_groups = l->target.n_groups,
                .sandbox_fd = res->sandbox_fd,
                .sandbox_path = l->sandbox,
                .sandbox_base = cfg->sandbox_base,
                .private_tmp = cfg->private_tmp,
                .tmp_size = cfg->tmp_size,
                .hide_paths = cfg->hide_paths,
                .caller_files = caller_list,
                .caller_uid = l->caller.uid,
                .filter = &res->filter,
                .exec_path = l->command_path,
                .argv = l->req.command,
                .envp = res->envp,
                .rlimits = in->rlimits,
                .cgroup = res->limits.cg,
        };
        sigset_t fwd;
        struct sandbox_proc proc;

        supervise_block_signals(&fwd);
        umask(in->umask); /* inherited by the payload */
        int r = sandbox_start(&spec, &proc, err);
        umask(077);
        /* The start record is written and reaches the disk while the init sets the sandbox
         * up; the payload starts only once it is there. A launch whose sandbox did not start
         * gets its start record too, so that every end has one. */
        struct gx_error serr = {0};
        int ar = audit_append(audit, l, "start", NULL, &serr);
        gx_trace("audit-start");
        if (r < 0)
                return r;
        log_mon("Started, target uid %u", (unsigned)l->target.uid);
        if (ar == 0)
                ar = audit_sync(audit, &serr);
        if (ar < 0) {
                if (cfg->require_audit) {
                        sandbox_abort(&proc);
                        *err = serr;
                        gx_error_prefix(err, "audit");
                        return -EIO;
                }
                log_msg(LOG_LVL_WARNING, "%s: audit start record not on disk: %s", l->id,
                        serr.msg);
        }
        gx_trace("audit-sync-start");
        r = sandbox_release(&proc, err);
        if (r < 0) {
                sandbox_abort(&proc);
                return r;
        }
        r = supervise_run(&proc, &fwd, walltime, &l->start_mono, &l->result, err);
        gx_trace("supervise");
        sandbox_proc_close(&proc);

        /* Without a cgroup, the init's reaped descendants are all we can account. */
        struct rusage ru;
        getrusage(RUSAGE_CHILDREN, &ru);
        l->result.cpu_user_seconds = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
        l->result.cpu_system_seconds = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        l->result.memory_peak_bytes = (int64_t)ru.ru_maxrss * 1024;
        l->result.pids_peak = -1;
        l->have_result = r == 0 || l->result.status == 126 || l->result.status == 127;
        return r;
}

int run_payload(struct launch *l, const struct inherited *in, uint64_t walltime,
                struct gx_error *err)
{
        struct resources res = {.base_fd = -1, .lock_fd = -1, .sandbox_fd = -1,
                                .reaper = {.pipe_fd = -1}};
        struct audit_log audit = AUDIT_LOG_INIT;
        int r = prepare(l, in, &res, err);
        if (r < 0) {
                release(l, &res);
                reaper_collect(&res.reaper);
                /* An authorized launch that could not be set up is audited too: a start and
                 * an end with the reason and no result. */
                struct gx_error aerr = {0};
                if (audit_append(&audit, l, "start", NULL, &aerr) < 0 ||
                    audit_append(&audit, l, "end", err->msg, &aerr) < 0 ||
                    audit_sync(&audit, &aerr) < 0)
                        log_msg(LOG_LVL_FATAL, "%s: audit record lost: %s", l->id, aerr.msg);
                audit_close(&audit);
                return r;
        }
        gx_trace("reaper");

        r = start_and_supervise(l, in, &res, &audit, walltime, err);
        /* Usage and OOM come from the cgroup, read now for the end record; the cgroup is
         * removed in the teardown. */
        limits_read_usage(l, &res.limits);
        gx_trace("cgroup-usage");
        if (l->have_result) {
                log_mon("Terminated, CPU user %.2f system %.2f", l->result.cpu_user_seconds,
                        l->result.cpu_system_seconds);
                struct gx_error serr = {0};
                if (staging_out(l, res.sandbox_fd, &serr) < 0) {
                        log_msg(LOG_LVL_WARNING, "%s: %s", l->id, serr.msg);
                        log_stderr("%s", gx_error_public(&serr));
                }
        } else {
                l->result.status = err->class ? err->class : GX_SYSTEM;
        }

        gx_trace("staging-out");
        /* The end record is written before the teardown and synced during it: the sync
         * (0.3-0.4 ms on the development machine's ext4) overlaps the removal of the cgroup
         * and the sandbox and the reaper's exit. */
        struct gx_error aerr = {0};
        int ar = audit_append(&audit, l, "end", r < 0 ? err->msg : NULL, &aerr);
        if (ar == 0) {
                reaper_end_recorded(&res.reaper);
                audit_sync_start(&audit);
        }
        gx_trace("audit-end");
        release(l, &res);
        gx_trace("teardown");
        if (ar == 0)
                ar = audit_sync_wait(&audit, &aerr);
        audit_close(&audit);
        gx_trace("audit-sync-end");
        reaper_collect(&res.reaper);
        gx_trace("reaper-exit");
        if (ar < 0) {
                log_msg(LOG_LVL_FATAL, "%s: audit end record lost: %s", l->id, aerr.msg);
                if (l->cfg->require_audit && r == 0) {
                        *err = aerr;
                        r = -EIO;
                        l->have_result = false;
                }
        }

        if (l->req.report_fd >= 0) {
                struct gx_error rerr = {0};
                if (audit_write_report(l, l->req.report_fd, &rerr) < 0)
                        log_msg(LOG_LVL_WARNING, "%s: %s", l->id, rerr.msg);
                gx_trace("report");
        }
        if (r < 0 && !l->have_result)
                return r;
        if (r < 0)
                log_stderr("%s", gx_error_public(err));
        return l->result.status;
}

int run_cleanup(const struct config *cfg, FILE *out)
{
        struct gx_error err = {0};
        _cleanup_close_ int base_fd = stage_open_base(cfg->sandbox_base, true, &err);
        if (base_fd < 0) {
                fprintf(out, "%s\n", err.msg);
                return -1;
        }
        unsigned cgroups = 0;
        int r = limits_sweep(cfg, base_fd, &cgroups, &err);
        if (r < 0)
                fprintf(out, "cgroups: %s\n", err.msg);
        unsigned sandboxes = lock_sweep_stale(base_fd, "");
        fprintf(out, "removed %u cgroups and %u sandboxes of dead launches\n", cgroups,
                sandboxes);
        return r;
}
