#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/fdutil.h"
#include "common/parse.h"
#include "common/strutil.h"
#include "build-config.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

enum key_type {
        KEY_STRING,
        KEY_LIST,
        KEY_BOOL,
        KEY_SIZE,    /* a size: integer with K/M/G (powers of 1024) */
        KEY_INT,     /* integer, bounded by max; K/M/G allowed too (SPEC section 6) */
        KEY_MILLI,   /* decimal, stored in thousandths */
        KEY_MODE,
        KEY_LOG_DEST,
        KEY_FACILITY,
        KEY_LEAF_MOVE,
        KEY_NAMESPACES,
        KEY_LINGER,
};

struct key {
        const char *section;
        const char *name;
        enum key_type type;
        size_t offset;
        uint64_t max; /* for KEY_INT, 0 = unbounded */
};

#define K(sec, nm, ty, field) {sec, #nm, ty, offsetof(struct config, field), 0}
#define KMAX(sec, nm, ty, field, mx) {sec, #nm, ty, offsetof(struct config, field), mx}

static const struct key keys[] = {
        K("glexec", mode, KEY_MODE, mode),
        K("glexec", user_white_list, KEY_LIST, user_white_list),
        K("glexec", group_white_list, KEY_LIST, group_white_list),
        K("glexec", isolation_account, KEY_STRING, isolation_account),
        K("glexec", omission_private_key_white_list, KEY_LIST, omission_private_key_white_list),
        K("glexec", preserve_env_variables, KEY_LIST, preserve_env_variables),
        K("glexec", path, KEY_STRING, path),
        KMAX("glexec", log_level, KEY_INT, log_level, 5),
        K("glexec", log_destination, KEY_LOG_DEST, log_destination),
        K("glexec", log_file, KEY_STRING, log_file),
        K("glexec", syslog_facility, KEY_FACILITY, syslog_facility),
        {"glexec", "linger", KEY_LINGER, 0, 0},

        K("credentials", certdir, KEY_STRING, certdir),
        K("credentials", vomsdir, KEY_STRING, vomsdir),
        K("credentials", min_proxy_lifetime, KEY_INT, min_proxy_lifetime),
        K("credentials", allow_limited_proxy, KEY_BOOL, allow_limited_proxy),
        K("credentials", allow_legacy_proxy, KEY_BOOL, allow_legacy_proxy),
        K("credentials", check_crls, KEY_BOOL, check_crls),
        K("credentials", token_issuers, KEY_STRING, token_issuers),
        K("credentials", token_audience, KEY_LIST, token_audience),
        K("credentials", token_accept_any_audience, KEY_BOOL, token_accept_any_audience),
        K("credentials", token_required_scopes, KEY_LIST, token_required_scopes),
        KMAX("credentials", token_clock_skew, KEY_INT, token_clock_skew, 86400),

        K("mapping", gridmapfile, KEY_STRING, gridmapfile),
        K("mapping", voms_gridmapfile, KEY_STRING, voms_gridmapfile),
        K("mapping", groupmapfile, KEY_STRING, groupmapfile),
        K("mapping", gridmapdir, KEY_STRING, gridmapdir),
        K("mapping", token_mapfile, KEY_STRING, token_mapfile),
        K("mapping", ban_file, KEY_STRING, ban_file),
        K("mapping", allowed_executables, KEY_LIST, allowed_executables),
        KMAX("mapping", min_uid, KEY_INT, min_uid, 0xfffffffeULL),

        K("sandbox", sandbox_base, KEY_STRING, sandbox_base),
        K("sandbox", namespaces, KEY_NAMESPACES, namespaces),
        K("sandbox", private_tmp, KEY_BOOL, private_tmp),
        K("sandbox", tmp_size, KEY_SIZE, tmp_size),
        K("sandbox", hide_paths, KEY_LIST, hide_paths),
        K("sandbox", keep_sandbox, KEY_BOOL, keep_sandbox),
        K("sandbox", seccomp_profile, KEY_STRING, seccomp_profile),

        K("limits", cgroup_parent, KEY_STRING, cgroup_parent),
        K("limits", cgroup_leaf_move, KEY_LEAF_MOVE, cgroup_leaf_move),
        K("limits", require_cgroup, KEY_BOOL, require_cgroup),
        K("limits", memory_max, KEY_SIZE, memory_max),
        K("limits", cpu_max, KEY_MILLI, cpu_max_milli),
        KMAX("limits", pids_max, KEY_INT, pids_max, 4194304), /* the kernel's PID_MAX_LIMIT */
        K("limits", walltime_max, KEY_INT, walltime_max),

        K("audit", audit_log, KEY_STRING, audit_log),
        K("audit", require_audit, KEY_BOOL, require_audit),
};

