/* The cgroup layer's parsers (sandbox/include/sandbox/cgroup.h) over arbitrary text: every
 * parser sees every input, and what they return must hold their promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
        do {                                                                                       \
                if (!(c))                                                                          \
                        abort();                                                                   \
        } while (0)

static const char *const controllers[] = {"memory", "cpu", "cpuacct", "pids", "freezer",
                                          "name=systemd"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 1 << 16)
                return 0;
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        char *path = NULL;
        if (cg_parse_proc_cgroup(text, NULL, &path) == 0) {
                REQUIRE(cg_path_is_valid(path));
                free(path);
        }
        for (size_t i = 0; i < sizeof(controllers) / sizeof(controllers[0]); i++) {
                path = NULL;
                if (cg_parse_proc_cgroup(text, controllers[i], &path) == 0) {
                        REQUIRE(cg_path_is_valid(path));
                        free(path);
                }
                static const char *const cgpaths[] = {"/", "/a/b", "/docker/abc/x"};
                for (size_t k = 0; k < sizeof(cgpaths) / sizeof(cgpaths[0]); k++) {
                        struct cg_mount m = {};
                        if (cg_parse_mountinfo(text, controllers[i], cgpaths[k], &m) == 0) {
                                const char *rel = NULL;
                                REQUIRE(m.mount_point[0] == '/');
                                REQUIRE(cg_path_is_valid(m.root));
                                REQUIRE(cg_strip_root(cgpaths[k], m.root, &rel) == 0);
                                REQUIRE(rel[0] != '/');
                        }
                        cg_mount_done(&m);
                }
        }

        static const char *const keys[] = {"user_usec", "oom_kill", "populated", "max", "a"};
        uint64_t v;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                (void)cg_parse_keyed(text, keys[i], &v);
        (void)cg_parse_value(text, &v);
        unsigned mask = 0;
        if (cg_parse_controllers(text, &mask) == 0)
                REQUIRE((mask & ~(unsigned)(CG_CTRL_CPU | CG_CTRL_CPUACCT | CG_CTRL_MEMORY |
                                            CG_CTRL_PIDS | CG_CTRL_FREEZER)) == 0);
        pid_t *pids = NULL;
        size_t n = 0;
        if (cg_parse_procs(text, &pids, &n) == 0)
                for (size_t i = 0; i < n; i++)
                        REQUIRE(pids[i] > 0);
        free(pids);
        (void)cg_path_is_valid(text);
        free(text);
        return 0;
}
