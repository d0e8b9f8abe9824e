#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/fdutil.h"

static struct {
        int level;
        int facility;
        int file_fd; /* -1: syslog */
} log_state = {.level = LOG_LVL_NOTICE, .facility = LOG_AUTHPRIV, .file_fd = -1};

static const int syslog_priority[] = {
        [LOG_LVL_FATAL] = LOG_ERR,     [LOG_LVL_WARNING] = LOG_WARNING,
        [LOG_LVL_NOTICE] = LOG_NOTICE, [LOG_LVL_INFO] = LOG_INFO,
        [LOG_LVL_DEBUG] = LOG_DEBUG,
};

void log_setup(const struct config *cfg)
{
        log_state.level = cfg->log_level;
        log_state.facility = cfg->syslog_facility;
        closelog();
        openlog("glexec", LOG_PID | LOG_NDELAY, log_state.facility);
        if (cfg->log_destination == GX_LOG_FILE && cfg->log_level > 0) {
                struct gx_error err;
                int fd = gx_open_trusted(cfg->log_file, O_WRONLY | O_APPEND | O_CREAT, &err);
                if (fd >= 0)
                        log_state.file_fd = fd;
                else
                        syslog(LOG_ERR, "cannot open log file, logging to syslog: %s", err.msg);
        }
}

static void write_file_line(const char *ident, const char *msg)
{
        char stamp[32], line[2048];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        int n = snprintf(line, sizeof(line), "%s %s[%d]: %s\n", stamp, ident, (int)getpid(), msg);
        if (n > (int)sizeof(line) - 1) {
                n = (int)sizeof(line) - 1;
                line[n - 1] = '\n';
        }
        gx_write_full(log_state.file_fd, line, (size_t)n);
}

static _printf_(3, 0) void vlog(const char *ident, enum log_level level, const char *fmt, va_list ap)
{
        if ((int)level > log_state.level)
                return;
        char msg[1536];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        /* Defence in depth: nothing that reaches a log may break its line structure. */
        for (char *p = msg; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        if (log_state.file_fd >= 0) {
                write_file_line(ident, msg);
                return;
        }
        syslog(log_state.facility | syslog_priority[level], "%s", msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog("glexec", level, fmt, ap);
        va_end(ap);
}

void log_mon(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        if (log_state.file_fd >= 0) {
                vlog("glexec.mon", LOG_LVL_FATAL, fmt, ap);
        } else if (log_state.level > 0) {
                char msg[512];
                vsnprintf(msg, sizeof(msg), fmt, ap);
                closelog();
                openlog("glexec.mon", LOG_PID | LOG_NDELAY, log_state.facility);
                syslog(log_state.facility | LOG_NOTICE, "%s", msg);
                closelog();
                openlog("glexec", LOG_PID | LOG_NDELAY, log_state.facility);
        }
        va_end(ap);
}

void log_stderr(const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        for (char *p = msg; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        dprintf(STDERR_FILENO, "glexec: %s\n", msg);
}
