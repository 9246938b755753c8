/*
 * tb/log.h — structured JSON logging to stderr.
 *
 * One JSON object per line: {"ts":"2026-11-24T18:00:00.123Z","level":"info",
 * "service":"adapter","msg":"..."} so that log shippers need no parsing rules.
 * The service name and the minimum level are process-wide (set once in main).
 */
#ifndef TB_LOG_H
#define TB_LOG_H

typedef enum tb_log_level {
	TB_LOG_DEBUG = 0,
	TB_LOG_INFO = 1,
	TB_LOG_WARN = 2,
	TB_LOG_ERROR = 3,
} tb_log_level_t;

/* Name the service and choose the minimum level that is printed. */
void tb_log_init(const char *service, tb_log_level_t min_level);

/* Parse "debug|info|warn|error"; returns -1 for anything else. */
int tb_log_level_parse(const char *s, tb_log_level_t *out);

void tb_log(tb_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tb_debug(...) tb_log(TB_LOG_DEBUG, __VA_ARGS__)
#define tb_info(...) tb_log(TB_LOG_INFO, __VA_ARGS__)
#define tb_warn(...) tb_log(TB_LOG_WARN, __VA_ARGS__)
#define tb_error(...) tb_log(TB_LOG_ERROR, __VA_ARGS__)

/* Append `s` JSON-escaped (without quotes) to buf of size cap at *len.
 * Invalid UTF-8 bytes are written as \u00XX so the line stays valid JSON.
 * Returns 0, or -1 when it did not fit (the output is then truncated). */
int tb_json_escape(char *buf, size_t cap, size_t *len, const char *s);

#endif
