/* Live test of the cgroup v2 backend: needs root and /sys/fs/cgroup on cgroup2, so on this
 * project's v1 build hosts it runs inside a User-Mode Linux guest:
 *     tests/vm/uml-run -- build/tests/unit/test-cgroup-v2
 * Elsewhere it says why it skips and exits 0.
 *
 * It builds a batch slot of its own, /sys/fs/cgroup/gx-test-slot-<pid>, moves itself into
 * it (so the slot holds processes, like a pilot's), and checks the leaf-split policies, then
 * runs the payload scenarios with clone3(CLONE_INTO_CGROUP). Everything is removed again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cgroup-live.h"

#define ROOT "/sys/fs/cgroup"

static char slot[64];      /* hierarchy path, "/gx-test-slot-<pid>" */
static char slot_dir[128]; /* file-system path */

static int write_file(const char *path, const char *value)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, value, strlen(value));
        int r = n < 0 ? -errno : 0;
        close(fd);
        return r;
}

static char *read_file(const char *path)
{
        char *text = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || gx_read_all(fd, 1 << 20, &text, NULL) < 0)
                text = NULL;
        if (fd >= 0)
                close(fd);
        return text;
}

static char *own_cgroup(void)
{
        char *text = read_file("/proc/self/cgroup"), *path = NULL;
        if (text)
                cg_parse_proc_cgroup(text, NULL, &path);
        free(text);
        return path;
}

static int open_parent(const char *parent, enum cg_leaf_move move, uid_t uid,
                       struct cg_parent **ret, struct gx_error *err)
{
        struct cg_parent_request req = {.parent = parent, .leaf_move = move, .caller_uid = uid};
        *err = (struct gx_error){};
        return cg_parent_open(CG_MODE_V2, &req, ret, err);
}

static void check_unavailable(const char *parent, enum cg_leaf_move move, uid_t uid,
                              const char *want1, const char *want2)
{
        struct cg_parent *p = NULL;
        struct gx_error err;
        int r = open_parent(parent, move, uid, &p, &err);
        printf("unavailable: %s\n", err.msg);
        CHECK(r == CG_UNAVAILABLE);
        CHECK(!p);
        CHECK(strstr(err.msg, want1) && strstr(err.msg, want2));
        if (r == 0)
                cg_parent_free(p);
}

static bool subtree_has_all(const char *dir)
{
        char path[256];
        unsigned mask = 0;
        snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
        char *text = read_file(path);
        bool ok = text && cg_parse_controllers(text, &mask) == 0 &&
                  mask == (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS);
        free(text);
        return ok;
}

/* Returns the parent to run the payload scenarios in, after the split. */
static struct cg_parent *test_policies(void)
{
        char path[256];
        struct gx_error err;
        struct cg_parent *p = NULL;

        /* The slot holds processes (this test): only a split makes room for payloads. */
        check_unavailable("auto", CG_LEAF_MOVE_NEVER, 12345, "holds processes",
                          "(cgroup_leaf_move = never)");
        check_unavailable("auto", CG_LEAF_MOVE_DELEGATED, 12345, slot,
                          "holds processes and is not delegated to the caller "
                          "(cgroup_leaf_move = delegated)");

        /* Delegated as systemd or HTCondor do it: directory, cgroup.procs, subtree_control. */
        CHECK(chown(slot_dir, 12345, 12345) == 0);
        snprintf(path, sizeof(path), "%s/cgroup.procs", slot_dir);
        CHECK(chown(path, 12345, 12345) == 0);
        check_unavailable("auto", CG_LEAF_MOVE_DELEGATED, 12345, "not delegated", slot);
        snprintf(path, sizeof(path), "%s/cgroup.subtree_control", slot_dir);
        CHECK(chown(path, 12345, 12345) == 0);
        int r = open_parent("auto", CG_LEAF_MOVE_DELEGATED, 12345, &p, &err);
        if (r != 0)
                fprintf(stderr, "cg_parent_open: %d %s\n", r, err.msg);
        CHECK(r == 0);
        if (r == 0) {
                CHECK(cg_parent_did_leaf_split(p));
                CHECK_STREQ(cg_parent_path(p), slot_dir);
                cg_parent_free(p);
        }
        char *own = own_cgroup(), want[128];
        snprintf(want, sizeof(want), "%s/%s", slot, CG_LEAF_NAME);
        CHECK_STREQ(own, want);
        free(own);
        CHECK(subtree_has_all(slot_dir));