static const struct {
        const char *name;
        int value;
} facilities[] = {
        {"LOG_AUTHPRIV", LOG_AUTHPRIV}, {"LOG_AUTH", LOG_AUTH},     {"LOG_DAEMON", LOG_DAEMON},
        {"LOG_USER", LOG_USER},         {"LOG_LOCAL0", LOG_LOCAL0}, {"LOG_LOCAL1", LOG_LOCAL1},
        {"LOG_LOCAL2", LOG_LOCAL2},     {"LOG_LOCAL3", LOG_LOCAL3}, {"LOG_LOCAL4", LOG_LOCAL4},
        {"LOG_LOCAL5", LOG_LOCAL5},     {"LOG_LOCAL6", LOG_LOCAL6}, {"LOG_LOCAL7", LOG_LOCAL7},
};

static const char *const mode_names[] = {
        [GX_MODE_MAPPING] = "mapping",
        [GX_MODE_SITE_ISOLATION] = "site-isolation",
        [GX_MODE_DECLARE_ONLY] = "declare-only",
};

static const char *const leaf_move_names[] = {
        [GX_LEAF_MOVE_DELEGATED] = "delegated",
        [GX_LEAF_MOVE_ALWAYS] = "always",
        [GX_LEAF_MOVE_NEVER] = "never",
};

static const struct {
        const char *name;
        unsigned flag;
} namespace_names[] = {
        {"user", GX_NS_USER}, {"mount", GX_NS_MOUNT}, {"pid", GX_NS_PID},
        {"ipc", GX_NS_IPC},   {"uts", GX_NS_UTS},     {"net", GX_NS_NET},
};

#define ALWAYS_NAMESPACES (GX_NS_USER | GX_NS_MOUNT | GX_NS_PID)

const char *config_mode_name(enum gx_mode mode)
{
        return mode_names[mode];
}

