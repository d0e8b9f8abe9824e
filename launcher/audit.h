/* The JSON report (--report-fd) and the hash-chained JSON-lines audit log of SPEC section 8. */
#pragma once

#include <json-c/json.h>

#include "common/error.h"
#include "launch.h"

/* The record of SPEC section 8 (without event, prev and hash). */
struct json_object *audit_build_record(const struct launch *l);

/* Append one record with "event" (start, end, deny) to the audit log, chained to the last
 * record by prev/hash, under an exclusive lock. Also writes the syslog line. */
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
