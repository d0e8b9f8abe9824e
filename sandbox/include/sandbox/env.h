/* The payload's environment, built from scratch (SPEC section 4). */
#pragma once

#include <stdbool.h>

#include "common/error.h"

struct env_spec {
        char *const *caller_env;   /* the caller's environment as captured at start-up */
        char *const *preserve;     /* preserve_env_variables */
        const char *home;
        const char *user;          /* USER and LOGNAME */
        const char *path;
        const char *target_dir;    /* GLEXEC_TARGET_DIR; NULL keeps the caller's */
        const char *x509_user_proxy;   /* NULL: not set */
        const char *bearer_token_file; /* NULL: not set */
};

/* True for names that must never reach the payload whatever the config says: the dynamic
 * loader's and libc's variables that change how a program loads or allocates. */
bool env_name_is_unsafe(const char *name);

/* Build a NULL-terminated, malloc'd envp. */
int env_build(const struct env_spec *spec, char ***ret_envp, struct gx_error *err);
