/* Who called us, and reading the caller's files with the caller's rights. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

#define PRIVS_MAX_GROUPS 256

struct caller {
        uid_t uid;
        gid_t gid;
        gid_t groups[PRIVS_MAX_GROUPS];
        size_t n_groups;
        pid_t pid;
        char user[64];  /* empty if the uid has no passwd entry */
        char home[256];
};

int privs_capture_caller(struct caller *ret, struct gx_error *err);

/* Is the caller allowed by user_white_list (names, ".prefix") and group_white_list? */
bool privs_caller_whitelisted(const struct caller *c, char *const *users, char *const *groups);

/* Open and read a file named by the caller with the caller's file-system ids (setfsuid,
 * setfsgid, read back). It must be a regular file owned by the caller without group or other
 * permission bits; anything else is GX_CLIENT. */
int privs_read_caller_file(const struct caller *c, const char *path, const char *what,
                           size_t max, char **ret_buf, size_t *ret_len, struct gx_error *err);