        /* Running in the leaf now, auto still means the slot, which needs nothing more. */
        r = open_parent(NULL, CG_LEAF_MOVE_NEVER, 12345, &p, &err);
        if (r != 0)
                fprintf(stderr, "cg_parent_open: %d %s\n", r, err.msg);
        CHECK(r == 0);
        if (r != 0)
                return NULL;
        CHECK(!cg_parent_did_leaf_split(p));
        CHECK_STREQ(cg_parent_path(p), slot_dir);

        /* A configured parent without controllers for its children, and one below it that
         * has none to give. */
        char t[128], tv[128], t_dir[256], tv_dir[256];
        snprintf(t, sizeof(t), "%s/t", slot);
        snprintf(tv, sizeof(tv), "%s/t/v", slot);
        snprintf(t_dir, sizeof(t_dir), ROOT "%s", t);
        snprintf(tv_dir, sizeof(tv_dir), ROOT "%s", tv);
        CHECK(mkdir(t_dir, 0755) == 0 && mkdir(tv_dir, 0755) == 0);
        check_unavailable(tv, CG_LEAF_MOVE_ALWAYS, 0, "lacks the controllers cpu, memory, pids",
                          "not delegated");
        check_unavailable(t, CG_LEAF_MOVE_NEVER, 0,
                          "does not enable cpu, memory, pids for its children",
                          "(cgroup_leaf_move = never)");
        struct cg_parent *q = NULL;
        CHECK(rmdir(tv_dir) == 0);
        r = open_parent(t, CG_LEAF_MOVE_ALWAYS, 0, &q, &err);
        CHECK(r == 0);
        if (r == 0) {
                CHECK(!cg_parent_did_leaf_split(q));
                CHECK(subtree_has_all(t_dir));
                cg_parent_free(q);
        }
        CHECK(rmdir(t_dir) == 0);
        r = open_parent("/gx-test-does-not-exist", CG_LEAF_MOVE_ALWAYS, 0, &q, &err);
        printf("missing parent: %s\n", err.msg);
        CHECK(r == -ENOENT);
        return p;
}

static void check_in_own_cgroup(void)
{
        /* The clone3 child, before anything else: already inside. */
        char *own = own_cgroup();
        const char *base = own ? strrchr(own, '/') : NULL;
        _exit(base && strncmp(base, "/" CG_NAME_PREFIX, strlen(CG_NAME_PREFIX) + 1) == 0 ? 0 : 1);
}

