#include "staging.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/strutil.h"
#include "log.h"
#include "sandbox/transfer.h"

/* Without the setuid bit (declare-only) we already are the caller, who is also the target,
 * and could not switch ids anyway. */
static bool have_privilege(void)
{
        return geteuid() == 0;
}

/* One side of a copy, the caller's or the target's: whose ids it runs with, and where. */
static struct transfer_side side(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                                 int dirfd)
{
        return (struct transfer_side){
                .switch_ids = have_privilege(),
                .uid = uid,
                .gid = gid,
                .groups = groups,
                .n_groups = n_groups,
                .dirfd = dirfd,
        };
}

static struct transfer_side caller_side(const struct launch *l, int dirfd)
{
        return side(l->caller.uid, l->caller.gid, l->caller.groups, l->caller.n_groups, dirfd);
}

static struct transfer_side target_side(const struct launch *l, int dirfd)
{
        return side(l->target.uid, l->target.gid, l->target.groups, l->target.n_groups, dirfd);
}

/* A --stage-out NAME is a relative path of plain names: it cannot leave the sandbox. */
static int check_out_name(const char *name, struct gx_error *err)
{
        char esc[256];
        gx_escape(esc, sizeof(esc), name);
        if (strlen(name) >= PATH_MAX)
                return gx_fail(err, GX_CLIENT, 0, "--stage-out %s: too long", esc);
        if (!transfer_is_plain_path(name))
                return gx_fail(err, GX_CLIENT, 0,
                               "--stage-out %s: must be a relative path in the sandbox without "
                               "\".\", \"..\" or empty components",
                               esc);
        return 0;
}

static void report_skipped(const char *option, const char *esc, const struct transfer_stats *st)
{
        if (st->skipped)
                log_stderr("%s %s: %" PRIu64 " entries not copied (not a regular file or "
                           "directory%s, or on another file system)",
                           option, esc, st->skipped,
                           strcmp(option, "--stage-in") == 0 ? " or symbolic link" : "");
}

int staging_in(const struct launch *l, int sandbox_fd, struct gx_error *err)
{
        for (int i = 0; i < l->req.n_stage_out; i++) {
                int r = check_out_name(l->req.stage_out[i], err);
                if (r < 0)
                        return r;
        }
        for (int i = 0; i < l->req.n_stage_in; i++) {
                const char *path = l->req.stage_in[i];
                struct transfer_spec spec = {
                        .from = caller_side(l, AT_FDCWD),
                        .to = target_side(l, sandbox_fd),
                        .source = path,
                        .flags = TRANSFER_FOLLOW_TOP | TRANSFER_SYMLINKS,
                };
                struct transfer_stats st;
                char esc[256];
                gx_escape(esc, sizeof(esc), path);
                int r = transfer_copy(&spec, &st, err);
                if (r < 0) {
                        gx_error_prefix(err, "--stage-in");
                        return r;
                }
                log_msg(LOG_LVL_INFO,
                        "%s: staged in %s: %" PRIu64 " files, %" PRIu64 " directories, %" PRIu64
                        " symlinks, %" PRIu64 " hard links, %" PRIu64 " bytes, %" PRIu64
                        " skipped",
                        l->id, esc, st.files, st.dirs, st.symlinks, st.hardlinks, st.bytes,
                        st.skipped);
                report_skipped("--stage-in", esc, &st);
        }
        return 0;
}

int staging_out(const struct launch *l, int sandbox_fd, struct gx_error *err)
{
        int failed = 0;
        for (int i = 0; i < l->req.n_stage_out; i++) {
                const char *name = l->req.stage_out[i];
                struct transfer_spec spec = {
                        .from = target_side(l, sandbox_fd),
                        .to = caller_side(l, AT_FDCWD),
                        .source = name,
                        .flags = TRANSFER_MERGE | TRANSFER_NO_SHARED_WRITE,
                };
                struct transfer_stats st;
                struct gx_error e = {0};
                char esc[256];
                gx_escape(esc, sizeof(esc), name);
                int r = check_out_name(name, &e);
                if (r == 0)
                        r = transfer_copy(&spec, &st, &e);
                if (r < 0) {
                        log_msg(LOG_LVL_WARNING, "%s: --stage-out %s not copied: %s", l->id, esc,
                                e.msg);
                        log_stderr("--stage-out %s not copied: %s", esc, gx_error_public(&e));
                        failed++;
                        continue;
                }
                log_msg(LOG_LVL_INFO,
                        "%s: staged out %s: %" PRIu64 " files, %" PRIu64 " directories, %" PRIu64
                        " hard links, %" PRIu64 " bytes, %" PRIu64 " skipped",
                        l->id, esc, st.files, st.dirs, st.hardlinks, st.bytes, st.skipped);
                report_skipped("--stage-out", esc, &st);
        }
        if (failed)
                return gx_fail(err, GX_CLIENT, 0, "%d of %d --stage-out entries not copied", failed,
                               l->req.n_stage_out);
        return 0;
}
