#include "sandbox/ids.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

int ids_switch(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, bool set_groups,
               struct gx_error *err)
{
        /* Groups, then gid, then uid: after the uid change the others could no longer be set
         * (sandbox-anchors.md checklist A.2). */
        if (set_groups && setgroups(n_groups, groups) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "setgroups");
        if (setresgid(gid, gid, gid) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "setresgid(%u)", (unsigned)gid);
        if (setresuid(uid, uid, uid) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "setresuid(%u)", (unsigned)uid);

        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "reading back ids");
        if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
                return gx_fail(err, GX_SYSTEM, 0, "identity switch did not take effect");
        /* Try to undo it (OpenSSH uidswap.c). Inside our user namespace uid 0 is unmapped, so
         * this must fail whatever capabilities are still held at this point. */
        if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
                return gx_fail(err, GX_SYSTEM, 0, "root could be regained after the switch");
        return 0;
}

int ids_drop_capabilities(struct gx_error *err)
{
        /* In a user namespace whose uid 0 is unmapped, setresuid() to the target did not
         * clear the capabilities held in that namespace: the "root" of the capability rules
         * is the namespace's uid 0. So every set is cleared explicitly; the bounding set goes
         * first, while CAP_SETPCAP is still held. */
        capng_clear(CAPNG_SELECT_ALL);
        if (capng_apply(CAPNG_SELECT_ALL) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "dropping capabilities");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return gx_fail(err, GX_SYSTEM, errno, "clearing ambient capabilities");

        if (capng_get_caps_process() < 0)
                return gx_fail(err, GX_SYSTEM, errno, "reading capabilities back");
        if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
                return gx_fail(err, GX_SYSTEM, 0, "capabilities are still held");
        /* Walk until the kernel says EINVAL: it may know more capabilities than our headers. */
        for (int cap = 0;; cap++) {
                int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
                if (r < 0)
                        break;
                if (r > 0)
                        return gx_fail(err, GX_SYSTEM, 0, "bounding set still has capability %d",
                                       cap);
        }
        return 0;
}

int ids_set_no_new_privs(struct gx_error *err)
{
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "setting no_new_privs");
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                return gx_fail(err, GX_SYSTEM, 0, "no_new_privs did not stick");
        return 0;
}
