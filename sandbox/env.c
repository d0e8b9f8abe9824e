#include "sandbox/env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"

/* glibc's list of variables it drops for AT_SECURE programs (sysdeps/generic/unsecvars.h),
 * plus the loader's whole LD_ namespace and MALLOC_ tunables. */
static const char *const unsafe_prefixes[] = {"LD_", "MALLOC_"};
static const char *const unsafe_names[] = {
        "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN",
        "LOCPATH",    "NIS_PATH",    "NLSPATH",        "RESOLV_HOST_CONF", "RES_OPTIONS",
        "TMPDIR",     "TZDIR",
};

bool env_name_is_unsafe(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(unsafe_prefixes); i++)
                if (gx_startswith(name, unsafe_prefixes[i]))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(unsafe_names); i++)
                if (strcmp(name, unsafe_names[i]) == 0)
                        return true;
        return false;
}

static size_t name_len(const char *entry)
{
        const char *eq = strchr(entry, '=');
        return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* Add or replace NAME=value. */
static int env_set(char ***envp, const char *name, const char *value)
{
        size_t nlen = strlen(name);
        char *entry;
        if (asprintf(&entry, "%s=%s", name, value) < 0)
                return -ENOMEM;
        for (size_t i = 0; (*envp)[i]; i++)
                if (name_len((*envp)[i]) == nlen && strncmp((*envp)[i], name, nlen) == 0) {
                        free((*envp)[i]);
                        (*envp)[i] = entry;
                        return 0;
                }
        int r = gx_strv_push(envp, entry);
        free(entry);
        return r;
}

static int env_copy_entry(char ***envp, const char *entry)
{
        size_t nlen = name_len(entry);
        if (entry[nlen] != '=')
                return 0;
        char name[256];
        if (nlen == 0 || nlen >= sizeof(name))
                return 0;
        memcpy(name, entry, nlen);
        name[nlen] = '\0';
        return env_set(envp, name, entry + nlen + 1);
}

int env_build(const struct env_spec *spec, char ***ret_envp, struct gx_error *err)
{
        _cleanup_strv_free_ char **envp = calloc(1, sizeof(char *));
        if (!envp)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "building the environment");

        for (size_t i = 0; spec->caller_env && spec->caller_env[i]; i++) {
                const char *e = spec->caller_env[i];
                size_t nlen = name_len(e);
                /* GLEXEC_* passes as in gLExec (SPEC section 4), the credential paths too:
                 * the files they name are covered in the payload's view (launch.c), which
                 * has its own copies (X509_USER_PROXY, BEARER_TOKEN_FILE). */
                bool wanted = gx_startswith(e, "GLEXEC_");
                for (size_t j = 0; !wanted && spec->preserve && spec->preserve[j]; j++)
                        wanted = strlen(spec->preserve[j]) == nlen &&
                                 strncmp(e, spec->preserve[j], nlen) == 0;
                if (!wanted)
                        continue;
                char name[256];
                if (nlen >= sizeof(name))
                        continue;
                memcpy(name, e, nlen);
                name[nlen] = '\0';
                if (env_name_is_unsafe(name))
                        continue;
                if (env_copy_entry(&envp, e) < 0)
                        return gx_fail(err, GX_SYSTEM, ENOMEM, "building the environment");
        }

        const struct {
                const char *name;
                const char *value;
        } fixed[] = {
                {"HOME", spec->home},
                {"USER", spec->user},
                {"LOGNAME", spec->user},
                {"PATH", spec->path},
                {"GLEXEC_TARGET_DIR", spec->target_dir},
                {"X509_USER_PROXY", spec->x509_user_proxy},
                {"BEARER_TOKEN_FILE", spec->bearer_token_file},
                {"TMPDIR", "/tmp"},
        };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                if (fixed[i].value && env_set(&envp, fixed[i].name, fixed[i].value) < 0)
                        return gx_fail(err, GX_SYSTEM, ENOMEM, "building the environment");

        *ret_envp = TAKE_PTR(envp);
        return 0;
}
