#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/strutil.h"

#define JSON_MAX_DEPTH 8
#define MAX_RULES 4096
#define MAX_NAMES 1024 /* per rule */
#define MAX_ARGS 64    /* per rule: alternatives on one index can be many */
#define MAX_LIST 64    /* architectures, archMap, caps, arches, flags */
#define MAX_NAME_LEN 64
#define MAX_ERRNO 4095
#define MAX_ARG_INDEX 5
#define X32_SYSCALL_BIT 0x40000000u
#define PROLOGUE_MAX 8 /* instructions put_prologue() writes at most */
/* Syscall numbers of every supported architecture are below this. */
#define SYSCALL_SCAN_LIMIT 1024

/* The architectures glexec runs on: dense syscall numbers below SYSCALL_SCAN_LIMIT, and the
 * name Docker profiles use for them in "arches". */
static const struct {
        uint32_t arch;
        const char *name;
} native_arches[] = {
        {SCMP_ARCH_X86_64, "amd64"},   {SCMP_ARCH_AARCH64, "arm64"}, {SCMP_ARCH_PPC64LE, "ppc64le"},
        {SCMP_ARCH_PPC64, "ppc64"},    {SCMP_ARCH_S390X, "s390x"},   {SCMP_ARCH_RISCV64, "riscv64"},
};

/* Names accepted in "architectures" and "archMap"; they are validated, not compiled. */
static const char *const profile_arches[] = {
        "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",
        "SCMP_ARCH_ARM",     "SCMP_ARCH_AARCH64",   "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_MIPS",    "SCMP_ARCH_MIPS64",    "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC",     "SCMP_ARCH_PPC64",     "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390",    "SCMP_ARCH_S390X",     "SCMP_ARCH_RISCV64",
        "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64",  "SCMP_ARCH_M68K",
        "SCMP_ARCH_SH",      "SCMP_ARCH_SHEB",
};