static int set_string(char **field, const char *value)
{
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int set_list(char ***field, const char *value)
{
        char **v = gx_strv_split(value, ',');
        if (!v)
                return -ENOMEM;
        gx_strv_free(*field);
        *field = v;
        return 0;
}

int config_init_defaults(struct config *cfg)
{
        *cfg = (struct config){
                .mode = GX_MODE_MAPPING,
                .log_level = 3,
                .log_destination = GX_LOG_SYSLOG,
                .syslog_facility = LOG_AUTHPRIV,
                .min_proxy_lifetime = 300,
                .check_crls = true,
                .token_accept_any_audience = true,
                .token_clock_skew = 60,
                .min_uid = 1000,
                .namespaces = ALWAYS_NAMESPACES,
                .private_tmp = true,
                .tmp_size = 1ULL << 30,
                .cgroup_leaf_move = GX_LEAF_MOVE_DELEGATED,
                .require_cgroup = true,
                .memory_max = 4ULL << 30,
                .cpu_max_milli = 1000,
                .pids_max = 4096,
                .require_audit = true,
        };
        static const struct {
                size_t offset;
                const char *value;
        } strings[] = {
                {offsetof(struct config, isolation_account), "glexec-nobody"},
                {offsetof(struct config, path), "/usr/local/bin:/usr/bin:/bin"},
                {offsetof(struct config, log_file), GLEXEC_LOCALSTATEDIR "/log/glexec/glexec.log"},
                {offsetof(struct config, certdir), "/etc/grid-security/certificates"},
                {offsetof(struct config, vomsdir), "/etc/grid-security/vomsdir"},
                {offsetof(struct config, gridmapfile), "/etc/grid-security/grid-mapfile"},
                {offsetof(struct config, voms_gridmapfile), "/etc/grid-security/voms-grid-mapfile"},
                {offsetof(struct config, groupmapfile), "/etc/grid-security/groupmapfile"},
                {offsetof(struct config, gridmapdir), "/etc/grid-security/gridmapdir"},
                {offsetof(struct config, token_issuers), "/etc/glexec/token-issuers.conf"},
                {offsetof(struct config, token_mapfile), "/etc/grid-security/token-mapfile"},
                {offsetof(struct config, sandbox_base), GLEXEC_LOCALSTATEDIR "/lib/glexec/sandbox"},
                {offsetof(struct config, seccomp_profile), GLEXEC_DATADIR "/seccomp/default.json"},
                {offsetof(struct config, cgroup_parent), "auto"},
                {offsetof(struct config, audit_log), GLEXEC_LOCALSTATEDIR "/log/glexec/audit.jsonl"},
        };
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (set_string((char **)((char *)cfg + strings[i].offset), strings[i].value) < 0)
                        return -ENOMEM;
        cfg->token_required_scopes = gx_strv_split("compute.create", ',');
        cfg->user_white_list = gx_strv_split("", ',');
        cfg->group_white_list = gx_strv_split("", ',');
        cfg->omission_private_key_white_list = gx_strv_split("", ',');
        cfg->preserve_env_variables = gx_strv_split("", ',');
        cfg->token_audience = gx_strv_split("", ',');
        cfg->allowed_executables = gx_strv_split("", ',');
        /* hide_paths stays NULL until parsed: its default is the gridmapdir as configured. */
        if (!cfg->token_required_scopes || !cfg->user_white_list || !cfg->group_white_list ||
            !cfg->omission_private_key_white_list || !cfg->preserve_env_variables ||
            !cfg->token_audience || !cfg->allowed_executables)
                return -ENOMEM;
        return 0;
}

void config_free(struct config *cfg)
{
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                void *field = (char *)cfg + keys[i].offset;
                if (keys[i].type == KEY_STRING)
                        free(*(char **)field);
                else if (keys[i].type == KEY_LIST)
                        gx_strv_free(*(char ***)field);
        }
        *cfg = (struct config){0};
}

static int lookup_name(const char *const *names, size_t n, const char *value)
{
        for (size_t i = 0; i < n; i++)
                if (names[i] && strcmp(names[i], value) == 0)
                        return (int)i;
        return -1;
}

static int parse_namespaces(const char *value, unsigned *ret)
{
        _cleanup_strv_free_ char **list = gx_strv_split(value, ',');
        if (!list)
                return -ENOMEM;
        unsigned flags = 0;
        for (size_t i = 0; list[i]; i++) {
                size_t j;
                for (j = 0; j < ELEMENTSOF(namespace_names); j++)
                        if (strcmp(list[i], namespace_names[j].name) == 0)
                                break;
                if (j == ELEMENTSOF(namespace_names))
                        return -EINVAL;
                flags |= namespace_names[j].flag;
        }
        /* user, mount and pid are the minimum every payload gets. */
        if ((flags & ALWAYS_NAMESPACES) != ALWAYS_NAMESPACES)
                return -EINVAL;
        *ret = flags;
        return 0;
}

