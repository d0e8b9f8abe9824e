/* The JSON report (--report-fd) and the hash-chained JSON-lines audit log of SPEC section 8. */
#pragma once

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>

#include "common/error.h"
#include "launch.h"

/* The record of SPEC section 8 (without event, prev and hash). */
struct json_object *audit_build_record(const struct launch *l);

/* The audit log as one launch holds it open for its records. */
struct audit_log {
        int fd; /* -1 until the first record */
        pthread_t syncer;
        bool syncing; /* syncer runs audit_sync */
        int sync_errno;
};
#define AUDIT_LOG_INIT {.fd = -1}

/* Append one record with "event" (start, end, deny) to the audit log, chained to the last
 * record by prev/hash, under an exclusive lock, and write its syslog line. The record is
 * durable only after audit_sync: the launch overlaps that wait with the sandbox's setup and
 * teardown. The log is opened at the first record and stays open in *log. */
int audit_append(struct audit_log *log, const struct launch *l, const char *event,
                 const char *reason, struct gx_error *err);

/* Wait until every record appended through log is on disk (fdatasync). */
int audit_sync(struct audit_log *log, struct gx_error *err);

/* The same wait, in a thread of its own, for a caller with other work meanwhile (the
 * teardown); audit_sync_wait joins it and returns its result. Without a thread (none could be
 * made), audit_sync_wait syncs itself. */
void audit_sync_start(struct audit_log *log);
int audit_sync_wait(struct audit_log *log, struct gx_error *err);

void audit_close(struct audit_log *log);

/* For --check-config: the audit log's directory is trusted, and the log, if it exists yet, is
 * a regular file that only root can write. */
int audit_check_log(const char *path, struct gx_error *err);

/* One record, on disk when this returns (a denial; the reaper's "end"). */
int audit_write(const struct launch *l, const char *event, const char *reason,
                struct gx_error *err);

/* Write the report to fd. */
int audit_write_report(const struct launch *l, int fd, struct gx_error *err);

/* Given the serialized record without "hash" (a JSON object text) and the previous hash,
 * produce the line to append: the object with `,"hash":"<hex>"` added before the closing
 * brace, where hash = SHA-256 over that object text. Exposed for tests. */
int audit_chain_line(const char *record_text, char **ret_line, struct gx_error *err);

/* Extract "hash" of the last complete line of an audit log text; "0"*64 if empty. */
void audit_last_hash(const char *tail, size_t len, char ret_hash[65]);
