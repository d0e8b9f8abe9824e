#include "credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/strutil.h"
#include "mapping/credential.h"
#include "mapping/policy.h"

/* The verified proxy, kept until it is copied into the sandbox, then wiped: a process forked
 * from us must not inherit the private key (DESIGN.md, process model). */
static struct {
        char *buf;
        size_t len;
        char path[PATH_MAX];
} client_proxy;

static void wipe_client_proxy(void)
{
        if (client_proxy.buf) {
                OPENSSL_cleanse(client_proxy.buf, client_proxy.len);
                free(client_proxy.buf);
                client_proxy.buf = NULL;
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

static int check_trusted_dir(const char *key, const char *path, struct gx_error *err)
{
        int fd = gx_open_trusted_dir(path, err);
        if (fd < 0) {
                gx_error_prefix(err, "%s", key);
                return fd;
        }
        close(fd);
        return 0;
}

int credentials_verify(struct launch *l, const char *cert_path, const char *token_path,
                       struct gx_error *err)
{
        int r;
        if (!cert_path || !*cert_path) {
                if (token_path && *token_path)
                        return gx_fail(err, GX_CLIENT, 0,
                                       "GLEXEC_CLIENT_TOKEN is not supported by this build");
                return gx_fail(err, GX_CLIENT, 0,
                               "no credential: set GLEXEC_CLIENT_CERT to the payload's proxy");
        }
        r = check_trusted_dir("certdir", l->cfg->certdir, err);
        if (r < 0)
                return r;

        r = privs_read_caller_file(&l->caller, cert_path, "proxy", GX_CRED_MAX_BYTES,
                                   &client_proxy.buf, &client_proxy.len, err);
        if (r < 0)
                return r;
        gx_strlcpy(client_proxy.path, cert_path, sizeof(client_proxy.path));

        struct cred_x509_policy policy;
        x509_policy(l, &policy);
        r = cred_x509_verify(client_proxy.buf, client_proxy.len, &policy, &l->identity, err);
        if (r < 0) {
                wipe_client_proxy();
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

int credentials_authorize(struct launch *l, struct gx_error *err)
{
        struct map_config mc;
        struct gx_account account;
        int r;

        map_config_from(l->cfg, &mc);
        r = map_check_ban(&mc, &l->identity, err);
        if (r < 0)
                return r;
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
                if (r < 0)
                        return r;
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
        if (!source_path || !*source_path || strcmp(source_path, client_proxy.path) == 0) {
                *ret_buf = client_proxy.buf;
                *ret_len = client_proxy.len;
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
        r = cred_x509_verify(*ret_buf, *ret_len, &policy, &other, err);
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

int credentials_deliver(struct launch *l, int sandbox_fd, const char *source_path,
                        const char *target_name, char *path_buf, size_t path_size,
                        const char **ret_proxy, struct gx_error *err)
{
        char name[NAME_MAX + 1];
        char *buf = NULL;
        size_t len = 0;
        int r = 0;

        *ret_proxy = NULL;
        if (l->identity.kind != GX_CRED_X509 || (target_name && strcmp(target_name, "/dev/null") == 0))
                goto out;
        r = target_proxy_name(l, target_name, name, sizeof(name), err);
        if (r < 0)
                goto out;
        r = load_source_proxy(l, source_path, &buf, &len, err);
        if (r < 0)
                goto out;

        int fd = openat(sandbox_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        if (fd < 0) {
                r = gx_fail(err, GX_SYSTEM, errno, "writing the payload's proxy");
                goto out;
        }
        if (fchown(fd, l->target.uid, l->target.gid) < 0 || fchmod(fd, 0600) < 0 ||
            gx_write_full(fd, buf, len) < 0)
                r = gx_fail(err, GX_SYSTEM, errno, "writing the payload's proxy");
        close(fd);
        if (r == 0) {
                snprintf(path_buf, path_size, "%s/%s", l->sandbox, name);
                *ret_proxy = path_buf;
        }
out:
        if (buf && buf != client_proxy.buf) {
                OPENSSL_cleanse(buf, len);
                free(buf);
        }
        wipe_client_proxy();
        return r;
}

static int check_item(FILE *out, const char *what, int r, const struct gx_error *err)
{
        if (r < 0)
                fprintf(out, "%s: %s\n", what, err->msg);
        return r < 0 ? 1 : 0;
}

int credentials_check_config(const struct config *cfg, FILE *out)
{
        struct gx_error err = {0};
        int problems = 0;

        problems += check_item(out, "certdir", check_trusted_dir("certdir", cfg->certdir, &err),
                               &err);
        problems += check_item(out, "sandbox_base",
                               check_trusted_dir("sandbox_base", cfg->sandbox_base, &err), &err);
        if (cfg->ban_file && cfg->ban_file[0]) {
                int fd = gx_open_trusted(cfg->ban_file, O_RDONLY, &err);
                problems += check_item(out, "ban_file", fd, &err);
                safe_close(fd);
        }
        if (cfg->mode == GX_MODE_MAPPING) {
                problems += check_item(out, "gridmapdir",
                                       check_trusted_dir("gridmapdir", cfg->gridmapdir, &err),
                                       &err);
        }
        if (cfg->mode == GX_MODE_SITE_ISOLATION) {
                struct gx_account a;
                problems += check_item(out, "isolation_account",
                                       map_account_by_name(cfg->isolation_account, cfg->min_uid,
                                                           &a, &err),
                                       &err);
        }
        if (problems == 0)
                fprintf(out, "configuration OK\n");
        return problems ? -EINVAL : 0;
}