static int apply_key(struct config *cfg, const struct key *k, const char *value)
{
        void *field = (char *)cfg + k->offset;
        uint64_t u;
        int r, idx;

        switch (k->type) {
        case KEY_STRING:
                return set_string(field, value);
        case KEY_LIST:
                return set_list(field, value);
        case KEY_BOOL:
                return gx_parse_bool(value, field);
        case KEY_SIZE:
                r = gx_parse_size(value, &u);
                if (r == 0)
                        *(uint64_t *)field = u;
                return r;
        case KEY_MILLI:
                r = gx_parse_milli(value, &u);
                if (r == 0)
                        *(uint64_t *)field = u;
                return r;
        case KEY_INT:
                r = gx_parse_size(value, &u);
                if (r < 0)
                        return r;
                if (k->max && u > k->max)
                        return -ERANGE;
                if (k->offset == offsetof(struct config, log_level))
                        *(int *)field = (int)u;
                else
                        *(uint64_t *)field = u;
                return 0;
        case KEY_MODE:
                idx = lookup_name(mode_names, ELEMENTSOF(mode_names), value);
                if (idx < 0)
                        return -EINVAL;
                cfg->mode = (enum gx_mode)idx;
                return 0;
        case KEY_LOG_DEST:
                if (strcmp(value, "syslog") == 0)
                        cfg->log_destination = GX_LOG_SYSLOG;
                else if (strcmp(value, "file") == 0)
                        cfg->log_destination = GX_LOG_FILE;
                else
                        return -EINVAL;
                return 0;
        case KEY_FACILITY:
                for (size_t i = 0; i < ELEMENTSOF(facilities); i++)
                        if (strcmp(facilities[i].name, value) == 0) {
                                cfg->syslog_facility = facilities[i].value;
                                return 0;
                        }
                return -EINVAL;
        case KEY_LEAF_MOVE:
                idx = lookup_name(leaf_move_names, ELEMENTSOF(leaf_move_names), value);
                if (idx < 0)
                        return -EINVAL;
                cfg->cgroup_leaf_move = (enum gx_leaf_move)idx;
                return 0;
        case KEY_NAMESPACES:
                return parse_namespaces(value, &cfg->namespaces);
        case KEY_LINGER: {
                /* Accepted for gLExec compatibility; the supervisor always stays, because
                 * containment and cleanup need it. */
                bool linger;
                r = gx_parse_bool(value, &linger);
                if (r < 0)
                        return r;
                return linger ? 0 : -ENOTSUP;
        }
        }
        return -EINVAL;
}

struct parse_state {
        struct config *cfg;
        struct gx_error *err;
        bool failed;
};

static int config_ini_handler(void *user, const char *section, const char *name, const char *value)
{
        struct parse_state *st = user;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
                        continue;
                int r = apply_key(st->cfg, &keys[i], value);
                if (r == -ENOMEM) {
                        gx_fail(st->err, GX_SYSTEM, ENOMEM, "out of memory");
                } else if (r == -ENOTSUP) {
                        gx_fail(st->err, GX_SYSTEM, 0,
                                "[%s] %s = no is not supported: glexec always stays to "
                                "supervise the payload",
                                section, name);
                } else if (r < 0) {
                        char esc[128];
                        gx_escape(esc, sizeof(esc), value);
                        gx_fail(st->err, GX_SYSTEM, 0, "bad value \"%s\" for [%s] %s", esc,
                                section, name);
                }
                if (r < 0)
                        st->failed = true;
                return r < 0 ? 0 : 1;
        }
        char esc_s[64], esc_n[64];
        gx_escape(esc_s, sizeof(esc_s), section);
        gx_escape(esc_n, sizeof(esc_n), name);
        gx_fail(st->err, GX_SYSTEM, 0, "unknown key [%s] %s", esc_s, esc_n);
        st->failed = true;
        return 0;
}

static void configure_inih(void)
{
        /* Debian's inih exposes its compile-time options as variables: stop at the first
         * error so its line number is the one reported, allow "key = value # comment" as in
         * SPEC section 6, no continuation lines, and lines longer than 200 bytes. */
        ini_stop_on_first_error = true;
        ini_allow_multiline = false;
        ini_inline_comment_prefixes = (char *)";#";
        ini_use_stack = false;
        ini_allow_realloc = true;
        ini_initial_alloc = 256;
        ini_max_line = 8192;
}

