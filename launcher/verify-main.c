/* glexec-verify: the credential verifier that glexec starts for a credential it has not
 * verified before (verifier.h). Not setuid; started by glexec with euid root and the caller's
 * real ids, no environment, the request on stdin and the reply expected on stdout. It drops to
 * the caller's ids before it reads anything, answers once and exits 0; any other exit means
 * that it could not answer. */
#include <errno.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/macro.h"
#include "mapping/credential.h"
#include "mapping/token.h"
#include "verifier-wire.h"

/* The caller's ids, for good: no supplementary groups, no way back to root, no privilege
 * from a later exec. glexec exec'd us with euid 0 and another real uid, so the kernel already
 * made us undumpable (the caller cannot trace us); the uid change would too, and
 * PR_SET_DUMPABLE says it outright. The site's trust files are public data (CA certificates,
 * CRLs, .lsc files, issuers and JWKS files) and readable by the caller. */
static int drop_to_caller(void)
{
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (geteuid() == 0 && uid != 0) {
                if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
                    setresuid(uid, uid, uid) < 0)
                        return -1;
                if (setuid(0) == 0 || seteuid(0) == 0)
                        return -1;
        }
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return 0;
}

static int verify_x509(struct wire_reader *in, struct verify_reply *out)
{
        /* One statement per field: the order of an initializer list's evaluations is
         * unspecified in C, and it must be the order glexec wrote them in. */
        struct cred_x509_policy p = {0};
        p.certdir = wire_get_str(in);
        p.vomsdir = wire_get_str(in);
        p.host_fqdn = wire_get_str(in);
        p.now = (int64_t)wire_get_u64(in);
        p.min_lifetime = wire_get_u64(in);
        p.require_private_key = wire_get_u64(in) != 0;
        p.allow_limited = wire_get_u64(in) != 0;
        p.allow_legacy = wire_get_u64(in) != 0;
        p.check_crls = wire_get_u64(in) != 0;
        size_t len;
        const char *pem = wire_get_bytes(in, &len);
        if (in->failed || in->left)
                return -1;
        out->result = cred_x509_verify(pem, len, &p, &out->id, &out->use, &out->err);
        return 0;
}

static int verify_token(struct wire_reader *in, struct verify_reply *out)
{
        struct cred_token_policy p = {0};
        p.issuers_file = wire_get_str(in);
        _cleanup_free_ char **audiences = wire_get_strv(in);
        p.audiences = audiences;
        p.accept_any_audience = wire_get_u64(in) != 0;
        _cleanup_free_ char **scopes = wire_get_strv(in);
        p.required_scopes = scopes;
        p.clock_skew = wire_get_u64(in);
        p.now = (int64_t)wire_get_u64(in);
        size_t len;
        const char *token = wire_get_bytes(in, &len);
        if (in->failed || in->left)
                return -1;
        out->result = cred_token_verify(token, len, &p, &out->id, out->jwks_used, &out->err);
        return 0;
}

static int check_issuers(struct wire_reader *in, struct verify_reply *out)
{
        const char *issuers_file = wire_get_str(in);
        if (in->failed || in->left || !issuers_file)
                return -1;
        out->result = cred_token_check_issuers(issuers_file, &out->err);
        return 0;
}

int main(void)
{
        if (drop_to_caller() < 0)
                return 2;
        /* No openssl.cnf: it is not ours to trust in a program a setuid one started, and
         * reading it costs. Neither OpenSSL's error strings nor its legacy cipher table are
         * used, and loading them costs about half a millisecond (bench/RESULTS.md); the
         * digest table stays, since certificate checks look digests up by NID. */
        OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT |
                                    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
                                    OPENSSL_INIT_NO_ADD_ALL_CIPHERS,
                            NULL);
        char *buf = NULL;
        size_t len = 0;
        if (gx_read_all(0, VERIFY_REQUEST_MAX, &buf, &len) < 0)
                return 2;
        struct verify_reply *out = calloc(1, sizeof(*out));
        if (!out)
                return 2;
        memcpy(out->magic, verify_reply_magic, sizeof(out->magic));
        struct wire_reader in = {.p = buf, .left = len};
        int r = -1;
        switch (wire_get_u64(&in)) {
        case VERIFY_X509:
                r = verify_x509(&in, out);
                break;
        case VERIFY_TOKEN:
                r = verify_token(&in, out);
                break;
        case VERIFY_CHECK_ISSUERS:
                r = check_issuers(&in, out);
                break;
        }
        /* The credential's private key goes before anything else happens. */
        explicit_bzero(buf, len);
        if (r < 0 || gx_write_full(1, out, sizeof(*out)) < 0)
                return 2;
        return 0;
}
