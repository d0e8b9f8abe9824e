#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/sha256.h"
#include "common/strutil.h"
#include "log.h"
#include "mapping/describe.h"

/* Bound the record so the chain can always be followed from a fixed-size tail. */
#define AUDIT_MAX_COMMAND_TEXT (64 * 1024)
#define AUDIT_TAIL_READ (256 * 1024)
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static void add_string(struct json_object *o, const char *key, const char *value)
{
        json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

static struct json_object *string_array(const char (*items)[GX_FQAN_MAX], size_t n,
                                        bool fqans)
{
        struct json_object *a = json_object_new_array();
        char shown[FQAN_DISPLAY_MAX];
        for (size_t i = 0; i < n; i++) {
                const char *item = items[i];
                if (fqans) {
                        fqan_display(items[i], shown, sizeof(shown));
                        item = shown;
                }
                json_object_array_add(a, json_object_new_string(item));
        }
        return a;
}

static struct json_object *gid_array(const gid_t *gids, size_t n)
{
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, json_object_new_int64(gids[i]));
        return a;
}

/* Every key of SPEC section 8 is there for either kind of credential, null (or no FQANs)
 * where the other kind has it, so that readers need not guess which keys exist. */
static struct json_object *identity_json(const struct gx_identity *id)
{
        struct json_object *o = json_object_new_object();
        bool x509 = id->kind == GX_CRED_X509;
        add_string(o, "dn", x509 ? id->dn : NULL);
        add_string(o, "issuer", x509 ? id->issuer : NULL);
        json_object_object_add(o, "fqans", string_array(id->fqans, x509 ? id->n_fqans : 0, true));
        struct json_object *t = NULL;
        if (id->kind == GX_CRED_TOKEN) {
                t = json_object_new_object();
                add_string(t, "iss", id->token_iss);
                add_string(t, "sub", id->token_sub);
                json_object_object_add(t, "groups",
                                       string_array(id->token_groups, id->n_token_groups, false));
        }
        json_object_object_add(o, "token", t);
        return o;
}

static struct json_object *command_json(const struct launch *l)
{
        struct json_object *a = json_object_new_array();
        size_t total = 0;
        for (int i = 0; i < l->req.n_command; i++) {
                const char *arg = i == 0 && l->command_shown[0] ? l->command_shown
                                                                : l->req.command[i];
                total += strlen(arg);
                if (total > AUDIT_MAX_COMMAND_TEXT) {
                        json_object_array_add(a, json_object_new_string("...(truncated)"));
                        break;
                }
                json_object_array_add(a, json_object_new_string(arg));
        }
        return a;
}

static void format_time(const struct timespec *ts, char *buf, size_t n)
{
        struct tm tm;
        char base[32];
        gmtime_r(&ts->tv_sec, &tm);
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, n, "%s.%03ldZ", base, ts->tv_nsec / 1000000);
}

static struct json_object *result_json(const struct launch_result *r)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "status", json_object_new_int(r->status));
        json_object_object_add(o, "exit_code",
                               r->signal ? NULL : json_object_new_int(r->exit_code));
        json_object_object_add(o, "signal", r->signal ? json_object_new_int(r->signal) : NULL);
        json_object_object_add(o, "oom_killed", json_object_new_boolean(r->oom_killed));
        json_object_object_add(o, "walltime_killed",
                               json_object_new_boolean(r->walltime_killed));
        json_object_object_add(o, "wall_seconds", json_object_new_double(r->wall_seconds));
        json_object_object_add(o, "cpu_user_seconds",
                               json_object_new_double(r->cpu_user_seconds));
        json_object_object_add(o, "cpu_system_seconds",
                               json_object_new_double(r->cpu_system_seconds));
        json_object_object_add(o, "memory_peak_bytes",
                               r->memory_peak_bytes >= 0
                                       ? json_object_new_int64(r->memory_peak_bytes)
                                       : NULL);
        json_object_object_add(o, "pids_peak",
                               r->pids_peak >= 0 ? json_object_new_int64(r->pids_peak) : NULL);
        return o;
}

struct json_object *audit_build_record(const struct launch *l)
{
        struct json_object *o = json_object_new_object();
        char time_text[48];