static const struct {
        const char *name;
        uint32_t action; /* for ERRNO and TRACE, the base to which errnoRet is added */
} actions[] = {
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG},
        {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
        {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
        {"SCMP_ACT_KILL", SCMP_ACT_KILL_PROCESS},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
};

static const struct {
        const char *name;
        enum scmp_compare op;
} operators[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* TSYNC is accepted and dropped: the payload loads its filter while single-threaded. */
static const struct {
        const char *name;
        unsigned int flag;
} filter_flags[] = {
        {"SECCOMP_FILTER_FLAG_TSYNC", 0},
        {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
        {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

struct sc_host {
        uint32_t arch;
        const char *arch_name;
        unsigned int kernel[2];
        int max_syscall; /* the highest syscall number libseccomp can name here */
};

struct sc_rule {
        size_t index; /* in "syscalls", for messages */
        uint32_t action;
        int *syscalls;
        size_t n_syscalls;
        struct scmp_arg_cmp *args;
        size_t n_args;
        bool alternatives; /* an index repeats: each argument is a rule of its own */
};

struct sc_profile {
        uint32_t default_action;
        unsigned int flags;
        struct sc_rule *rules;
        size_t n_rules;
};

/* What "includes" or "excludes" says about this host. */
struct sc_condition {
        bool has_caps;
        bool has_arches;
        bool arch_listed;
        bool has_min_kernel;
        bool kernel_at_least;
};

static void rule_clear(struct sc_rule *rule)
{
        free(rule->syscalls);
        free(rule->args);
        *rule = (struct sc_rule){0};
}

static void profile_free(struct sc_profile *p)
{
        for (size_t i = 0; i < p->n_rules; i++)
                rule_clear(&p->rules[i]);
        free(p->rules);
}

static bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

/* "seccomp profile: syscalls[3].action: <msg>" */
_printf_(4, 5) static int fail_at(struct gx_error *err, const char *where, const char *field,
                                  const char *fmt, ...)
{
        char msg[320], loc[128];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(loc, sizeof(loc), "%s%s%s", where, *where && field ? "." : "", field ? field : "");
        return gx_fail(err, GX_SYSTEM, 0, "seccomp profile: %s%s%s", loc, *loc ? ": " : "", msg);
}

static int fail_value(struct gx_error *err, const char *where, const char *field,
                      const char *what, const char *value)
{
        char esc[96];
        gx_escape(esc, sizeof(esc), value);
        return fail_at(err, where, field, "%s \"%s\"", what, esc);
}

/* json-c saturates integers beyond 64 bits without an error and accepts single-quoted
 * strings even in strict mode; a profile is policy, so both are refused rather than guessed. */
static int prescan(const char *s, size_t len, struct gx_error *err)
{
        static const char u64_max[] = "18446744073709551615";
        bool in_string = false, escaped = false;
        size_t digits = 0;

        for (size_t i = 0; i <= len; i++) {
                char c = i < len ? s[i] : ' ';
                if (c == '\0')
                        return fail_at(err, "", NULL, "NUL byte at offset %zu", i);
                if (in_string) {
                        if (escaped)
                                escaped = false;
                        else if (c == '\\')
                                escaped = true;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c >= '0' && c <= '9') {
                        digits++;
                        continue;
                }
                if (digits > sizeof(u64_max) - 1 ||
                    (digits == sizeof(u64_max) - 1 &&
                     memcmp(s + i - digits, u64_max, digits) > 0))
                        return fail_at(err, "", NULL, "number at offset %zu is out of range",
                                       i - digits);
                digits = 0;
                if (c == '"')
                        in_string = true;
                else if (c == '\'')
                        return fail_at(err, "", NULL, "single quote at offset %zu", i);
        }
        return 0;
}

static int parse_json(const char *text, size_t len, json_object **ret, struct gx_error *err)
{
        if (len > SC_PROFILE_MAX_BYTES)
                return fail_at(err, "", NULL, "larger than %d bytes", SC_PROFILE_MAX_BYTES);
        int r = prescan(text, len, err);
        if (r < 0)
                return r;

        struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
        if (!tok)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "seccomp profile");
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        json_object *root = json_tokener_parse_ex(tok, text, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);

        if (!root && jerr == json_tokener_continue)
                return fail_at(err, "", NULL, "truncated JSON");
        if (jerr != json_tokener_success)
                return fail_at(err, "", NULL, "invalid JSON at offset %zu: %s", end,
                               json_tokener_error_desc(jerr));
        for (; end < len; end++)
                if (!strchr(" \t\r\n", text[end])) {
                        json_object_put(root);
                        return fail_at(err, "", NULL, "data after the JSON object");
                }
        if (!json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return fail_at(err, "", NULL, "not a JSON object");
        }
        *ret = root;
        return 0;
}

/* A field's value; NULL when absent or JSON null (Go writes empty lists as null). */
static json_object *field(json_object *obj, const char *key)
{
        json_object *v = NULL;
        json_object_object_get_ex(obj, key, &v);
        return v;
}

static int check_object(json_object *obj, const char *where, const char *field_name,
                        const char *const *known, struct gx_error *err)
{
        if (!json_object_is_type(obj, json_type_object))
                return fail_at(err, where, field_name, "must be an object");
        json_object_object_foreach(obj, key, val) {
                (void)val;
                bool ok = false;
                for (const char *const *k = known; *k && !ok; k++)
                        ok = streq(key, *k);
                if (!ok)
                        return fail_value(err, where, field_name, "unknown field", key);
        }
        return 0;
}

static int get_string(json_object *v, const char *where, const char *field_name, size_t max,
                      const char **ret, struct gx_error *err)
{
        if (!json_object_is_type(v, json_type_string))
                return fail_at(err, where, field_name, "must be a string");
        const char *s = json_object_get_string(v);
        size_t len = (size_t)json_object_get_string_len(v);
        if (strlen(s) != len)
                return fail_at(err, where, field_name, "contains a NUL character");
        if (len == 0 || len > max)
                return fail_at(err, where, field_name, "must be 1 to %zu characters long", max);
        *ret = s;
        return 0;
}

static int get_uint(json_object *v, const char *where, const char *field_name, uint64_t max,
                    uint64_t *ret, struct gx_error *err)
{
        if (!json_object_is_type(v, json_type_int))
                return fail_at(err, where, field_name, "must be an integer");
        if (json_object_get_int64(v) < 0)
                return fail_at(err, where, field_name, "must not be negative");
        uint64_t u = json_object_get_uint64(v);
        if (u > max)
                return fail_at(err, where, field_name, "must be at most %" PRIu64, max);
        *ret = u;
        return 0;
}

static int get_array(json_object *v, const char *where, const char *field_name, size_t max,
                     size_t *ret_n, struct gx_error *err)
{
        if (!json_object_is_type(v, json_type_array))
                return fail_at(err, where, field_name, "must be an array");
        size_t n = json_object_array_length(v);
        if (n > max)
                return fail_at(err, where, field_name, "more than %zu entries", max);
        *ret_n = n;
        return 0;
}

/* Strings of an optional array, each checked by valid(); the callback sees every entry. */
static int for_each_string(json_object *arr, const char *where, const char *field_name,
                           bool (*valid)(const char *), void (*visit)(const char *, void *),
                           void *userdata, struct gx_error *err)
{
        size_t n = 0;
        if (!arr)
                return 0;
        int r = get_array(arr, where, field_name, MAX_LIST, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const char *s;
                char entry[64];
                snprintf(entry, sizeof(entry), "%s[%zu]", field_name, i);
                r = get_string(json_object_array_get_idx(arr, i), where, entry, MAX_NAME_LEN, &s,
                               err);
                if (r < 0)
                        return r;
                if (!valid(s))
                        return fail_value(err, where, entry, "invalid value", s);
                if (visit)
                        visit(s, userdata);
        }
        return 0;
}

static bool valid_profile_arch(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(profile_arches); i++)
                if (streq(s, profile_arches[i]))
                        return true;
        return false;
}

static bool all_chars_in(const char *s, const char *set)
{
        return strspn(s, set) == strlen(s);
}

static bool valid_docker_arch(const char *s)
{
        return all_chars_in(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
}

static bool valid_cap(const char *s)
{
        return gx_startswith(s, "CAP_") && s[4] &&
               all_chars_in(s + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
}

static bool valid_flag(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(filter_flags); i++)
                if (streq(s, filter_flags[i].name))
                        return true;
        return false;
}

static bool valid_syscall_name(const char *s)
{
        return all_chars_in(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
}

static int parse_arch_map_entry(json_object *entry, size_t i, struct gx_error *err)
{
        static const char *const map_fields[] = {"architecture", "subArchitectures", NULL};
        char where[32];
        const char *s;

        snprintf(where, sizeof(where), "archMap[%zu]", i);
        int r = check_object(entry, where, NULL, map_fields, err);
        if (r < 0)
                return r;
        json_object *arch = field(entry, "architecture");
        if (!arch)
                return fail_at(err, where, "architecture", "missing");
        r = get_string(arch, where, "architecture", MAX_NAME_LEN, &s, err);
        if (r < 0)
                return r;
        if (!valid_profile_arch(s))
                return fail_value(err, where, "architecture", "unknown architecture", s);
        return for_each_string(field(entry, "subArchitectures"), where, "subArchitectures",
                               valid_profile_arch, NULL, NULL, err);
}

static int parse_arches(json_object *root, struct gx_error *err)
{
        json_object *list = field(root, "architectures"), *map = field(root, "archMap");
        size_t n = 0;

        if (list && map)
                return fail_at(err, "", NULL, "use either \"architectures\" or \"archMap\"");
        int r = for_each_string(list, "", "architectures", valid_profile_arch, NULL, NULL, err);
        if (r < 0 || !map)
                return r;
        r = get_array(map, "", "archMap", MAX_LIST, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = parse_arch_map_entry(json_object_array_get_idx(map, i), i, err);
        return r;
}

static void or_flag(const char *s, void *userdata)
{
        for (size_t i = 0; i < ELEMENTSOF(filter_flags); i++)
                if (streq(s, filter_flags[i].name))
                        *(unsigned int *)userdata |= filter_flags[i].flag;
}

/* action plus its errnoRet into one libseccomp action value. */
static int parse_action(json_object *action, json_object *errno_ret, const char *where,
                        const char *action_field, const char *errno_field, uint32_t *ret,
                        struct gx_error *err)
{
        const char *name;
        uint64_t data = EPERM;

        if (!action)
                return fail_at(err, where, action_field, "missing");
        int r = get_string(action, where, action_field, MAX_NAME_LEN, &name, err);
        if (r < 0)
                return r;
        if (streq(name, "SCMP_ACT_NOTIFY"))
                return fail_at(err, where, action_field,
                               "SCMP_ACT_NOTIFY is not supported: glexec runs no seccomp agent");
        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                if (!streq(name, actions[i].name))
                        continue;
                bool takes_data = actions[i].action == SCMP_ACT_ERRNO(0) ||
                                  actions[i].action == SCMP_ACT_TRACE(0);
                if (errno_ret && !takes_data)
                        return fail_at(err, where, errno_field,
                                       "only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
                if (errno_ret) {
                        r = get_uint(errno_ret, where, errno_field, MAX_ERRNO, &data, err);
                        if (r < 0)
                                return r;
                }
                *ret = takes_data ? actions[i].action | (uint32_t)data : actions[i].action;
                return 0;
        }
        return fail_value(err, where, action_field, "unknown action", name);
}

static void action_string(uint32_t action, char *buf, size_t n)
{
        const char *name = "?";
        uint32_t base = action & SECCOMP_RET_ACTION_FULL;
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if ((actions[i].action & SECCOMP_RET_ACTION_FULL) == base) {
                        name = actions[i].name;
                        break;
                }
        if (base == SCMP_ACT_ERRNO(0) || base == SCMP_ACT_TRACE(0))
                snprintf(buf, n, "%s(%u)", name, action & SECCOMP_RET_DATA);
        else
                snprintf(buf, n, "%s", name);
}

static int parse_args(json_object *list, const char *where, struct sc_rule *rule,
                      struct gx_error *err)
{
        static const char *const arg_fields[] = {"index", "value", "valueTwo", "op", NULL};
        unsigned int per_index[MAX_ARG_INDEX + 1] = {0};
        size_t n = 0;

        if (!list)
                return 0;
        int r = get_array(list, where, "args", MAX_ARGS, &n, err);
        if (r < 0 || n == 0)
                return r;
        rule->args = calloc(n, sizeof(*rule->args));
        if (!rule->args)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "seccomp profile");

        for (size_t i = 0; i < n; i++) {
                json_object *arg = json_object_array_get_idx(list, i), *index, *value, *op, *two;
                struct scmp_arg_cmp *cmp = &rule->args[i];
                uint64_t idx, a, b = 0;
                const char *op_name;
                char at[48];

                snprintf(at, sizeof(at), "%s.args[%zu]", where, i);
                r = check_object(arg, at, NULL, arg_fields, err);
                if (r < 0)
                        return r;
                index = field(arg, "index");
                value = field(arg, "value");
                op = field(arg, "op");
                two = field(arg, "valueTwo");
                if (!index || !value || !op)
                        return fail_at(err, at, !index ? "index" : !value ? "value" : "op",
                                       "missing");
                r = get_uint(index, at, "index", MAX_ARG_INDEX, &idx, err);
                if (r >= 0)
                        r = get_uint(value, at, "value", UINT64_MAX, &a, err);
                if (r >= 0 && two)
                        r = get_uint(two, at, "valueTwo", UINT64_MAX, &b, err);
                if (r >= 0)
                        r = get_string(op, at, "op", MAX_NAME_LEN, &op_name, err);
                if (r < 0)
                        return r;

                cmp->op = _SCMP_CMP_MIN;
                for (size_t k = 0; k < ELEMENTSOF(operators); k++)
                        if (streq(op_name, operators[k].name))
                                cmp->op = operators[k].op;
                if (cmp->op == _SCMP_CMP_MIN)
                        return fail_value(err, at, "op", "unknown operator", op_name);
                if (cmp->op != SCMP_CMP_MASKED_EQ && b != 0)
                        return fail_at(err, at, "valueTwo", "only used with SCMP_CMP_MASKED_EQ");
                if (cmp->op == SCMP_CMP_MASKED_EQ && (b & ~a))
                        return fail_at(err, at, "valueTwo",
                                       "has bits outside the mask \"value\": it can never match");
                cmp->arg = (unsigned int)idx;
                cmp->datum_a = a;
                cmp->datum_b = b;
                if (++per_index[idx] > 1)
                        rule->alternatives = true;
                rule->n_args++;
        }
        return 0;
}

static bool kernel_at_least(const struct sc_host *h, const unsigned int v[2])
{
        return h->kernel[0] > v[0] || (h->kernel[0] == v[0] && h->kernel[1] >= v[1]);
}

static int parse_kernel_version(const char *s, unsigned int ret[2])
{
        char *end;
        for (int i = 0; i < 2; i++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                errno = 0;
                unsigned long v = strtoul(s, &end, 10);
                if (errno || v > 65535 || end - s > 5)
                        return -EINVAL;
                ret[i] = (unsigned int)v;
                if (i == 0 && *end != '.')
                        return -EINVAL;
                s = end + 1;
        }
        return *end == '\0' ? 0 : -EINVAL;
}

struct arch_match {
        const char *native;
        bool found;
};

static void match_arch(const char *s, void *userdata)
{
        struct arch_match *m = userdata;
        if (streq(s, m->native))
                m->found = true;
}

static int parse_condition(json_object *obj, const char *where, const char *field_name,
                           const struct sc_host *h, struct sc_condition *ret,
                           struct gx_error *err)
{
        static const char *const cond_fields[] = {"caps", "arches", "minKernel", NULL};
        char at[48];
        const char *kernel;
        unsigned int min[2];

        *ret = (struct sc_condition){0};
        if (!obj)
                return 0;
        snprintf(at, sizeof(at), "%s.%s", where, field_name);
        int r = check_object(obj, at, NULL, cond_fields, err);
        if (r < 0)
                return r;

        json_object *caps = field(obj, "caps"), *arches = field(obj, "arches"),
                    *min_kernel = field(obj, "minKernel");
        r = for_each_string(caps, at, "caps", valid_cap, NULL, NULL, err);
        if (r < 0)
                return r;
        ret->has_caps = caps && json_object_array_length(caps) > 0;

        struct arch_match m = {.native = h->arch_name};
        r = for_each_string(arches, at, "arches", valid_docker_arch, match_arch, &m, err);
        if (r < 0)
                return r;
        ret->has_arches = arches && json_object_array_length(arches) > 0;
        ret->arch_listed = m.found;

        if (min_kernel) {
                r = get_string(min_kernel, at, "minKernel", MAX_NAME_LEN, &kernel, err);
                if (r < 0)
                        return r;
                if (parse_kernel_version(kernel, min) < 0)
                        return fail_value(err, at, "minKernel", "expected \"X.Y\", not", kernel);
                ret->has_min_kernel = true;
                ret->kernel_at_least = kernel_at_least(h, min);
        }
        return 0;
}

/* The payload has no capabilities, so a rule that needs one never applies and an exclusion
 * by capability never excludes. */
static bool rule_applies(const struct sc_condition *inc, const struct sc_condition *exc)
{
        if (exc->arch_listed || (exc->has_min_kernel && exc->kernel_at_least))
                return false;
        if (inc->has_caps || (inc->has_arches && !inc->arch_listed))
                return false;
        return !inc->has_min_kernel || inc->kernel_at_least;
}

/* Resolve names on the native architecture. A name libseccomp does not know (a newer
 * kernel's), or that is no syscall here (another architecture's), is skipped. */
static int parse_names(json_object *obj, const char *where, const struct sc_host *h,
                       struct sc_rule *rule, struct gx_error *err)
{
        json_object *names = field(obj, "names"), *name = field(obj, "name");
        size_t n = 1;
        int r;

        if (names && name)
                return fail_at(err, where, NULL, "use either \"name\" or \"names\"");
        if (!names && !name)
                return fail_at(err, where, "names", "missing");
        if (names) {
                r = get_array(names, where, "names", MAX_NAMES, &n, err);
                if (r < 0)
                        return r;
                if (n == 0)
                        return fail_at(err, where, "names", "empty");
        }
        rule->syscalls = calloc(n, sizeof(int));
        if (!rule->syscalls)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "seccomp profile");
        for (size_t i = 0; i < n; i++) {
                char entry[32];
                const char *s;
                if (names)
                        snprintf(entry, sizeof(entry), "names[%zu]", i);
                r = get_string(names ? json_object_array_get_idx(names, i) : name, where,
                               names ? entry : "name", MAX_NAME_LEN, &s, err);
                if (r < 0)
                        return r;
                if (!valid_syscall_name(s))
                        return fail_value(err, where, names ? entry : "name",
                                          "invalid syscall name", s);
                int nr = seccomp_syscall_resolve_name_arch(h->arch, s);
                if (nr >= 0)
                        rule->syscalls[rule->n_syscalls++] = nr;
        }
        return 0;
}

/* Parse one entry of "syscalls" into rule; *applies tells whether it is part of this host's
 * filter. */
static int parse_rule(json_object *obj, size_t index, const struct sc_host *h,
                      uint32_t default_action, struct sc_rule *rule, bool *applies,
                      struct gx_error *err)
{
        static const char *const rule_fields[] = {"names",    "name",     "action",
                                                  "errnoRet", "args",     "comment",
                                                  "includes", "excludes", NULL};
        struct sc_condition inc, exc;
        char where[32];

        snprintf(where, sizeof(where), "syscalls[%zu]", index);
        rule->index = index;
        int r = check_object(obj, where, NULL, rule_fields, err);
        if (r >= 0)
                r = parse_action(field(obj, "action"), field(obj, "errnoRet"), where, "action",
                                 "errnoRet", &rule->action, err);
        if (r >= 0)
                r = parse_args(field(obj, "args"), where, rule, err);
        if (r >= 0)
                r = parse_condition(field(obj, "includes"), where, "includes", h, &inc, err);
        if (r >= 0)
                r = parse_condition(field(obj, "excludes"), where, "excludes", h, &exc, err);
        if (r >= 0)
                r = parse_names(obj, where, h, rule, err);
        if (r < 0)
                return r;
        /* A rule with the default action changes nothing (and libseccomp refuses it). */
        *applies = rule_applies(&inc, &exc) && rule->n_syscalls > 0 &&
                   rule->action != default_action;
        return 0;
}

static int parse_profile(json_object *root, const struct sc_host *h, struct sc_profile *p,
                         struct gx_error *err)
{
        static const char *const top_fields[] = {"defaultAction", "defaultErrnoRet",
                                                 "architectures", "archMap",
                                                 "syscalls",      "flags",
                                                 "comment",       NULL};
        json_object *syscalls;
        size_t n = 0;

        int r = check_object(root, "", NULL, top_fields, err);
        if (r >= 0)
                r = parse_action(field(root, "defaultAction"), field(root, "defaultErrnoRet"), "",
                                 "defaultAction", "defaultErrnoRet", &p->default_action, err);
        if (r >= 0)
                r = parse_arches(root, err);
        if (r >= 0)
                r = for_each_string(field(root, "flags"), "", "flags", valid_flag, or_flag,
                                    &p->flags, err);
        if (r < 0)
                return r;

        syscalls = field(root, "syscalls");
        if (!syscalls)
                return 0;
        r = get_array(syscalls, "", "syscalls", MAX_RULES, &n, err);
        if (r < 0 || n == 0)
                return r;
        p->rules = calloc(n, sizeof(*p->rules));
        if (!p->rules)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "seccomp profile");
        for (size_t i = 0; i < n; i++) {
                struct sc_rule *rule = &p->rules[p->n_rules];
                bool applies = false;
                r = parse_rule(json_object_array_get_idx(syscalls, i), i, h, p->default_action,
                               rule, &applies, err);
                if (r < 0 || !applies)
                        rule_clear(rule);
                if (r < 0)
                        return r;
                if (applies)
                        p->n_rules++;
        }
        return 0;
}

/* The running kernel's major and minor version: "6.1.0-13-amd64" -> 6.1 */
static int host_kernel(unsigned int ret[2], struct gx_error *err)
{
        struct utsname u;
        if (uname(&u) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "uname");
        u.release[strspn(u.release, "0123456789.")] = '\0';
        char *dot = strchr(u.release, '.');
        if (dot && (dot = strchr(dot + 1, '.')))
                *dot = '\0';
        if (parse_kernel_version(u.release, ret) < 0)
                return gx_fail(err, GX_SYSTEM, 0, "seccomp: cannot parse the kernel release");
        return 0;
}

static int host_probe(struct sc_host *h, struct gx_error *err)
{
        static const unsigned int min_kernel[2] = {4, 14};

        *h = (struct sc_host){.arch = seccomp_arch_native(), .max_syscall = -1};
        for (size_t i = 0; i < ELEMENTSOF(native_arches); i++)
                if (native_arches[i].arch == h->arch)
                        h->arch_name = native_arches[i].name;
        if (!h->arch_name)
                return gx_fail(err, GX_SYSTEM, 0, "seccomp: architecture 0x%08x is not supported",
                               h->arch);
        int r = host_kernel(h->kernel, err);
        if (r < 0)
                return r;
        /* Before 4.8 a ptraced payload could change a syscall after the filter had checked it
         * (CVE-2017-5206, checklist E.25); SECCOMP_RET_KILL_PROCESS, which every filter uses
         * for foreign ABIs, exists since 4.14. */
        if (!kernel_at_least(h, min_kernel))
                return gx_fail(err, GX_SYSTEM, 0,
                               "seccomp: kernel %u.%u is too old, glexec needs %u.%u or newer",
                               h->kernel[0], h->kernel[1], min_kernel[0], min_kernel[1]);

        for (int nr = SYSCALL_SCAN_LIMIT - 1; nr >= 0 && h->max_syscall < 0; nr--) {
                char *name = seccomp_syscall_resolve_num_arch(h->arch, nr);
                if (name)
                        h->max_syscall = nr;
                free(name);
        }
        if (h->max_syscall < 0)
                return gx_fail(err, GX_SYSTEM, 0, "seccomp: libseccomp names no syscall here");
        return 0;
}

struct use {
        int nr;
        uint32_t action;
        bool conditional;
};

static int use_cmp(const void *a, const void *b)
{
        const struct use *x = a, *y = b;
        return (x->nr > y->nr) - (x->nr < y->nr);
}

/* libseccomp lets an unconditional rule silently win over any other rule for the same
 * syscall; in a profile that is a mistake worth refusing. */
static int check_conflicts(const struct sc_profile *p, const struct sc_host *h,
                           struct gx_error *err)
{
        size_t n = 0, k = 0;
        for (size_t i = 0; i < p->n_rules; i++)
                n += p->rules[i].n_syscalls;
        _cleanup_free_ struct use *uses = calloc(n ? n : 1, sizeof(*uses));
        if (!uses)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "seccomp profile");
        for (size_t i = 0; i < p->n_rules; i++)
                for (size_t j = 0; j < p->rules[i].n_syscalls; j++)
                        uses[k++] = (struct use){p->rules[i].syscalls[j], p->rules[i].action,
                                                 p->rules[i].n_args > 0};
        qsort(uses, n, sizeof(*uses), use_cmp);

        for (size_t start = 0, end; start < n; start = end) {
                const struct use *plain = NULL, *other = NULL;
                for (end = start; end < n && uses[end].nr == uses[start].nr; end++)
                        if (!uses[end].conditional && !plain)
                                plain = &uses[end];
                for (size_t i = start; plain && i < end && !other; i++)
                        if (uses[i].action != plain->action)
                                other = &uses[i];
                if (!other)
                        continue;
                char a[48], b[48];
                _cleanup_free_ char *name = seccomp_syscall_resolve_num_arch(h->arch, plain->nr);
                action_string(plain->action, a, sizeof(a));
                action_string(other->action, b, sizeof(b));
                return fail_at(err, "", NULL,
                               "syscall %s has an unconditional %s rule and a %s rule: only one "
                               "can apply",
                               name ? name : "?", a, b);
        }
        return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct sc_profile *p, const struct sc_host *h,
                     struct gx_error *err)
{
        for (size_t i = 0; i < p->n_rules; i++) {
                const struct sc_rule *rule = &p->rules[i];
                for (size_t j = 0; j < rule->n_syscalls; j++) {
                        int r = 0;
                        if (rule->alternatives)
                                for (size_t k = 0; k < rule->n_args && r >= 0; k++)
                                        r = seccomp_rule_add_array(ctx, rule->action,
                                                                   rule->syscalls[j], 1,
                                                                   &rule->args[k]);
                        else
                                r = seccomp_rule_add_array(ctx, rule->action, rule->syscalls[j],
                                                           (unsigned int)rule->n_args,
                                                           rule->args);
                        if (r < 0) {
                                _cleanup_free_ char *name =
                                        seccomp_syscall_resolve_num_arch(h->arch,
                                                                         rule->syscalls[j]);
                                char where[32];
                                snprintf(where, sizeof(where), "syscalls[%zu]", rule->index);
                                return fail_at(err, where, NULL,
                                               "libseccomp refused the rule for %s: %s",
                                               name ? name : "?", strerror(-r));
                        }
                }
        }
        return 0;
}

static struct sock_filter jump(size_t at, uint16_t op, uint32_t k, size_t jt, size_t jf)
{
        return (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, (uint8_t)(jt - at - 1),
                                            (uint8_t)(jf - at - 1));
}

/* Checks that hold whatever the profile says (checklist E.23), ahead of libseccomp's program:
 * a foreign audit arch or an x32 syscall kills the process; a syscall number newer than any
 * libseccomp can name returns ENOSYS, so libc falls back (clone3 -> clone, faccessat2 ->
 * faccessat) and no syscall that no profile could name gets in. nr -1, which tracers set to
 * skip a syscall, goes on to the profile as libseccomp itself lets it. */
static size_t put_prologue(const struct sc_host *h, struct sock_filter *out)
{
        bool x32 = h->arch == SCMP_ARCH_X86_64;
        const size_t prog = x32 ? 8 : 7, kill = prog - 1, enosys = prog - 2;
        size_t i = 0;

        out[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                              offsetof(struct seccomp_data, arch));
        i++;
        out[i] = jump(i, BPF_JEQ, h->arch, i + 1, kill);
        i++;
        out[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                              offsetof(struct seccomp_data, nr));
        i++;
        out[i] = jump(i, BPF_JEQ, UINT32_MAX, prog, i + 1);
        i++;
        if (x32) {
                out[i] = jump(i, BPF_JGE, X32_SYSCALL_BIT, kill, i + 1);
                i++;
        }
        out[i] = jump(i, BPF_JGT, (uint32_t)h->max_syscall, enosys, prog);
        i++;
        out[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
        i++;
        out[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
        i++;
        return i;
}

/* libseccomp 2.5 exports only to an fd; a memfd keeps the program off the filesystem. */
static int export_program(scmp_filter_ctx ctx, const struct sc_host *h, struct sc_filter *ret,
                          struct gx_error *err)
{
        const size_t max_bytes = (BPF_MAXINSNS - PROLOGUE_MAX) * sizeof(struct sock_filter);
        _cleanup_close_ int fd = memfd_create("glexec-seccomp", MFD_CLOEXEC);
        _cleanup_free_ char *bpf = NULL;
        size_t len = 0;

        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "seccomp: memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "seccomp: exporting the filter");
        if (lseek(fd, 0, SEEK_SET) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "seccomp: reading the filter back");
        r = gx_read_all(fd, max_bytes, &bpf, &len);
        if (r == -EFBIG)
                return fail_at(err, "", NULL, "the compiled filter exceeds the kernel's %d "
                                              "instructions", BPF_MAXINSNS);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "seccomp: reading the filter back");
        if (len == 0 || len % sizeof(struct sock_filter))
                return gx_fail(err, GX_SYSTEM, 0, "seccomp: libseccomp exported %zu bytes", len);

        struct sock_filter *insns = malloc(PROLOGUE_MAX * sizeof(*insns) + len);
        if (!insns)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "seccomp");
        size_t pre = put_prologue(h, insns);
        memcpy(insns + pre, bpf, len);
        *ret = (struct sc_filter){.insns = insns,
                                  .len = (unsigned short)(pre + len / sizeof(*insns))};
        return 0;
}

static int compile(const struct sc_profile *p, const struct sc_host *h, struct sc_filter *ret,
                   struct gx_error *err)
{
        struct sc_filter f = {0};
        scmp_filter_ctx ctx = seccomp_init(p->default_action);
        if (!ctx)
                return gx_fail(err, GX_SYSTEM, 0, "seccomp: libseccomp refused the default "
                                                  "action");
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r >= 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                r = gx_fail(err, GX_SYSTEM, -r, "seccomp: setting filter attributes");
        if (r >= 0)
                r = add_rules(ctx, p, h, err);
        if (r >= 0)
                r = export_program(ctx, h, &f, err);
        seccomp_release(ctx);
        if (r < 0)
                return r;
        f.flags = p->flags;
        r = sc_filter_check(&f, err);
        if (r < 0) {
                sc_filter_free(&f);
                return r;
        }
        *ret = f;
        return 0;
}

int sc_filter_check(const struct sc_filter *f, struct gx_error *err)
{
        if (!f->insns || f->len == 0 || f->len > BPF_MAXINSNS)
                return gx_fail(err, GX_SYSTEM, 0, "seccomp: a filter has 1 to %d instructions",
                               BPF_MAXINSNS);
        unsigned int known = 0;
        for (size_t i = 0; i < ELEMENTSOF(filter_flags); i++)
                known |= filter_flags[i].flag;
        if (f->flags & ~known)
                return gx_fail(err, GX_SYSTEM, 0, "seccomp: unexpected filter flags 0x%x",
                               f->flags);
        /* The filter goes in right before execve (checklist E.24): a profile that denies it
         * could never start a payload. */
        struct seccomp_data d = {.nr = __NR_execve, .arch = seccomp_arch_native()};
        uint32_t act = sc_filter_eval(f, &d) & SECCOMP_RET_ACTION_FULL;
        if (act != SECCOMP_RET_ALLOW && act != SECCOMP_RET_LOG)
                return fail_at(err, "", NULL, "execve is not allowed: no payload could start");
        return 0;
}

int sc_host_fingerprint(char *buf, size_t size, struct gx_error *err)
{
        unsigned int kernel[2];
        int r = host_kernel(kernel, err);
        if (r < 0)
                return r;
        const struct scmp_version *v = seccomp_version();
        if (!v)
                return gx_fail(err, GX_SYSTEM, 0, "seccomp: libseccomp has no version");
        int n = snprintf(buf, size, "arch 0x%08x kernel %u.%u libseccomp %u.%u.%u",
                         seccomp_arch_native(), kernel[0], kernel[1], v->major, v->minor,
                         v->micro);
        if (n < 0 || (size_t)n >= size)
                return gx_fail(err, GX_SYSTEM, ENOBUFS, "seccomp: host fingerprint");
        return 0;
}

int sc_profile_compile_text(const char *json, size_t len, struct sc_filter *ret,
                            struct gx_error *err)
{
        struct sc_host host;
        struct sc_profile profile = {0};
        json_object *root = NULL;

        int r = host_probe(&host, err);
        if (r >= 0)
                r = parse_json(json, len, &root, err);
        if (r < 0)
                return r;
        r = parse_profile(root, &host, &profile, err);
        json_object_put(root);
        if (r >= 0)
                r = check_conflicts(&profile, &host, err);
        if (r >= 0)
                r = compile(&profile, &host, ret, err);
        profile_free(&profile);
        return r;
}

int sc_profile_read(const char *path, char **ret_buf, size_t *ret_len, struct gx_error *err)
{
        char esc[256];

        gx_escape(esc, sizeof(esc), path);
        _cleanup_close_ int fd = gx_open_trusted(path, O_RDONLY, err);
        if (fd < 0) {
                gx_error_prefix(err, "seccomp profile");
                return fd;
        }
        int r = gx_read_all(fd, SC_PROFILE_MAX_BYTES, ret_buf, ret_len);
        if (r == -EFBIG)
                return gx_fail(err, GX_SYSTEM, 0, "seccomp profile %s is larger than %d bytes",
                               esc, SC_PROFILE_MAX_BYTES);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "reading seccomp profile %s", esc);
        return 0;
}

int sc_profile_compile_named(const char *path, const char *json, size_t len,
                             struct sc_filter *ret, struct gx_error *err)
{
        int r = sc_profile_compile_text(json, len, ret, err);
        if (r < 0) {
                char esc[256];
                gx_escape(esc, sizeof(esc), path);
                gx_error_prefix(err, "%s", esc);
        }
        return r;
}

int sc_profile_compile_file(const char *path, struct sc_filter *ret, struct gx_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = sc_profile_read(path, &buf, &len, err);
        if (r < 0)
                return r;
        return sc_profile_compile_named(path, buf, len, ret, err);
}

void sc_filter_free(struct sc_filter *f)
{
        free(f->insns);
        *f = (struct sc_filter){0};
}

int sc_filter_load(const struct sc_filter *f, struct gx_error *err)
{
        if (!f->insns || f->len == 0)
                return gx_fail(err, GX_SYSTEM, EINVAL, "seccomp: no filter to load");
        /* Without no_new_privs the kernel only accepts a filter from a task with CAP_SYS_ADMIN,
         * and then a later setuid exec could run privileged under a filter it did not expect;
         * the launcher sets and verifies it first (SPEC section 9). */
        int r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, errno, "seccomp: reading no_new_privs");
        if (r != 1)
                return gx_fail(err, GX_SYSTEM, EPERM,
                               "seccomp: no_new_privs must be set before the filter is loaded");
        struct sock_fprog prog = {.len = f->len, .filter = f->insns};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "seccomp: loading the filter");
        return 0;
}

