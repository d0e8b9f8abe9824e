#include "privs.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/strutil.h"

int privs_capture_caller(struct caller *ret, struct gx_error *err)
{
        struct caller c = {.uid = getuid(), .gid = getgid(), .pid = getppid()};
        int n = getgroups(PRIVS_MAX_GROUPS, c.groups);
        if (n < 0)
                return gx_fail(err, GX_CLIENT, errno, "too many supplementary groups");
        c.n_groups = (size_t)n;

        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwuid_r(c.uid, &pw, buf, sizeof(buf), &res) == 0 && res) {
                gx_strlcpy(c.user, pw.pw_name, sizeof(c.user));
                gx_strlcpy(c.home, pw.pw_dir, sizeof(c.home));
        }
        *ret = c;
        return 0;
}

static bool group_name_of(gid_t gid, char *name, size_t n)
{
        struct group gr, *res = NULL;
        char buf[8192];
        if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) != 0 || !res)
                return false;
        return gx_strlcpy(name, gr.gr_name, n) == 0;
}

static bool name_matches(const char *name, char *const *list)
{
        for (size_t i = 0; list && list[i]; i++) {
                const char *entry = list[i];
                /* ".prefix" admits a pool of accounts, as in gLExec's user_white_list. */
                if (entry[0] == '.' && entry[1] && gx_startswith(name, entry + 1))
                        return true;
                if (strcmp(entry, name) == 0)
                        return true;
        }
        return false;
}

bool privs_caller_whitelisted(const struct caller *c, char *const *users, char *const *groups)
{
        if (c->user[0] && name_matches(c->user, users))
                return true;
        char gname[256];
        if (group_name_of(c->gid, gname, sizeof(gname)) && name_matches(gname, groups))
                return true;
        for (size_t i = 0; i < c->n_groups; i++)
                if (group_name_of(c->groups[i], gname, sizeof(gname)) &&
                    name_matches(gname, groups))
                        return true;
        return false;
}

/* setfsuid cannot report failure: it returns the previous value either way. Read back with
 * an invalid id (-1 changes nothing) and compare. */
static int set_fs_ids(uid_t uid, gid_t gid)
{
        setfsgid(gid);
        setfsuid(uid);
        if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid)
                return -EPERM;
        return 0;
}

int privs_read_caller_file(const struct caller *c, const char *path, const char *what,
                           size_t max, char **ret_buf, size_t *ret_len, struct gx_error *err)
{
        uid_t saved_uid = (uid_t)setfsuid((uid_t)-1);
        gid_t saved_gid = (gid_t)setfsgid((gid_t)-1);
        char esc[256];
        int r;

        gx_escape(esc, sizeof(esc), path);
        if (set_fs_ids(c->uid, c->gid) < 0) {
                set_fs_ids(saved_uid, saved_gid);
                return gx_fail(err, GX_SYSTEM, EPERM, "cannot take the caller's file rights");
        }
        /* O_NONBLOCK: a FIFO must not hang us; O_NOFOLLOW: the file itself is not a link. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
                                                    O_NONBLOCK);
        int saved_errno = errno;
        if (set_fs_ids(saved_uid, saved_gid) < 0)
                return gx_fail(err, GX_SYSTEM, EPERM, "cannot restore file rights");
        if (fd < 0)
                return gx_fail(err, GX_CLIENT, saved_errno, "cannot open %s %s", what, esc);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return gx_fail(err, GX_CLIENT, errno, "%s %s", what, esc);
        if (!S_ISREG(st.st_mode))
                return gx_fail(err, GX_CLIENT, 0, "%s %s is not a regular file", what, esc);
        if (st.st_uid != c->uid)
                return gx_fail(err, GX_CLIENT, 0, "%s %s is not owned by the caller", what, esc);
        if (st.st_mode & (S_IRWXG | S_IRWXO | S_ISUID | S_ISGID | S_ISVTX))
                return gx_fail(err, GX_CLIENT, 0,
                               "%s %s must not have group, other or special permissions", what,
                               esc);
        if ((uint64_t)st.st_size > max)
                return gx_fail(err, GX_CLIENT, 0, "%s %s is too large", what, esc);
        r = gx_read_all(fd, max, ret_buf, ret_len);
        if (r < 0)
                return gx_fail(err, GX_CLIENT, -r, "reading %s %s", what, esc);
        return 0;
}
