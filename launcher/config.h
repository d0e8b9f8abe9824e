/* glexec.conf: one root-owned INI file (SPEC section 6) parsed into a plain struct. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

/* The least memory and process limits a payload can start under, for the site's and the
 * caller's limits alike; glexec's init in the sandbox is one of the processes. */
#define GX_MEMORY_MIN (1U << 20)
#define GX_PIDS_MIN 2

enum gx_mode {
        GX_MODE_MAPPING,
        GX_MODE_SITE_ISOLATION,
        GX_MODE_DECLARE_ONLY,
};

enum gx_log_dest {
        GX_LOG_SYSLOG,
        GX_LOG_FILE,
};

enum gx_leaf_move {
        GX_LEAF_MOVE_DELEGATED,
        GX_LEAF_MOVE_ALWAYS,
        GX_LEAF_MOVE_NEVER,
};

/* Namespaces a payload may get; user, mount and pid are always on. */
enum {
        GX_NS_USER = 1 << 0,
        GX_NS_MOUNT = 1 << 1,
        GX_NS_PID = 1 << 2,
        GX_NS_IPC = 1 << 3,
        GX_NS_UTS = 1 << 4,
        GX_NS_NET = 1 << 5,
};

struct config {
        /* [glexec] */
        enum gx_mode mode;
        char **user_white_list;
        char **group_white_list;
        char *isolation_account;
        char **omission_private_key_white_list;
        char **preserve_env_variables;
        char *path;
        int log_level;
        enum gx_log_dest log_destination;
        char *log_file;
        int syslog_facility;

        /* [credentials] */
        char *certdir;
        char *vomsdir;
        uint64_t min_proxy_lifetime;
        bool allow_limited_proxy;
        bool allow_legacy_proxy;
        bool check_crls;
        char *token_issuers;
        char **token_audience;
        bool token_accept_any_audience;
        char **token_required_scopes;
        uint64_t token_clock_skew;

        /* [mapping] */
        char *gridmapfile;
        char *voms_gridmapfile;
        char *groupmapfile;
        char *gridmapdir;
        char *token_mapfile;
        char *ban_file;
        char **allowed_executables;
        uint64_t min_uid;

        /* [sandbox] */
        char *sandbox_base;
        unsigned namespaces;
        bool private_tmp;
        uint64_t tmp_size;
        char **hide_paths;
        bool keep_sandbox;
        char *seccomp_profile;

        /* [limits] */
        char *cgroup_parent;
        enum gx_leaf_move cgroup_leaf_move;
        bool require_cgroup;
        uint64_t memory_max;
        uint64_t cpu_max_milli; /* thousandths of a CPU; 0 = none */
        uint64_t pids_max;
        uint64_t walltime_max;  /* seconds; 0 = none */

        /* [audit] */
        char *audit_log;
        bool require_audit;
};

/* Defaults of SPEC section 6. */
int config_init_defaults(struct config *cfg);

/* Parse an INI text (already read from a trusted file) into cfg. name is for messages. */
int config_parse_string(struct config *cfg, const char *text, const char *name,
                        struct gx_error *err);

/* Open path (root-owned along the whole path), read and parse it. */
int config_load(struct config *cfg, const char *path, struct gx_error *err);

void config_free(struct config *cfg);

const char *config_mode_name(enum gx_mode mode);

/* Print every key with its value, as `-V` shows it. */
void config_dump(const struct config *cfg, FILE *out);