        format_time(&l->start_real, time_text, sizeof(time_text));
        json_object_object_add(o, "version", json_object_new_int(1));
        add_string(o, "time", time_text);
        add_string(o, "host", l->host);
        add_string(o, "id", l->id);
        add_string(o, "mode", config_mode_name(l->cfg->mode));

        struct json_object *caller = json_object_new_object();
        json_object_object_add(caller, "uid", json_object_new_int64(l->caller.uid));
        add_string(caller, "user", l->caller.user[0] ? l->caller.user : NULL);
        json_object_object_add(caller, "pid", json_object_new_int64(l->caller.pid));
        json_object_object_add(o, "caller", caller);

        json_object_object_add(o, "identity",
                               l->have_identity ? identity_json(&l->identity) : NULL);

        if (l->have_target) {
                struct json_object *t = json_object_new_object();
                add_string(t, "user", l->target.user);
                json_object_object_add(t, "uid", json_object_new_int64(l->target.uid));
                json_object_object_add(t, "gid", json_object_new_int64(l->target.gid));
                json_object_object_add(t, "groups",
                                       gid_array(l->target.groups, l->target.n_groups));
                json_object_object_add(o, "target", t);
        } else {
                json_object_object_add(o, "target", NULL);
        }

        json_object_object_add(o, "command", command_json(l));
        add_string(o, "sandbox", l->sandbox[0] ? l->sandbox : NULL);
        add_string(o, "cgroup", l->cgroup[0] ? l->cgroup : NULL);
        json_object_object_add(o, "result", l->have_result ? result_json(&l->result) : NULL);
        return o;
}

static const int json_flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

int audit_chain_line(const char *record_text, char **ret_line, struct gx_error *err)
{
        size_t len = strlen(record_text);

        if (len < 2 || record_text[len - 1] != '}')
                return gx_fail(err, GX_SYSTEM, 0, "audit record is not a JSON object");
        char hex[65];
        gx_sha256_hex(record_text, len, hex);
        char *line;
        if (asprintf(&line, "%.*s,\"hash\":\"%s\"}\n", (int)(len - 1), record_text, hex) < 0)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "audit record");
        *ret_line = line;
        return 0;
}

/* The last line of tail, the end of a log: [*ret_start, returned end), trailing newlines
 * left out. *ret_start is 0 when no newline precedes it, so that tail may hold only the end
 * of a longer line. */
static size_t last_line(const char *tail, size_t len, size_t *ret_start)
{
        while (len > 0 && tail[len - 1] == '\n')
                len--;
        size_t start = len;
        while (start > 0 && tail[start - 1] != '\n')
                start--;
        *ret_start = start;
        return len;
}

void audit_last_hash(const char *tail, size_t len, char ret_hash[65])
{
        size_t start;
        len = last_line(tail, len, &start);
        if (len == 0) {
                memcpy(ret_hash, ZERO_HASH, 65);
                return;
        }
        const char *line = tail + start;
        size_t line_len = len - start;

        struct json_tokener *tok = json_tokener_new();
        struct json_object *o = tok ? json_tokener_parse_ex(tok, line, (int)line_len) : NULL;
        struct json_object *h;
        const char *hash = NULL;
        if (o && json_object_object_get_ex(o, "hash", &h) && json_object_is_type(h, json_type_string))
                hash = json_object_get_string(h);
        if (hash && strlen(hash) == 64 && strspn(hash, "0123456789abcdef") == 64)
                memcpy(ret_hash, hash, 65);
        else
                /* A damaged last line (a crash mid-write, or tampering): chain to its bytes so
                 * the break stays visible to a verifier instead of being papered over. */
                gx_sha256_hex(line, line_len, ret_hash);
        json_object_put(o);
        if (tok)
                json_tokener_free(tok);
}

/* The audit log's directory, trusted along its whole path, and the log's name in it. */
static int open_log_dir(const char *path, char name[NAME_MAX + 1], struct gx_error *err)
{
        char dir[PATH_MAX];
        if (gx_strlcpy(dir, path, sizeof(dir)) < 0)
                return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "audit_log");
        char *slash = strrchr(dir, '/');
        if (!slash || !slash[1])
                return gx_fail(err, GX_SYSTEM, EINVAL, "audit_log %s", path);
        if (gx_strlcpy(name, slash + 1, NAME_MAX + 1) < 0)
                return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "audit_log");
        if (slash == dir)
                slash[1] = '\0';
        else
                *slash = '\0';
        return gx_open_trusted_dir(dir, err);
}

