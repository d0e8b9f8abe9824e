#include "verifier.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/macro.h"
#include "verifier-wire.h"

/* Start the verifier on an open pipe pair: its stdin is req_fd, its stdout reply_fd. */
static pid_t spawn(int exe_fd, int req_fd, int reply_fd, struct gx_error *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return gx_fail(err, GX_SYSTEM, errno, "credential verifier: fork");
        if (pid == 0) {
                /* 0-2 are always open in glexec (main.c), so both pipe ends are above 2 and
                 * dup2() leaves them close-on-exec. The verifier gets no environment: it reads
                 * everything it needs from the request. */
                static char name[] = "glexec-verify";
                static char *const argv[] = {name, NULL};
                static char *const envp[] = {NULL};
                if (dup2(req_fd, 0) == 0 && dup2(reply_fd, 1) == 1)
                        execveat(exe_fd, "", argv, envp, AT_EMPTY_PATH);
                _exit(127);
        }
        return pid;
}

/* Send the request to a new verifier, collect its reply and its exit. */
static int run(const char *req, size_t req_len, enum verify_op op, struct verify_reply *reply,
               struct gx_error *err)
{
        _cleanup_close_ int exe = gx_open_trusted(VERIFIER_PATH, O_PATH, err);
        if (exe < 0) {
                gx_error_prefix(err, "credential verifier");
                return exe;
        }
        int p[2][2];
        int r = gx_pipes(p, 2);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "credential verifier: pipe");
        int to = p[0][1], from = p[1][0];
        pid_t pid = spawn(exe, p[0][0], p[1][1], err);
        close(p[0][0]);
        close(p[1][1]);
        if (pid < 0) {
                close(to);
                close(from);
                return pid;
        }
        /* The verifier reads the whole request before it answers, so writing all of it first
         * cannot deadlock. A verifier that died early makes the write fail (SIGPIPE is
         * ignored in glexec) and its missing reply says so. */
        (void)gx_write_full(to, req, req_len);
        close(to);
        ssize_t n = gx_read_full(from, reply, sizeof(*reply));
        char extra;
        bool more = n == (ssize_t)sizeof(*reply) && gx_read_full(from, &extra, 1) != 0;
        close(from);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return gx_fail(err, GX_SYSTEM, 0, "credential verifier %s %d",
                               WIFSIGNALED(status) ? "killed by signal" : "exited with status",
                               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        if (n != (ssize_t)sizeof(*reply) || more)
                return gx_fail(err, GX_SYSTEM, 0, "credential verifier answered %zd bytes",
                               n);
        return verify_reply_check(reply, op, err);
}

/* Ask the verifier; on an answer of 0 or more, *ret_reply is the malloc'd reply. */
static int ask(const struct verify_request *req, struct verify_reply **ret_reply,
               struct gx_error *err)
{
        char *buf = NULL;
        size_t len = 0;
        struct verify_reply *reply = malloc(sizeof(*reply));
        int r = !reply || verify_request_encode(req, &buf, &len) < 0
                        ? gx_fail(err, GX_SYSTEM, ENOMEM, "credential verifier")
                        : run(buf, len, req->op, reply, err);
        verify_request_wipe(buf, len); /* it holds the credential */
        if (r < 0) {
                free(reply);
                return r;
        }
        *ret_reply = reply;
        return reply->result;
}

int verifier_x509(const char *pem, size_t len, const struct cred_x509_policy *policy,
                  struct gx_identity *ret, struct cred_trust_use *use, struct gx_error *err)
{
        const struct verify_request req = {
                .op = VERIFY_X509, .x509 = *policy, .credential = pem, .credential_len = len};
        _cleanup_free_ struct verify_reply *reply = NULL;
        int r = ask(&req, &reply, err);
        if (r < 0)
                return r;
        *ret = reply->id;
        if (use)
                *use = reply->use;
        return 0;
}

int verifier_token(const char *token, size_t len, const struct cred_token_policy *policy,
                   struct gx_identity *ret, char *jwks_used, struct gx_error *err)
{
        const struct verify_request req = {
                .op = VERIFY_TOKEN, .token = *policy, .credential = token, .credential_len = len};
        _cleanup_free_ struct verify_reply *reply = NULL;
        int r = ask(&req, &reply, err);
        if (r < 0)
                return r;
        *ret = reply->id;
        if (jwks_used)
                memcpy(jwks_used, reply->jwks_used, PATH_MAX);
        return 0;
}

int verifier_check_issuers(const char *issuers_file, struct gx_error *err)
{
        const struct verify_request req = {.op = VERIFY_CHECK_ISSUERS,
                                           .token = {.issuers_file = issuers_file}};
        _cleanup_free_ struct verify_reply *reply = NULL;
        return ask(&req, &reply, err);
}
