/* The cgroup layer's parsers, over texts as the kernel writes them; no root needed. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "sandbox/cgroup.h"
#include "test.h"

static const char host_proc_cgroup[] = "9:name=systemd:/\n"
                                       "8:pids:/\n"
                                       "7:blkio:/\n"
                                       "6:freezer:/\n"
                                       "5:devices:/\n"
                                       "4:memory:/process_api/1e5ec53c5559269e123d466999adc672\n"
                                       "3:cpuset:/\n"
                                       "2:cpu,cpuacct:/slurm/uid_1000/job_5/step_0/task_0\n"
                                       "0::/\n";

static void test_paths(void)
{
        CHECK(cg_path_is_valid("/"));
        CHECK(cg_path_is_valid("/a"));
        CHECK(cg_path_is_valid("/slurm/uid_1000/job_5/step_0/task_0"));
        CHECK(cg_path_is_valid("/a b/c:d"));
        CHECK(!cg_path_is_valid(""));
        CHECK(!cg_path_is_valid("a/b"));
        CHECK(!cg_path_is_valid("/a/"));
        CHECK(!cg_path_is_valid("//a"));
        CHECK(!cg_path_is_valid("/a//b"));
        CHECK(!cg_path_is_valid("/a/../b"));
        CHECK(!cg_path_is_valid("/.."));
        CHECK(!cg_path_is_valid("/a/."));
        CHECK(!cg_path_is_valid(NULL));
}

static void check_proc(const char *text, const char *ctrl, int want_r, const char *want_path)
{
        char *path = NULL;
        int r = cg_parse_proc_cgroup(text, ctrl, &path);
        CHECK(r == want_r);
        if (want_path)
                CHECK_STREQ(path, want_path);
        else
                CHECK(!path);
        free(path);
}

static void test_proc_cgroup(void)
{
        check_proc(host_proc_cgroup, "memory", 0,
                   "/process_api/1e5ec53c5559269e123d466999adc672");
        check_proc(host_proc_cgroup, "cpu", 0, "/slurm/uid_1000/job_5/step_0/task_0");
        check_proc(host_proc_cgroup, "cpuacct", 0, "/slurm/uid_1000/job_5/step_0/task_0");
        check_proc(host_proc_cgroup, "freezer", 0, "/");
        check_proc(host_proc_cgroup, NULL, 0, "/");
        check_proc(host_proc_cgroup, "hugetlb", -ENOENT, NULL);
        check_proc(host_proc_cgroup, "systemd", -ENOENT, NULL);
        check_proc(host_proc_cgroup, "name=systemd", 0, "/");
        /* "cpu" must not match "cpuset". */
        check_proc("3:cpuset:/a\n", "cpu", -ENOENT, NULL);
        check_proc("0::/user.slice/user-1000.slice/session-3.scope\n", NULL, 0,
                   "/user.slice/user-1000.slice/session-3.scope");
        check_proc("0::/a", NULL, 0, "/a"); /* no final newline */
        check_proc("0::/a b\n", NULL, 0, "/a b");
        check_proc("0::/x:y\n", NULL, 0, "/x:y");
        check_proc("", NULL, -ENOENT, NULL);
        check_proc("4:memory:/a\n", NULL, -ENOENT, NULL);
        /* A cgroup name with a newline forges a second line: duplicate id or controller. */
        check_proc("4:memory:/a\n4:memory:/evil\n", "memory", -EINVAL, NULL);
        check_proc("4:memory:/a\n12:memory:/evil\n", "memory", -EINVAL, NULL);
        check_proc("0::/a\n0::/evil\n", NULL, -EINVAL, NULL);
        check_proc("4:memory:/a\n4:pids:/b\n", "pids", -EINVAL, NULL);
        /* Malformed lines. */
        check_proc("memory:/a\n", "memory", -EINVAL, NULL);
        check_proc("x:memory:/a\n", "memory", -EINVAL, NULL);
        check_proc(":memory:/a\n", "memory", -EINVAL, NULL);
        check_proc("4:memory:\n", "memory", -EINVAL, NULL);
        check_proc("4:memory:/a\n\n0::/\n", NULL, -EINVAL, NULL);
        check_proc("99999999999999999999999:memory:/a\n", "memory", -EINVAL, NULL);
        /* The requested path must be clean; others may be anything non-empty (a cgroup
         * namespace shows paths outside it as "/.."). */
        check_proc("4:memory:/../x\n", "memory", -EINVAL, NULL);
        check_proc("4:memory:/../x\n0::/ok\n", NULL, 0, "/ok");
        check_proc("0::relative\n", NULL, -EINVAL, NULL);
}

