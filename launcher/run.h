/* From an authorized, mapped launch to the payload's exit: sandbox, cgroup, reaper,
 * namespaces, supervision, teardown, audit. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "launch.h"

/* Returns glexec's exit status once the payload ran (or could not be executed: 126, 127);
 * otherwise a negative errno with err filled, every resource already released and, if the
 * "start" record was written, the "end" record too. */
int run_payload(struct launch *l, const struct inherited *in, uint64_t walltime,
                struct gx_error *err);

/* glexec --cleanup (root): remove what killed launches left (sandboxes, locks, cgroups). */
int run_cleanup(const struct config *cfg, FILE *out);
