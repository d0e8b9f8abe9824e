/* The supervisor's wait: relay the pilot's signals, enforce the wall time, reap the init, and
 * turn the outcome into glexec's exit status (SPEC section 5). */
#pragma once

#include <signal.h>
#include <stdint.h>

#include "common/error.h"
#include "launch.h"
#include "sandbox/launch.h"

/* Block the relayed signals so that they queue for the supervisor's signalfd. Called before
 * the payload starts; the init and payload set their own masks. */
void supervise_block_signals(sigset_t *ret_set);

/* Wait for the init to end. Fills res (status, exit_code, signal, walltime_killed,
 * wall_seconds). On a setup failure inside the sandbox, returns <0 with err filled. */
int supervise_run(struct sandbox_proc *p, const sigset_t *set, uint64_t walltime,
                  const struct timespec *start_mono, struct launch_result *res,
                  struct gx_error *err);

/* glexec's exit status for a payload wait status: the code itself, 201-204 folded to 204,
 * 128+N for signal N. */
int supervise_exit_status(int wait_status);
