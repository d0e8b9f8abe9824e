#include "credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/strutil.h"
#include "audit.h"
#include "cred-cache.h"
#include "mapping/credential.h"
#include "mapping/policy.h"
#include "mapping/token.h"
#include "sandbox/seccomp.h"
#include "verifier.h"

/* The verified proxy or token, kept until it is copied into the sandbox, then wiped: a
 * process forked from us must not inherit the private key (DESIGN.md, process model). */
static struct {
        char *buf;
        size_t len;
        char path[PATH_MAX];
} client_cred;

static void wipe_client_cred(void)
{
        if (client_cred.buf) {
                OPENSSL_cleanse(client_cred.buf, client_cred.len);
                free(client_cred.buf);
                client_cred.buf = NULL;
        }
}

static bool in_list(char *const *list, const char *name)
{
        return name[0] && gx_strv_contains(list, name);
}

static void x509_policy(const struct launch *l, struct cred_x509_policy *p)
{
        *p = (struct cred_x509_policy){
                .certdir = l->cfg->certdir,
                .vomsdir = l->cfg->vomsdir,
                .host_fqdn = l->host,
                .now = (int64_t)l->start_real.tv_sec,
                .min_lifetime = l->cfg->min_proxy_lifetime,
                .require_private_key =
                        !in_list(l->cfg->omission_private_key_white_list, l->caller.user),
                .allow_limited = l->cfg->allow_limited_proxy,
                .allow_legacy = l->cfg->allow_legacy_proxy,
                .check_crls = l->cfg->check_crls,
        };
}