static const char host_mountinfo[] =
        "23 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
        "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 master:2 - cgroup cgroup "
        "rw,memory\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
        "rw,xattr,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void check_mount(const char *text, const char *ctrl, const char *cgpath, int want_r,
                        const char *want_mp, const char *want_root)
{
        struct cg_mount m = {};
        int r = cg_parse_mountinfo(text, ctrl, cgpath, &m);
        if (r != want_r)
                fprintf(stderr, "mountinfo %s %s: %d, expected %d\n", ctrl, cgpath, r, want_r);
        CHECK(r == want_r);
        if (r == 0) {
                CHECK_STREQ(m.mount_point, want_mp);
                CHECK_STREQ(m.root, want_root);
        }
        cg_mount_done(&m);
}

static void test_mountinfo(void)
{
        check_mount(host_mountinfo, "memory", "/process_api/x", 0, "/sys/fs/cgroup/memory", "/");
        check_mount(host_mountinfo, "cpu", "/", 0, "/sys/fs/cgroup/cpu", "/");
        check_mount(host_mountinfo, "cpuacct", "/", 0, "/sys/fs/cgroup/cpuacct", "/");
        check_mount(host_mountinfo, "pids", "/", -ENOENT, NULL, NULL);
        check_mount(host_mountinfo, "hugetlb", "/", -ENOENT, NULL, NULL); /* v2 only */
        check_mount(host_mountinfo, "name=systemd", "/", 0, "/sys/fs/cgroup/systemd", "/");

        /* EL7: co-mounted cpu,cpuacct; the first field after "-" is the type. */
        static const char el7[] =
                "25 18 0:21 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup "
                "rw,seclabel,cpuacct,cpu\n";
        check_mount(el7, "cpu", "/a", 0, "/sys/fs/cgroup/cpu,cpuacct", "/");
        check_mount(el7, "cpuacct", "/a", 0, "/sys/fs/cgroup/cpu,cpuacct", "/");
        check_mount(el7, "cpuset", "/a", -ENOENT, NULL, NULL);

        /* A container: only its own subtree is mounted; the shortest covering root wins. */
        static const char container[] =
                "100 90 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"
                "101 90 0:32 / /host/memory rw - cgroup cgroup rw,memory\n"
                "102 90 0:32 /docker/abc/deeper /x rw - cgroup cgroup rw,memory\n";
        check_mount(container, "memory", "/docker/abc/deeper/y", 0, "/host/memory", "/");
        static const char only_sub[] =
                "100 90 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
        check_mount(only_sub, "memory", "/docker/abc/sub", 0, "/sys/fs/cgroup/memory",
                    "/docker/abc");
        check_mount(only_sub, "memory", "/docker/abcd", -EXDEV, NULL, NULL);
        check_mount(only_sub, "memory", "/other", -EXDEV, NULL, NULL);

        /* Escaped blanks and backslashes. */
        static const char escaped[] =
                "1 2 0:1 /a\\040b /mnt/c\\134g\\011x rw - cgroup cgroup rw,pids\n";
        check_mount(escaped, "pids", "/a b/c", 0, "/mnt/c\\g\tx", "/a b");
        check_mount("1 2 0:1 /a\\04 /m rw - cgroup c rw,pids\n", "pids", "/", -EINVAL, NULL,
                    NULL);
        check_mount("1 2 0:1 /a\\000 /m rw - cgroup c rw,pids\n", "pids", "/", -EINVAL, NULL,
                    NULL);
        check_mount("1 2 0:1 /a\\9 /m rw - cgroup c rw,pids\n", "pids", "/", -EINVAL, NULL, NULL);

        /* Malformed. */
        check_mount("1 2 0:1 / /m rw cgroup c rw,pids\n", "pids", "/", -EINVAL, NULL, NULL);
        check_mount("1 2 0:1 / /m rw - cgroup c\n", "pids", "/", -EINVAL, NULL, NULL);
        check_mount("1 2 0:1 / /m rw - cgroup c rw,pids extra\n", "pids", "/", -EINVAL, NULL,
                    NULL);
        check_mount("1  2 0:1 / /m rw - cgroup c rw,pids\n", "pids", "/", -EINVAL, NULL, NULL);
        check_mount("1 2 0:1 / /m rw - cgroup c rw,pids \n", "pids", "/", -EINVAL, NULL, NULL);
        check_mount("1 2 0:1 / m rw - cgroup c rw,pids\n", "pids", "/", -EINVAL, NULL, NULL);
        check_mount("", "pids", "/", -ENOENT, NULL, NULL);
}

