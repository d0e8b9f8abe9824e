/* Live test of the cgroup v1 backend: needs root on a v1 or hybrid host, skips otherwise.
 * Every cgroup is made below the test process's own cgroups (cgroup_parent = auto) and
 * removed again; the last check makes sure nothing is left. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-live.h"

static void test_create_errors(const struct cg_parent *p)
{
        struct gx_error err = {};
        struct cg *cg = NULL, *cg2 = NULL;
        struct cg_limits l = {.memory_max = 64 * MiB};
        CHECK(cg_create(p, "xyz", &l, &cg, &err) == -EINVAL);
        CHECK(cg_create(p, "7E57000000000000000000AA", &l, &cg, &err) == -EINVAL);

        /* Never adopt an existing directory. */
        const char *id = new_id();
        cg = create(p, id, 64 * MiB, 500, 64);
        CHECK(cg_create(p, id, &l, &cg2, &err) == -EEXIST);
        printf("second create: %s\n", err.msg);
        CHECK(strstr(err.msg, "creating cgroup") && strstr(err.msg, id));
        if (cg)
                destroy(cg);

        /* Pre-created in the last hierarchy only (pids, as a hostile caller could): the
         * create fails and removes what it made in the others. */
        id = new_id();
        char pre[4096], mem[4096];
        cg = create(p, id, 0, 0, 0);
        if (!cg)
                return;
        snprintf(mem, sizeof(mem), "%s", cg_path(cg));
        destroy(cg);
        char *own = NULL, *self = NULL;
        int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0 && gx_read_all(fd, 1 << 16, &self, NULL) == 0);
        close(fd);
        CHECK(cg_parse_proc_cgroup(self, "pids", &own) == 0);
        snprintf(pre, sizeof(pre), "/sys/fs/cgroup/pids%s/glexec-%s",
                 strcmp(own, "/") ? own : "", id);
        CHECK(mkdir(pre, 0755) == 0);
        CHECK(cg_create(p, id, &l, &cg, &err) == -EEXIST);
        CHECK(access(mem, F_OK) < 0 && errno == ENOENT);
        CHECK(rmdir(pre) == 0);
        free(own);
        free(self);

        struct cg_parent *bad = NULL;
        struct cg_parent_request req = {.parent = "/glexec-test-does-not-exist"};
        CHECK(cg_parent_open(CG_MODE_V1, &req, &bad, &err) == -ENOENT);
        printf("missing parent: %s\n", err.msg);
        req.parent = "relative";
        CHECK(cg_parent_open(CG_MODE_V1, &req, &bad, &err) == -EINVAL);
        req.parent = "/a/../b";
        CHECK(cg_parent_open(CG_MODE_V1, &req, &bad, &err) == -EINVAL);
}

static void check_nothing_left(void)
{
        static const char *const ctrls[] = {"memory", "cpu", "cpuacct", "pids", "freezer"};
        char *self = NULL, *mountinfo = NULL;
        int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0 && gx_read_all(fd, 1 << 16, &self, NULL) == 0);
        close(fd);
        fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0 && gx_read_all(fd, 16 << 20, &mountinfo, NULL) == 0);
        close(fd);
        unsigned checked = 0;
        for (size_t c = 0; self && mountinfo && c < sizeof(ctrls) / sizeof(ctrls[0]); c++) {
                char *own = NULL;
                struct cg_mount m = {};
                if (cg_parse_proc_cgroup(self, ctrls[c], &own) < 0 ||
                    cg_parse_mountinfo(mountinfo, ctrls[c], own, &m) < 0) {
                        free(own);
                        continue;
                }
                const char *rel;
                CHECK(cg_strip_root(own, m.root, &rel) == 0);
                for (unsigned i = 0; i < n_test_ids; i++) {
                        char path[4096];
                        snprintf(path, sizeof(path), "%s/%s%sglexec-%s", m.mount_point, rel,
                                 *rel ? "/" : "", test_ids[i]);
                        if (access(path, F_OK) == 0)
                                fprintf(stderr, "left over: %s\n", path);
                        CHECK(access(path, F_OK) < 0 && errno == ENOENT);
                        checked++;
                }
                free(own);
                cg_mount_done(&m);
        }
        printf("checked %u paths: nothing left\n", checked);
        CHECK(checked >= n_test_ids * 4);
        free(self);
        free(mountinfo);
}

int main(void)
{
        if (geteuid() != 0) {
                printf("skipped (not root)\n");
                return 0;
        }
        enum cg_mode mode;
        struct gx_error err = {};
        if (cg_detect(&mode, &err) < 0 || mode != CG_MODE_V1) {
                printf("skipped (not a cgroup v1 host: %s)\n",
                       err.msg[0] ? err.msg : "cgroup2 at /sys/fs/cgroup");
                return 0;
        }
        live_mode = CG_MODE_V1;
        /* Orphaned daemons of the payloads become our children, so the test can reap them
         * and see how they died. */
        CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);

        struct cg_parent *p = NULL;
        struct cg_parent_request req = {.parent = "auto",
                                        .leaf_move = CG_LEAF_MOVE_DELEGATED,
                                        .caller_uid = getuid()};
        int r = cg_parent_open(CG_MODE_V1, &req, &p, &err);
        if (r != 0)
                fprintf(stderr, "cg_parent_open: %d %s\n", r, err.msg);
        CHECK(r == 0);
        if (r == 0) {
                printf("parent %s\n", cg_parent_path(p));
                CHECK(cg_parent_mode(p) == CG_MODE_V1);
                CHECK(!cg_parent_did_leaf_split(p));
                test_create_errors(p);
                test_oom(p);
                test_pids(p);
                test_cpu_and_leftover(p);
                test_stale(p);
                bench(p);
                cg_parent_free(p);
        }
        check_nothing_left();
        TEST_MAIN_END();
}
