/* glexec-verify: the credential verifier that glexec starts for a credential it has not
 * verified before (verifier.h). Not setuid; started by glexec with euid root and the caller's
 * real ids, no environment, the request on stdin and the reply expected on stdout. It drops to
 * the caller's ids before it reads anything, answers once and exits 0; any other exit means
 * that it could not answer. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/macro.h"
#include "mapping/credential.h"
#include "mapping/token.h"
#include "verifier-wire.h"

#ifndef VERIFY_SECCOMP_DEFAULT
#define VERIFY_SECCOMP_DEFAULT SCMP_ACT_KILL_PROCESS
#endif

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

/* From here on only what reading trust files and verifying needs: reading files (opened
 * read-only), memory, time, randomness, writing to stdout and stderr, exiting. Anything else
 * kills us, so that a parser exploit gets no further than the caller's own uid already allows
 * minus the network, exec, ptrace, writes to files and the rest. */
static int confine(void)
{
        static const int allowed[] = {
                SCMP_SYS(read),          SCMP_SYS(pread64),      SCMP_SYS(lseek),
                SCMP_SYS(close),         SCMP_SYS(fstat),        SCMP_SYS(newfstatat),
                SCMP_SYS(statx),         SCMP_SYS(getdents64),   SCMP_SYS(fcntl),
                SCMP_SYS(readlinkat),    SCMP_SYS(mmap),         SCMP_SYS(munmap),
                SCMP_SYS(mremap),        SCMP_SYS(mprotect),     SCMP_SYS(brk),
                SCMP_SYS(madvise),       SCMP_SYS(futex),        SCMP_SYS(clock_gettime),
                SCMP_SYS(gettimeofday),  SCMP_SYS(time),         SCMP_SYS(getrandom),
                SCMP_SYS(rt_sigprocmask), SCMP_SYS(getpid),      SCMP_SYS(gettid),
                SCMP_SYS(exit),          SCMP_SYS(exit_group),
        };
        scmp_filter_ctx ctx = seccomp_init(VERIFY_SECCOMP_DEFAULT);
        int r = ctx ? 0 : -ENOMEM;
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(allowed); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
        /* Files only for reading; writes only to the reply (stdout) and stderr. */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ,
                                             O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
                                     SCMP_A0(SCMP_CMP_LE, 2));
        if (r == 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
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
        struct verify_request req;
        struct verify_reply *out = calloc(1, sizeof(*out));
        if (!out || gx_read_all(0, VERIFY_REQUEST_MAX, &buf, &len) < 0 || confine() < 0 ||
            verify_request_decode(buf, len, &req) < 0)
                return 2;
        memcpy(out->magic, verify_reply_magic, sizeof(out->magic));
        switch (req.op) {
        case VERIFY_X509:
                out->result = cred_x509_verify(req.credential, req.credential_len, &req.x509,
                                               &out->id, &out->use, &out->err);
                break;
        case VERIFY_TOKEN:
                out->result = cred_token_verify(req.credential, req.credential_len, &req.token,
                                                &out->id, out->jwks_used, &out->err);
                break;
        case VERIFY_CHECK_ISSUERS:
                out->result = cred_token_check_issuers(req.token.issuers_file, &out->err);
                break;
        }
        /* The credential's private key goes before anything else happens. */
        explicit_bzero(buf, len);
        verify_request_free(&req);
        return gx_write_full(1, out, sizeof(*out)) < 0 ? 2 : 0;
}