static int check_log_stat(const char *path, const struct stat *st, struct gx_error *err)
{
        if (!S_ISREG(st->st_mode) || !gx_stat_is_trusted(st) || st->st_uid != geteuid())
                return gx_fail(err, GX_SYSTEM, 0,
                               "audit log %s is not a regular file owned by root and writable "
                               "only by it",
                               path);
        return 0;
}

static int open_audit_log(const char *path, struct gx_error *err)
{
        char name[NAME_MAX + 1];
        _cleanup_close_ int dfd = open_log_dir(path, name, err);
        if (dfd < 0)
                return dfd;
        /* Read-write: the last record's hash is read back through the same locked fd. */
        int fd = openat(dfd, name,
                        O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "cannot open audit log %s", path);
        struct stat st;
        int r = fstat(fd, &st) < 0 ? gx_fail(err, GX_SYSTEM, errno, "audit log %s", path)
                                   : check_log_stat(path, &st, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int audit_check_log(const char *path, struct gx_error *err)
{
        char name[NAME_MAX + 1];
        _cleanup_close_ int dfd = open_log_dir(path, name, err);
        if (dfd < 0)
                return dfd;
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : gx_fail(err, GX_SYSTEM, errno, "audit log %s", path);
        return check_log_stat(path, &st, err);
}

static int append_chained(int fd, const char *record_text, struct gx_error *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "audit log");

        /* A record is a few kB: read that much of the tail first, more only when it does not
         * hold the whole last line. */
        size_t max = st.st_size > AUDIT_TAIL_READ ? AUDIT_TAIL_READ : (size_t)st.st_size;
        _cleanup_free_ char *tail = malloc(max + 1);
        if (!tail)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "audit log");
        ssize_t got = 0;
        size_t want = max < 8192 ? max : 8192;
        while (want > 0) {
                got = pread(fd, tail, want, st.st_size - (off_t)want);
                if (got < 0)
                        return gx_fail(err, GX_SYSTEM, errno, "reading audit log");
                size_t start;
                last_line(tail, (size_t)got, &start);
                if (start > 0 || want == max)
                        break;
                want = want * 8 < max ? want * 8 : max;
        }
        char prev[65];
        audit_last_hash(tail, (size_t)got, prev);
        bool needs_newline = got > 0 && tail[got - 1] != '\n';

        /* Insert "prev" as the last member before hashing. */
        _cleanup_free_ char *with_prev = NULL;
        size_t len = strlen(record_text);
        if (asprintf(&with_prev, "%.*s,\"prev\":\"%s\"}", (int)(len - 1), record_text, prev) < 0)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "audit record");
        _cleanup_free_ char *line = NULL;
        int r = audit_chain_line(with_prev, &line, err);
        if (r < 0)
                return r;
        if (needs_newline && gx_write_full(fd, "\n", 1) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "writing audit log");
        r = gx_write_full(fd, line, strlen(line));
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "writing audit log");
        return 0;
}

static void syslog_event(const struct launch *l, const char *event, const char *reason)
{
        char who[1400], cmd[1100], shown[512], exe[512], user[128];
        if (l->have_identity)
                identity_describe(&l->identity, who, sizeof(who));
        else
                snprintf(who, sizeof(who), "no verified credential");
        const char *named = l->command_shown[0] ? l->command_shown
                            : l->req.n_command > 0 ? l->req.command[0]
                                                   : "";
        gx_escape(shown, sizeof(shown), named);
        if (l->command_path[0] && strcmp(l->command_path, named) != 0) {
                gx_escape(exe, sizeof(exe), l->command_path);
                snprintf(cmd, sizeof(cmd), "%s\" executable \"%s", shown, exe);
        } else {
                snprintf(cmd, sizeof(cmd), "%s", shown);
        }
        gx_escape(user, sizeof(user), l->caller.user);

        if (strcmp(event, "start") == 0) {
                log_msg(LOG_LVL_NOTICE, "%s: %s: caller %s(%u) %s -> %s(%u) command \"%s\"", l->id,
                        event, user, (unsigned)l->caller.uid, who, l->target.user,
                        (unsigned)l->target.uid, cmd);
        } else if (strcmp(event, "end") == 0 && !l->have_result) {
                /* Nothing ran, or nothing that can be accounted: the reason, no status. */
                char esc[600];
                gx_escape(esc, sizeof(esc), reason ? reason : "");
                log_msg(LOG_LVL_NOTICE, "%s: end: no result: %s", l->id, esc);
        } else if (strcmp(event, "end") == 0) {
                log_msg(LOG_LVL_NOTICE,
                        "%s: end: status %d%s%s, wall %.3f s, cpu user %.3f s system %.3f s",
                        l->id, l->result.status, l->result.oom_killed ? ", oom-killed" : "",
                        l->result.walltime_killed ? ", wall time exceeded" : "",
                        l->result.wall_seconds, l->result.cpu_user_seconds,
                        l->result.cpu_system_seconds);
        } else {
                char esc[600];
                gx_escape(esc, sizeof(esc), reason ? reason : "");
                log_msg(LOG_LVL_NOTICE, "%s: deny: caller %s(%u) %s: %s", l->id, user,
                        (unsigned)l->caller.uid, who, esc);
        }
}