static void test_clone_and_errors(const struct cg_parent *p)
{
        const char *id = new_id();
        struct cg *cg = create(p, id, 64 * MiB, 500, 64);
        if (!cg)
                return;
        CHECK(cg_mode(cg) == CG_MODE_V2);
        CHECK(cg_clone_fd(cg) >= 0);
        char want[256];
        snprintf(want, sizeof(want), "%s/" CG_NAME_PREFIX "%s", slot_dir, id);
        CHECK_STREQ(cg_path(cg), want);
        int status = wait_status(spawn_attached(cg, check_in_own_cgroup));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        /* CLONE_PIDFD comes back through ret_pidfd. */
        int pidfd = -1;
        pid_t pid = cg_clone3_into(cg, 0x00001000 /* CLONE_PIDFD */, &pidfd);
        if (pid == 0)
                _exit(7);
        CHECK(pid > 0 && pidfd >= 0);
        status = wait_status(pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
        if (pidfd >= 0)
                close(pidfd);

        char *max = NULL, path[300];
        snprintf(path, sizeof(path), "%s/cpu.max", want);
        max = read_file(path);
        CHECK_STREQ(max, "50000 100000\n");
        free(max);
        snprintf(path, sizeof(path), "%s/memory.oom.group", want);
        max = read_file(path);
        CHECK_STREQ(max, "1\n");
        free(max);
        snprintf(path, sizeof(path), "%s/memory.swap.max", want);
        max = read_file(path);
        CHECK(!max || strcmp(max, "0\n") == 0);
        free(max);

        struct gx_error err = {};
        struct cg *cg2 = NULL;
        struct cg_limits l = {};
        CHECK(cg_create(p, id, &l, &cg2, &err) == -EEXIST);
        printf("second create: %s\n", err.msg);
        destroy(cg);
}

static void check_nothing_left(void)
{
        unsigned checked = 0;
        for (unsigned i = 0; i < n_test_ids; i++) {
                char path[256];
                snprintf(path, sizeof(path), "%s/" CG_NAME_PREFIX "%s", slot_dir, test_ids[i]);
                CHECK(access(path, F_OK) < 0 && errno == ENOENT);
                checked++;
        }
        CHECK(access(slot_dir, F_OK) < 0 && errno == ENOENT);
        printf("checked %u paths and the slot: nothing left\n", checked + 1);
}

int main(void)
{
        struct statfs sfs;
        if (geteuid() != 0) {
                printf("skipped (not root)\n");
                return 0;
        }
        if (statfs(ROOT, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
                printf("skipped (%s is not cgroup2; run it under tests/vm/uml-run)\n", ROOT);
                return 0;
        }
        char *own = own_cgroup();
        unsigned offered = 0, enabled = 0;
        char *ctl = read_file(ROOT "/cgroup.controllers");
        char *sub = read_file(ROOT "/cgroup.subtree_control");
        if (!own || strcmp(own, "/") != 0 || !ctl || cg_parse_controllers(ctl, &offered) < 0 ||
            (offered & (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS)) !=
                    (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS) ||
            !sub || cg_parse_controllers(sub, &enabled) < 0) {
                printf("skipped (needs to start in the root cgroup with cpu, memory and pids; "
                       "cgroup %s, controllers %s)\n",
                       own ? own : "?", ctl ? ctl : "?");
                return 0;
        }
        free(own);
        free(ctl);
        free(sub);
        /* The guest of tests/vm/uml-run enables them already. A container's namespace root
         * holds processes and cannot. */
        bool enabled_here = false;
        if ((enabled & (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS)) !=
            (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS)) {
                int r = write_file(ROOT "/cgroup.subtree_control", "+cpu +memory +pids");
                if (r < 0) {
                        printf("skipped (cannot enable cpu, memory, pids in %s: %s)\n", ROOT,
                               strerror(-r));
                        return 0;
                }
                enabled_here = true;
        }

        live_mode = CG_MODE_V2;
        CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
        enum cg_mode mode = 0;
        CHECK(cg_detect(&mode, NULL) == 0 && mode == CG_MODE_V2);

        snprintf(slot, sizeof(slot), "/gx-test-slot-%d", (int)getpid());
        snprintf(slot_dir, sizeof(slot_dir), ROOT "%s", slot);
        char path[256];
        CHECK(mkdir(slot_dir, 0755) == 0);
        snprintf(path, sizeof(path), "%s/cgroup.procs", slot_dir);
        CHECK(write_file(path, "0") == 0);

        struct cg_parent *p = test_policies();
        if (p) {
                test_clone_and_errors(p);
                test_oom(p);
                test_pids(p);
                test_cpu_and_leftover(p);
                test_stale(p);
                bench(p);
                cg_parent_free(p);
        }

        /* Back to the root, then remove the leaf and the slot. */
        CHECK(write_file(ROOT "/cgroup.procs", "0") == 0);
        snprintf(path, sizeof(path), "%s/%s", slot_dir, CG_LEAF_NAME);
        if (access(path, F_OK) == 0)
                CHECK(rmdir(path) == 0);
        CHECK(rmdir(slot_dir) == 0);
        if (enabled_here)
                write_file(ROOT "/cgroup.subtree_control", "-cpu -memory -pids");
        check_nothing_left();
        TEST_MAIN_END();
}