/* Component-wise: /tmpfoo is not below /tmp (Apptainer CVE-2026-48785 compared by prefix). */
static bool path_is_below(const char *path, const char *dir)
{
        size_t len = strlen(dir);
        return path && strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

static int validate(const struct config *cfg, const char *name, struct gx_error *err)
{
        const struct {
                const char *key;
                const char *value;
        } paths[] = {
                {"certdir", cfg->certdir},         {"vomsdir", cfg->vomsdir},
                {"sandbox_base", cfg->sandbox_base}, {"seccomp_profile", cfg->seccomp_profile},
                {"audit_log", cfg->audit_log},     {"log_file", cfg->log_file},
        };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                if (paths[i].value && paths[i].value[0] && paths[i].value[0] != '/')
                        return gx_fail(err, GX_SYSTEM, 0, "%s: %s must be an absolute path",
                                       name, paths[i].key);
        if (cfg->mode == GX_MODE_SITE_ISOLATION &&
            (!cfg->isolation_account || !cfg->isolation_account[0]))
                return gx_fail(err, GX_SYSTEM, 0,
                               "%s: mode = site-isolation needs isolation_account", name);
        /* The private /tmp would cover the sandbox before the payload could enter it. */
        if (cfg->private_tmp && (path_is_below(cfg->sandbox_base, "/tmp") ||
                                 path_is_below(cfg->sandbox_base, "/var/tmp")))
                return gx_fail(err, GX_SYSTEM, 0,
                               "%s: sandbox_base must not be below /tmp or /var/tmp when "
                               "private_tmp = yes",
                               name);
        /* A payload cannot start below these (glexec's init is one of the processes). */
        if (cfg->memory_max && cfg->memory_max < GX_MEMORY_MIN)
                return gx_fail(err, GX_SYSTEM, 0, "%s: memory_max must be 0 (none) or at least 1M",
                               name);
        if (cfg->pids_max && cfg->pids_max < GX_PIDS_MIN)
                return gx_fail(err, GX_SYSTEM, 0, "%s: pids_max must be 0 (none) or at least 2",
                               name);
        if (cfg->require_audit && (!cfg->audit_log || !cfg->audit_log[0]))
                return gx_fail(err, GX_SYSTEM, 0, "%s: require_audit = yes needs audit_log",
                               name);
        if (cfg->cgroup_parent && strcmp(cfg->cgroup_parent, "auto") != 0 &&
            cfg->cgroup_parent[0] != '/')
                return gx_fail(err, GX_SYSTEM, 0,
                               "%s: cgroup_parent must be \"auto\" or an absolute path", name);
        return 0;
}

int config_parse_string(struct config *cfg, const char *text, const char *name,
                        struct gx_error *err)
{
        struct parse_state st = {.cfg = cfg, .err = err};
        configure_inih();
        int line = ini_parse_string(text, config_ini_handler, &st);
        if (line < 0)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "%s", name);
        if (line > 0) {
                char reason[sizeof(err->msg)];
                snprintf(reason, sizeof(reason), "%s", st.failed ? err->msg : "syntax error");
                gx_fail(err, GX_SYSTEM, 0, "%s:%d: %s", name, line, reason);
                return -EINVAL;
        }
        if (!cfg->hide_paths) {
                /* The leases say who ran as which pool account: no payload's business. */
                cfg->hide_paths = calloc(2, sizeof(char *));
                if (!cfg->hide_paths || (cfg->gridmapdir && cfg->gridmapdir[0] &&
                                         !(cfg->hide_paths[0] = strdup(cfg->gridmapdir))))
                        return gx_fail(err, GX_SYSTEM, ENOMEM, "%s", name);
        }
        return validate(cfg, name, err);
}