static int trusted_dir_ok(const char *path, struct gx_error *err)
{
        int fd = gx_open_trusted_dir(path, err);
        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

static int check_trusted_dir(const char *key, const char *path, struct gx_error *err)
{
        int r = trusted_dir_ok(path, err);
        if (r < 0)
                gx_error_prefix(err, "%s", key);
        return r;
}

/* token_audience, or https://<this host's FQDN> when it is empty (SPEC section 6). */
static char **token_audiences(const struct launch *l)
{
        if (l->cfg->token_audience && l->cfg->token_audience[0])
                return NULL;
        char fqdn[300] = "";
        struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *ai = NULL;
        if (!strchr(l->host, '.') && getaddrinfo(l->host, NULL, &hints, &ai) == 0 && ai &&
            ai->ai_canonname)
                snprintf(fqdn, sizeof(fqdn), "https://%s", ai->ai_canonname);
        else
                snprintf(fqdn, sizeof(fqdn), "https://%s", l->host);
        if (ai)
                freeaddrinfo(ai);
        char **v = gx_strv_split("", ',');
        if (v && gx_strv_push(&v, fqdn) < 0) {
                gx_strv_free(v);
                v = NULL;
        }
        return v;
}

static int verify_token(struct launch *l, const char *token_path, struct gx_error *err)
{
        int r = privs_read_caller_file(&l->caller, token_path, "token", CRED_TOKEN_MAX_BYTES + 64,
                                       &client_cred.buf, &client_cred.len, err);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **default_aud = token_audiences(l);
        struct cred_token_policy policy = {
                .issuers_file = l->cfg->token_issuers,
                .audiences = default_aud ? default_aud : l->cfg->token_audience,
                .accept_any_audience = l->cfg->token_accept_any_audience,
                .required_scopes = l->cfg->token_required_scopes,
                .clock_skew = l->cfg->token_clock_skew,
                .now = (int64_t)l->start_real.tv_sec,
        };
        r = cred_cache_verify_token(client_cred.buf, client_cred.len, &policy, &l->identity, err);
        if (r < 0) {
                wipe_client_cred();
                return r;
        }
        l->have_identity = true;
        return 0;
}

int credentials_verify(struct launch *l, const char *cert_path, const char *token_path,
                       struct gx_error *err)
{
        int r;
        if (!cert_path || !*cert_path) {
                if (token_path && *token_path)
                        return verify_token(l, token_path, err);
                return gx_fail(err, GX_CLIENT, 0,
                               "no credential: set GLEXEC_CLIENT_CERT to the payload's proxy or "
                               "GLEXEC_CLIENT_TOKEN to its token file");
        }
        r = check_trusted_dir("certdir", l->cfg->certdir, err);
        if (r < 0)
                return r;

        r = privs_read_caller_file(&l->caller, cert_path, "proxy", GX_CRED_MAX_BYTES,
                                   &client_cred.buf, &client_cred.len, err);
        if (r < 0)
                return r;
        gx_strlcpy(client_cred.path, cert_path, sizeof(client_cred.path));

        struct cred_x509_policy policy;
        x509_policy(l, &policy);
        r = cred_cache_verify_x509(client_cred.buf, client_cred.len, &policy, &l->identity, err);
        if (r < 0) {
                wipe_client_cred();
                return r;
        }
        l->have_identity = true;
        return 0;
}

static void map_config_from(const struct config *cfg, struct map_config *mc)
{
        *mc = (struct map_config){
                .gridmapfile = cfg->gridmapfile,
                .voms_gridmapfile = cfg->voms_gridmapfile,
                .groupmapfile = cfg->groupmapfile,
                .gridmapdir = cfg->gridmapdir,
                .token_mapfile = cfg->token_mapfile,
                .ban_file = cfg->ban_file,
                .allowed_executables = cfg->allowed_executables,
                .min_uid = cfg->min_uid,
        };
}

static void target_from_account(struct launch_target *t, const struct gx_account *a)
{
        gx_strlcpy(t->user, a->user, sizeof(t->user));
        t->uid = a->uid;
        t->gid = a->gid;
        t->n_groups = a->n_groups < PRIVS_MAX_GROUPS ? a->n_groups : PRIVS_MAX_GROUPS;
        memcpy(t->groups, a->groups, t->n_groups * sizeof(gid_t));
        gx_strlcpy(t->home, a->home, sizeof(t->home));
}

static void target_is_caller(struct launch *l)
{
        struct launch_target *t = &l->target;
        gx_strlcpy(t->user, l->caller.user, sizeof(t->user));
        t->uid = l->caller.uid;
        t->gid = l->caller.gid;
        t->n_groups = l->caller.n_groups;
        memcpy(t->groups, l->caller.groups, t->n_groups * sizeof(gid_t));
        gx_strlcpy(t->home, l->caller.home[0] ? l->caller.home : "/", sizeof(t->home));
}

int credentials_check_ban(struct launch *l, struct gx_error *err)
{
        struct map_config mc;
        map_config_from(l->cfg, &mc);
        return map_check_ban(&mc, &l->identity, err);
}

int credentials_authorize(struct launch *l, struct gx_error *err)
{
        struct map_config mc;
        struct gx_account account;
        int r;

        map_config_from(l->cfg, &mc);
        if (l->command_path[0]) {
                r = map_check_executable(&mc, l->command_path, err);
                if (r < 0)
                        return r;
        }
        switch (l->cfg->mode) {
        case GX_MODE_DECLARE_ONLY:
                target_is_caller(l);
                break;
        case GX_MODE_SITE_ISOLATION:
                r = map_account_by_name(l->cfg->isolation_account, l->cfg->min_uid, &account,
                                        err);
                if (r < 0) {
                        /* Not the credential's fault: the configured account is unusable. */
                        err->class = GX_SYSTEM;
                        err->public_msg[0] = '\0';
                        gx_error_prefix(err, "isolation_account");
                        return r;
                }
                target_from_account(&l->target, &account);
                break;
        case GX_MODE_MAPPING:
                r = map_resolve_account(&mc, &l->identity, &account, err);
                if (r < 0)
                        return r;
                target_from_account(&l->target, &account);
                break;
        }
        l->have_target = true;
        return 0;
}

/* GLEXEC_TARGET_PROXY: a name in the sandbox, or an absolute path inside it. */
static int target_proxy_name(const struct launch *l, const char *target, char *name, size_t n,
                             struct gx_error *err)
{
        if (!target || !*target) {
                snprintf(name, n, "x509up_u%u", (unsigned)l->target.uid);
                return 0;
        }
        const char *rel = target;
        size_t blen = strlen(l->sandbox);
        if (target[0] == '/') {
                if (strncmp(target, l->sandbox, blen) != 0 || target[blen] != '/')
                        return gx_fail(err, GX_CLIENT, 0,
                                       "GLEXEC_TARGET_PROXY must name a file in the sandbox");
                rel = target + blen + 1;
        }
        if (!*rel || strchr(rel, '/') || strcmp(rel, ".") == 0 || strcmp(rel, "..") == 0)
                return gx_fail(err, GX_CLIENT, 0,
                               "GLEXEC_TARGET_PROXY must be a plain file name in the sandbox");
        if (gx_strlcpy(name, rel, n) < 0)
                return gx_fail(err, GX_CLIENT, 0, "GLEXEC_TARGET_PROXY is too long");
        return 0;
}

static int load_source_proxy(struct launch *l, const char *source_path, char **ret_buf,
                             size_t *ret_len, struct gx_error *err)
{
        if (!source_path || !*source_path || strcmp(source_path, client_cred.path) == 0) {
                *ret_buf = client_cred.buf;
                *ret_len = client_cred.len;
                return 0;
        }
        /* A different file: it must be a proxy of the same, authorized identity. */
        int r = privs_read_caller_file(&l->caller, source_path, "source proxy", GX_CRED_MAX_BYTES,
                                       ret_buf, ret_len, err);
        if (r < 0)
                return r;
        struct cred_x509_policy policy;
        struct gx_identity other;
        x509_policy(l, &policy);
        policy.require_private_key = true;
        r = cred_cache_verify_x509(*ret_buf, *ret_len, &policy, &other, err);
        if (r == 0 && (strcmp(other.dn, l->identity.dn) != 0 ||
                       strcmp(other.issuer, l->identity.issuer) != 0))
                r = gx_fail_public(err, GX_AUTHZ, 0,
                                   "not authorized: GLEXEC_SOURCE_PROXY is not the same identity",
                                   "GLEXEC_SOURCE_PROXY belongs to another identity");
        if (r < 0) {
                OPENSSL_cleanse(*ret_buf, *ret_len);
                free(*ret_buf);
                *ret_buf = NULL;
        }
        return r;
}

static int write_private_copy(const struct launch *l, int sandbox_fd, const char *name,
                              const char *buf, size_t len, struct gx_error *err)
{
        int fd = openat(sandbox_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "writing the payload's credential");
        int r = 0;
        if (fchown(fd, l->target.uid, l->target.gid) < 0 || fchmod(fd, 0600) < 0 ||
            gx_write_full(fd, buf, len) < 0)
                r = gx_fail(err, GX_SYSTEM, errno, "writing the payload's credential");
        close(fd);
        return r;
}

static int deliver_proxy(struct launch *l, int sandbox_fd, const char *source_path,
                         const char *target_name, char *path_buf, size_t path_size,
                         const char **ret_proxy, struct gx_error *err)
{
        char name[NAME_MAX + 1];
        char *buf = NULL;
        size_t len = 0;

        if (target_name && strcmp(target_name, "/dev/null") == 0)
                return 0;
        int r = target_proxy_name(l, target_name, name, sizeof(name), err);
        if (r == 0)
                r = load_source_proxy(l, source_path, &buf, &len, err);
        if (r == 0)
                r = write_private_copy(l, sandbox_fd, name, buf, len, err);
        if (r == 0) {
                snprintf(path_buf, path_size, "%s/%s", l->sandbox, name);
                *ret_proxy = path_buf;
        }
        if (buf && buf != client_cred.buf) {
                OPENSSL_cleanse(buf, len);
                free(buf);
        }
        return r;
}

int credentials_deliver(struct launch *l, int sandbox_fd, const char *source_path,
                        const char *target_name, char *proxy_buf, size_t proxy_size,
                        const char **ret_proxy, char *token_buf, size_t token_size,
                        const char **ret_token, struct gx_error *err)
{
        int r = 0;
        *ret_proxy = NULL;
        *ret_token = NULL;
        if (l->identity.kind == GX_CRED_X509) {
                r = deliver_proxy(l, sandbox_fd, source_path, target_name, proxy_buf,
                                  proxy_size, ret_proxy, err);
        } else if (l->identity.kind == GX_CRED_TOKEN && client_cred.buf) {
                /* The payload's own copy; the caller's path never reaches it. */
                r = write_private_copy(l, sandbox_fd, "bearer_token", client_cred.buf,
                                       client_cred.len, err);
                if (r == 0) {
                        snprintf(token_buf, token_size, "%s/bearer_token", l->sandbox);
                        *ret_token = token_buf;
                }
        }
        wipe_client_cred();
        return r;
}

static int check_item(FILE *out, const char *what, int r, const struct gx_error *err)
{
        if (r < 0)
                fprintf(out, "%s: %s\n", what, err->msg);
        return r < 0 ? 1 : 0;
}

static void print_problem(const char *key, const struct gx_error *err, void *userdata)
{
        check_item(userdata, key, -1, err);
}

int credentials_check_config(const struct config *cfg, FILE *out)
{
        struct gx_error err = {0};
        int problems = 0;

        problems += check_item(out, "certdir", trusted_dir_ok(cfg->certdir, &err), &err);
        if (cfg->vomsdir && cfg->vomsdir[0] && access(cfg->vomsdir, F_OK) == 0)
                problems += check_item(out, "vomsdir", trusted_dir_ok(cfg->vomsdir, &err), &err);
        problems += check_item(out, "sandbox_base", trusted_dir_ok(cfg->sandbox_base, &err),
                               &err);
        struct map_config mc;
        map_config_from(cfg, &mc);
        problems += (int)map_check_config(&mc, cfg->mode == GX_MODE_MAPPING, print_problem, out);
        if (cfg->mode == GX_MODE_MAPPING) {
                problems += check_item(out, "gridmapdir", trusted_dir_ok(cfg->gridmapdir, &err),
                                       &err);
        }
        if (cfg->mode == GX_MODE_SITE_ISOLATION) {
                struct gx_account a;
                problems += check_item(out, "isolation_account",
                                       map_account_by_name(cfg->isolation_account, cfg->min_uid,
                                                           &a, &err),
                                       &err);
        }
        struct sc_filter filter = {0};
        problems += check_item(out, "seccomp_profile",
                               sc_profile_compile_file(cfg->seccomp_profile, &filter, &err), &err);
        sc_filter_free(&filter);
        /* Optional: a site without tokens has no issuers file at the default path. */
        if (cfg->token_issuers && cfg->token_issuers[0] &&
            access(cfg->token_issuers, F_OK) == 0) {
                int n = verifier_check_issuers(cfg->token_issuers, &err);
                problems += check_item(out, "token_issuers", n, &err);
        }
        if (cfg->audit_log && cfg->audit_log[0])
                problems += check_item(out, "audit_log", audit_check_log(cfg->audit_log, &err),
                                       &err);
        if (problems == 0)
                fprintf(out, "configuration OK\n");
        return problems ? -EINVAL : 0;
}
