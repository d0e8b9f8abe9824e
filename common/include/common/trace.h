/* Stage timestamps of one launch, for the benchmark's per-stage breakdown (bench/launch).
 *
 * Compiled in only when the build is configured with -DGLEXEC_STAGE_TRACE=ON; a normal build
 * has no trace code at all, so nothing of it can reach the audit log, the report or the
 * caller. A traced glexec writes one line per stage to its stderr when it exits:
 *
 *     glexec-trace <TAB> CLOCK_MONOTONIC nanoseconds <TAB> stage
 *
 * where each stage names the work that ended at that instant. The supervisor, the namespace
 * init and the payload (up to its exec) all record into one shared page, so the timeline
 * crosses processes; the supervisor prints it. */
#pragma once

#ifndef GX_STAGE_TRACE
#define GX_STAGE_TRACE 0
#endif

#if GX_STAGE_TRACE
/* Map the shared page and print it at the caller's exit. Call once, first thing in main. */
void gx_trace_start(void);
/* Record that the stage `stage` (a string literal) ends now. */
void gx_trace(const char *stage);
#else
static inline void gx_trace_start(void)
{
}
static inline void gx_trace(const char *stage)
{
        (void)stage;
}
#endif