int config_load(struct config *cfg, const char *path, struct gx_error *err)
{
        _cleanup_close_ int fd = gx_open_trusted(path, O_RDONLY, err);
        if (fd < 0) {
                if (err->errnum == ENOENT)
                        snprintf(err->msg, sizeof(err->msg), "configuration file %s is missing",
                                 path);
                return fd;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "%s", path);
        if (!S_ISREG(st.st_mode))
                return gx_fail(err, GX_SYSTEM, 0, "%s is not a regular file", path);
        _cleanup_free_ char *text = NULL;
        int r = gx_read_all(fd, CONFIG_MAX_BYTES, &text, NULL);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading %s", path);
        if (strlen(text) != (size_t)st.st_size && memchr(text, '\0', (size_t)st.st_size))
                return gx_fail(err, GX_SYSTEM, 0, "%s contains a NUL byte", path);
        return config_parse_string(cfg, text, path, err);
}

static void dump_list(FILE *out, const char *name, char *const *v)
{
        fprintf(out, "%s = ", name);
        for (size_t i = 0; v && v[i]; i++)
                fprintf(out, "%s%s", i ? "," : "", v[i]);
        fputc('\n', out);
}

void config_dump(const struct config *cfg, FILE *out)
{
        const char *section = "";
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const struct key *k = &keys[i];
                const void *field = (const char *)cfg + k->offset;
                if (strcmp(section, k->section) != 0) {
                        fprintf(out, "%s[%s]\n", section[0] ? "\n" : "", k->section);
                        section = k->section;
                }
                switch (k->type) {
                case KEY_STRING:
                        fprintf(out, "%s = %s\n", k->name,
                                *(char *const *)field ? *(char *const *)field : "");
                        break;
                case KEY_LIST:
                        dump_list(out, k->name, *(char **const *)field);
                        break;
                case KEY_BOOL:
                        fprintf(out, "%s = %s\n", k->name, *(const bool *)field ? "yes" : "no");
                        break;
                case KEY_SIZE:
                        fprintf(out, "%s = %llu\n", k->name,
                                (unsigned long long)*(const uint64_t *)field);
                        break;
                case KEY_INT:
                        if (k->offset == offsetof(struct config, log_level))
                                fprintf(out, "%s = %d\n", k->name, cfg->log_level);
                        else
                                fprintf(out, "%s = %llu\n", k->name,
                                        (unsigned long long)*(const uint64_t *)field);
                        break;
                case KEY_MILLI:
                        fprintf(out, "%s = %llu.%03llu\n", k->name,
                                (unsigned long long)(cfg->cpu_max_milli / 1000),
                                (unsigned long long)(cfg->cpu_max_milli % 1000));
                        break;
                case KEY_MODE:
                        fprintf(out, "%s = %s\n", k->name, mode_names[cfg->mode]);
                        break;
                case KEY_LOG_DEST:
                        fprintf(out, "%s = %s\n", k->name,
                                cfg->log_destination == GX_LOG_FILE ? "file" : "syslog");
                        break;
                case KEY_FACILITY:
                        for (size_t j = 0; j < ELEMENTSOF(facilities); j++)
                                if (facilities[j].value == cfg->syslog_facility)
                                        fprintf(out, "%s = %s\n", k->name, facilities[j].name);
                        break;
                case KEY_LEAF_MOVE:
                        fprintf(out, "%s = %s\n", k->name, leaf_move_names[cfg->cgroup_leaf_move]);
                        break;
                case KEY_NAMESPACES:
                        fprintf(out, "%s = ", k->name);
                        for (size_t j = 0, n = 0; j < ELEMENTSOF(namespace_names); j++)
                                if (cfg->namespaces & namespace_names[j].flag)
                                        fprintf(out, "%s%s", n++ ? "," : "", namespace_names[j].name);
                        fputc('\n', out);
                        break;
                case KEY_LINGER:
                        fprintf(out, "%s = yes\n", k->name);
                        break;
                }
        }
}
