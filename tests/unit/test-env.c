#include <string.h>

#include "common/strutil.h"
#include "sandbox/env.h"
#include "test.h"

static const char *lookup(char **envp, const char *name)
{
        size_t len = strlen(name);
        for (size_t i = 0; envp[i]; i++)
                if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
                        return envp[i] + len + 1;
        return NULL;
}

int main(void)
{
        char *caller[] = {"GLEXEC_CLIENT_CERT=/p", "GLEXEC_CLIENT_TOKEN=/t", "GLEXEC_ENV=packed",
                          "LD_PRELOAD=/evil.so",
                          "KEEP=1", "DROP=2", "MALLOC_CHECK_=3", "GCONV_PATH=/x",
                          "GLIBC_TUNABLES=glibc.x=1", "HOME=/pilot", "PATH=/evil",
                          "GLEXEC_TARGET_DIR=/caller/dir", "X509_USER_PROXY=/pilot/proxy",
                          "NOEQUALS", NULL};
        char *preserve[] = {"KEEP", "LD_PRELOAD", "MALLOC_CHECK_", "GLIBC_TUNABLES", NULL};
        struct env_spec spec = {
                .caller_env = caller,
                .preserve = preserve,
                .home = "/home/atlas001",
                .user = "atlas001",
                .path = "/usr/bin:/bin",
                .target_dir = "/sandbox/x",
                .x509_user_proxy = "/sandbox/x/x509up_u10001",
        };
        char **envp = NULL;
        struct gx_error err = {0};

        CHECK(env_build(&spec, &envp, &err) == 0);
        CHECK_STREQ(lookup(envp, "GLEXEC_CLIENT_CERT"), "/p");
        CHECK_STREQ(lookup(envp, "GLEXEC_CLIENT_TOKEN"), "/t");
        CHECK_STREQ(lookup(envp, "GLEXEC_ENV"), "packed");
        CHECK_STREQ(lookup(envp, "KEEP"), "1");
        CHECK(lookup(envp, "DROP") == NULL);
        CHECK(lookup(envp, "LD_PRELOAD") == NULL);
        CHECK(lookup(envp, "MALLOC_CHECK_") == NULL);
        CHECK(lookup(envp, "GCONV_PATH") == NULL);
        CHECK(lookup(envp, "GLIBC_TUNABLES") == NULL);
        CHECK(lookup(envp, "NOEQUALS") == NULL);
        CHECK_STREQ(lookup(envp, "HOME"), "/home/atlas001");
        CHECK_STREQ(lookup(envp, "USER"), "atlas001");
        CHECK_STREQ(lookup(envp, "LOGNAME"), "atlas001");
        CHECK_STREQ(lookup(envp, "PATH"), "/usr/bin:/bin");
        CHECK_STREQ(lookup(envp, "GLEXEC_TARGET_DIR"), "/sandbox/x");
        CHECK_STREQ(lookup(envp, "X509_USER_PROXY"), "/sandbox/x/x509up_u10001");
        CHECK_STREQ(lookup(envp, "TMPDIR"), "/tmp");
        CHECK(lookup(envp, "BEARER_TOKEN_FILE") == NULL);
        /* Each name appears once. */
        size_t n = gx_strv_len(envp);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        CHECK(strncmp(envp[i], envp[j], strcspn(envp[i], "=") + 1) != 0);
        gx_strv_free(envp);

        CHECK(env_name_is_unsafe("LD_AUDIT"));
        CHECK(env_name_is_unsafe("MALLOC_ARENA_MAX"));
        CHECK(!env_name_is_unsafe("GLEXEC_LD"));
        TEST_MAIN_END();
}
