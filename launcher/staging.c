#include "staging.h"

int staging_in(const struct launch *l, int sandbox_fd, struct gx_error *err)
{
        (void)sandbox_fd;
        if (l->req.n_stage_in > 0)
                return gx_fail(err, GX_CLIENT, 0, "--stage-in is not available yet");
        return 0;
}

int staging_out(const struct launch *l, int sandbox_fd, struct gx_error *err)
{
        (void)sandbox_fd;
        if (l->req.n_stage_out > 0)
                return gx_fail(err, GX_CLIENT, 0, "--stage-out is not available yet");
        return 0;
}
