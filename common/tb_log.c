/*
 * tb_log.c — one JSON object per log line on stderr.
 *
 * The service name and level are the only process-wide state in common/:
 * logging must work from any thread and any depth without passing a context.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <time.h>

#include "tb/log.h"

static char g_service[64] = "tracebridge";
static tb_log_level_t g_min = TB_LOG_INFO;

static const char *level_name[] = {"debug", "info", "warn", "error"};

void tb_log_init(const char *service, tb_log_level_t min_level)
{
	snprintf(g_service, sizeof(g_service), "%s", service ? service : "tracebridge");
	g_min = min_level;
}

int tb_log_level_parse(const char *s, tb_log_level_t *out)
{
	for (int i = 0; i < 4; i++) {
		if (s && strcmp(s, level_name[i]) == 0) {
			*out = (tb_log_level_t)i;
			return 0;
		}
	}
	return -1;
}

static int put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + n >= cap)
		return -1;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return 0;
}

int tb_json_escape(char *buf, size_t cap, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char tmp[8];

	while (*p) {
		unsigned char c = *p;
		size_t need = 0;

		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			need = 2;
		} else if (c == '\n') {
			need = (size_t)snprintf(tmp, sizeof(tmp), "\\n");
		} else if (c == '\t') {
			need = (size_t)snprintf(tmp, sizeof(tmp), "\\t");
		} else if (c == '\r') {
			need = (size_t)snprintf(tmp, sizeof(tmp), "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			need = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		} else if (c < 0x80) {
			tmp[0] = (char)c;
			need = 1;
		} else {
			/* Copy a well-formed UTF-8 sequence as is; escape stray bytes. */
			size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
			size_t k;

			for (k = 1; n && k < n; k++)
				if ((p[k] & 0xc0) != 0x80)
					n = 0;
			if (n) {
				if (put(buf, cap, len, (const char *)p, n) < 0)
					return -1;
				p += n;
				continue;
			}
			need = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		}
		if (put(buf, cap, len, tmp, need) < 0)
			return -1;
		p++;
	}
	return 0;
}

void tb_log(tb_log_level_t level, const char *fmt, ...)
{
	char msg[2048];
	char line[4608];
	size_t len = 0;
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level < g_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = (size_t)snprintf(line, sizeof(line),
			       "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"service\":\"",
			       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			       ts.tv_nsec / 1000000, level_name[level]);
	tb_json_escape(line, sizeof(line) - 4, &len, g_service);
	put(line, sizeof(line), &len, "\",\"msg\":\"", 9);
	tb_json_escape(line, sizeof(line) - 4, &len, msg);
	put(line, sizeof(line), &len, "\"}\n", 3);
	fwrite(line, 1, len, stderr);
}