int audit_append(struct audit_log *log, const struct launch *l, const char *event,
                 const char *reason, struct gx_error *err)
{
        syslog_event(l, event, reason);
        if (!l->cfg->audit_log || !l->cfg->audit_log[0])
                return 0;

        struct json_object *o = audit_build_record(l);
        json_object_object_add(o, "event", json_object_new_string(event));
        if (reason)
                json_object_object_add(o, "reason", json_object_new_string(reason));
        const char *text = json_object_to_json_string_ext(o, json_flags);

        int r = 0;
        if (log->fd < 0)
                r = log->fd = open_audit_log(l->cfg->audit_log, err);
        if (r < 0)
                goto out;
        /* One writer at a time: concurrent launches must neither interleave lines nor both
         * chain to the same predecessor. The lock goes with the line written. */
        while (flock(log->fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        r = gx_fail(err, GX_SYSTEM, errno, "locking audit log");
                        goto out;
                }
        }
        r = append_chained(log->fd, text, err);
        flock(log->fd, LOCK_UN);
out:
        json_object_put(o);
        return r;
}

/* fdatasync's errno, or 0; EINVAL (a log on a file system that cannot sync) is not an error. */
static int datasync_errno(int fd)
{
        return fdatasync(fd) < 0 && errno != EINVAL ? errno : 0;
}

int audit_sync(struct audit_log *log, struct gx_error *err)
{
        int e = log->fd >= 0 ? datasync_errno(log->fd) : 0;
        return e ? gx_fail(err, GX_SYSTEM, e, "syncing audit log") : 0;
}

static void *sync_thread(void *arg)
{
        struct audit_log *log = arg;
        log->sync_errno = datasync_errno(log->fd);
        return NULL;
}

void audit_sync_start(struct audit_log *log)
{
        log->syncing = log->fd >= 0 && pthread_create(&log->syncer, NULL, sync_thread, log) == 0;
}

int audit_sync_wait(struct audit_log *log, struct gx_error *err)
{
        if (!log->syncing)
                return audit_sync(log, err);
        pthread_join(log->syncer, NULL);
        log->syncing = false;
        return log->sync_errno ? gx_fail(err, GX_SYSTEM, log->sync_errno, "syncing audit log")
                               : 0;
}

void audit_close(struct audit_log *log)
{
        log->fd = safe_close(log->fd);
}

int audit_write(const struct launch *l, const char *event, const char *reason,
                struct gx_error *err)
{
        struct audit_log log = AUDIT_LOG_INIT;
        int r = audit_append(&log, l, event, reason, err);
        if (r == 0)
                r = audit_sync(&log, err);
        audit_close(&log);
        return r;
}

int audit_write_report(const struct launch *l, int fd, struct gx_error *err)
{
        struct json_object *o = audit_build_record(l);
        const char *text = json_object_to_json_string_ext(o, json_flags);
        int r = gx_write_full(fd, text, strlen(text));
        if (r == 0)
                r = gx_write_full(fd, "\n", 1);
        json_object_put(o);
        if (r < 0)
                return gx_fail(err, GX_CLIENT, -r, "writing the report to fd %d", fd);
        return 0;
}