static void test_strip_root(void)
{
        const char *rel = NULL;
        CHECK(cg_strip_root("/a/b", "/", &rel) == 0 && strcmp(rel, "a/b") == 0);
        CHECK(cg_strip_root("/", "/", &rel) == 0 && strcmp(rel, "") == 0);
        CHECK(cg_strip_root("/a/b", "/a", &rel) == 0 && strcmp(rel, "b") == 0);
        CHECK(cg_strip_root("/a", "/a", &rel) == 0 && strcmp(rel, "") == 0);
        CHECK(cg_strip_root("/ab", "/a", &rel) == -EXDEV);
        CHECK(cg_strip_root("/", "/a", &rel) == -EXDEV);
}

static void test_keyed(void)
{
        static const char cpu_stat[] = "usage_usec 1234567\nuser_usec 1000000\n"
                                       "system_usec 234567\nnr_periods 30\nnr_throttled 12\n"
                                       "throttled_usec 88\nnr_bursts 0\nburst_usec 0\n";
        uint64_t v = 0;
        CHECK(cg_parse_keyed(cpu_stat, "user_usec", &v) == 0 && v == 1000000);
        CHECK(cg_parse_keyed(cpu_stat, "system_usec", &v) == 0 && v == 234567);
        CHECK(cg_parse_keyed(cpu_stat, "nr_throttled", &v) == 0 && v == 12);
        CHECK(cg_parse_keyed(cpu_stat, "usage", &v) == -ENOENT);
        CHECK(cg_parse_keyed(cpu_stat, "usec", &v) == -ENOENT);

        static const char events[] = "low 0\nhigh 0\nmax 35\noom 1\noom_kill 1\n"
                                     "oom_group_kill 0\n";
        CHECK(cg_parse_keyed(events, "oom_kill", &v) == 0 && v == 1);
        CHECK(cg_parse_keyed(events, "oom", &v) == 0 && v == 1);
        CHECK(cg_parse_keyed(events, "max", &v) == 0 && v == 35);
        CHECK(cg_parse_keyed(events, "oom_group_kill", &v) == 0 && v == 0);

        static const char oom_control[] = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        CHECK(cg_parse_keyed(oom_control, "oom_kill", &v) == 0 && v == 3);
        CHECK(cg_parse_keyed("oom_kill_disable 0\nunder_oom 0\n", "oom_kill", &v) == -ENOENT);
        CHECK(cg_parse_keyed("user 14\nsystem 50\n", "system", &v) == 0 && v == 50);
        CHECK(cg_parse_keyed("populated 1\nfrozen 0\n", "populated", &v) == 0 && v == 1);
        CHECK(cg_parse_keyed("max 0\nmax.imposed 7", "max.imposed", &v) == 0 && v == 7);
        CHECK(cg_parse_keyed("a 18446744073709551615\n", "a", &v) == 0 && v == UINT64_MAX);

        CHECK(cg_parse_keyed("a 18446744073709551616\n", "a", &v) == -ERANGE);
        CHECK(cg_parse_keyed("a 1 2\n", "a", &v) == -EINVAL);
        CHECK(cg_parse_keyed("a -1\n", "a", &v) == -EINVAL);
        CHECK(cg_parse_keyed("a\n", "a", &v) == -EINVAL);
        CHECK(cg_parse_keyed(" 1\n", "a", &v) == -EINVAL);
        CHECK(cg_parse_keyed("a  1\n", "a", &v) == -EINVAL);
        CHECK(cg_parse_keyed("a/b 1\n", "a/b", &v) == -EINVAL);
        CHECK(cg_parse_keyed("a 1\n\nb 2\n", "b", &v) == -EINVAL);
        CHECK(cg_parse_keyed("", "a", &v) == -ENOENT);
}

