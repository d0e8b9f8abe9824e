/* The launcher's side of credentials and policy: read the caller's credential file with the
 * caller's rights, hand it to mapping/ for verification, apply bans and the mode's mapping,
 * and deliver a copy of the credential into the sandbox. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "common/error.h"
#include "config.h"
#include "launch.h"

/* Verify the credential named by GLEXEC_CLIENT_CERT (preferred) or GLEXEC_CLIENT_TOKEN. */
int credentials_verify(struct launch *l, const char *cert_path, const char *token_path,
                       struct gx_error *err);

/* The ban file, first of all (SPEC section 7): a banned user is refused, and audited, before
 * anything of the request is looked at. */
int credentials_check_ban(struct launch *l, struct gx_error *err);

/* Allowed executables, and the target account of the configured mode. */
int credentials_authorize(struct launch *l, struct gx_error *err);

/* Copy the payload's proxy (or token) into the sandbox, owned by the target, mode 0600, and
 * return the paths the payload sees in X509_USER_PROXY and BEARER_TOKEN_FILE (NULL for
 * none). Afterwards no credential material is left in our memory. */
int credentials_deliver(struct launch *l, int sandbox_fd, const char *source_path,
                        const char *target_name, char *proxy_buf, size_t proxy_size,
                        const char **ret_proxy, char *token_buf, size_t token_size,
                        const char **ret_token, struct gx_error *err);

/* --check-config: check every file the configuration names for the configured mode. */
int credentials_check_config(const struct config *cfg, FILE *out);