uint32_t sc_filter_eval(const struct sc_filter *f, const struct seccomp_data *data)
{
        uint32_t a = 0;
        for (size_t pc = 0; pc < f->len; pc++) {
                const struct sock_filter *in = &f->insns[pc];
                size_t skip = 0;
                switch (in->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        if (in->k % 4 || in->k > sizeof(*data) - 4)
                                return SECCOMP_RET_KILL_PROCESS;
                        memcpy(&a, (const char *)data + in->k, sizeof(a));
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        a &= in->k;
                        break;
                case BPF_JMP | BPF_JA:
                        skip = in->k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        skip = a == in->k ? in->jt : in->jf;
                        break;
                case BPF_JMP | BPF_JGT | BPF_K:
                        skip = a > in->k ? in->jt : in->jf;
                        break;
                case BPF_JMP | BPF_JGE | BPF_K:
                        skip = a >= in->k ? in->jt : in->jf;
                        break;
                case BPF_JMP | BPF_JSET | BPF_K:
                        skip = a & in->k ? in->jt : in->jf;
                        break;
                case BPF_RET | BPF_K:
                        return in->k;
                default:
                        return SECCOMP_RET_KILL_PROCESS;
                }
                if (skip >= f->len - pc)
                        return SECCOMP_RET_KILL_PROCESS;
                pc += skip;
        }
        return SECCOMP_RET_KILL_PROCESS;
}