static void test_values(void)
{
        uint64_t v = 0;
        CHECK(cg_parse_value("67108864\n", &v) == 0 && v == 67108864);
        CHECK(cg_parse_value("0", &v) == 0 && v == 0);
        CHECK(cg_parse_value("max\n", &v) == 0 && v == UINT64_MAX);
        CHECK(cg_parse_value("", &v) == -EINVAL);
        CHECK(cg_parse_value("\n", &v) == -EINVAL);
        CHECK(cg_parse_value("12a\n", &v) == -EINVAL);
        CHECK(cg_parse_value("-1\n", &v) == -EINVAL);
        CHECK(cg_parse_value("1\n\n", &v) == -EINVAL);
        CHECK(cg_parse_value("max 100000\n", &v) == -EINVAL);
        CHECK(cg_parse_value("99999999999999999999999\n", &v) == -ERANGE);
}

static void test_controllers(void)
{
        unsigned m = 99;
        CHECK(cg_parse_controllers("cpuset cpu io memory hugetlb pids rdma misc\n", &m) == 0 &&
              m == (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS));
        CHECK(cg_parse_controllers("memory", &m) == 0 && m == CG_CTRL_MEMORY);
        CHECK(cg_parse_controllers("\n", &m) == 0 && m == 0);
        CHECK(cg_parse_controllers("", &m) == 0 && m == 0);
        CHECK(cg_parse_controllers("cpuset io\n", &m) == 0 && m == 0);
        CHECK(cg_parse_controllers("cpu  memory\n", &m) == -EINVAL);
        CHECK(cg_parse_controllers("cpu \n", &m) == -EINVAL);
        CHECK(cg_parse_controllers(" cpu\n", &m) == -EINVAL);
        CHECK(cg_parse_controllers("+cpu\n", &m) == -EINVAL);
}

static void test_procs(void)
{
        pid_t *p = NULL;
        size_t n = 9;
        CHECK(cg_parse_procs("", &p, &n) == 0 && n == 0 && !p);
        CHECK(cg_parse_procs("1\n23\n4194304\n", &p, &n) == 0 && n == 3);
        CHECK(p && p[0] == 1 && p[1] == 23 && p[2] == 4194304);
        free(p);
        p = NULL;
        CHECK(cg_parse_procs("7", &p, &n) == 0 && n == 1 && p && p[0] == 7);
        free(p);
        p = NULL;
        CHECK(cg_parse_procs("0\n", &p, &n) == -EINVAL);
        CHECK(cg_parse_procs("1\n\n2\n", &p, &n) == -EINVAL);
        CHECK(cg_parse_procs("abc\n", &p, &n) == -EINVAL);
        CHECK(cg_parse_procs("-5\n", &p, &n) == -EINVAL);
        CHECK(cg_parse_procs("2147483648\n", &p, &n) == -EINVAL);
        CHECK(!p);
}

int main(void)
{
        test_paths();
        test_proc_cgroup();
        test_mountinfo();
        test_strip_root();
        test_keyed();
        test_values();
        test_controllers();
        test_procs();
        TEST_MAIN_END();
}
