/*
 * debuginfod.c — build-ids from debuginfod servers into the symbol store
 * (see debuginfod.h).
 */
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "debuginfod.h"
#include "tb/log.h"
#include "tb/map.h"

#define MISS_MAX 65536 /* remembered misses; past this the oldest are forgotten at once */

struct tb_dbgd {
	debuginfod_client *client;
	pthread_mutex_t lock; /* guards client and misses */
	tb_map_t *misses;     /* build-id -> int64_t* time (ms) it may be asked for again */
	int64_t miss_ttl_ms;
	tb_metric_t *m_found, *m_missing, *m_skipped, *m_error;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void inc(tb_metric_t *m)
{
	if (m)
		tb_metric_inc(m);
}

tb_dbgd_t *tb_dbgd_new(const tb_dbgd_config_t *cfg, tb_err_t *err)
{
	const char *help = "debuginfod requests for build-ids the symbol store lacks, by result";
	tb_dbgd_t *d;
	char timeout[32];

	if (!cfg || !cfg->urls || !cfg->urls[0]) {
		tb_err(err, "debuginfod: no server URL");
		return NULL;
	}
	/* libdebuginfod reads its settings from the environment at each request */
	snprintf(timeout, sizeof(timeout), "%lld",
		 (long long)(cfg->timeout_ms > 0 ? (cfg->timeout_ms + 999) / 1000 : 5));
	if (setenv(DEBUGINFOD_URLS_ENV_VAR, cfg->urls, 1) < 0 ||
	    setenv(DEBUGINFOD_TIMEOUT_ENV_VAR, timeout, 1) < 0 ||
	    (cfg->cache_dir && cfg->cache_dir[0] &&
	     setenv(DEBUGINFOD_CACHE_PATH_ENV_VAR, cfg->cache_dir, 1) < 0)) {
		tb_err(err, "debuginfod: set its environment: %s", strerror(errno));
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->misses = tb_map_new(64)) || !(d->client = debuginfod_begin())) {
		tb_err(err, "debuginfod: cannot open a client%s", d && d->misses ? "" : " (out of memory)");
		if (d)
			tb_map_free(d->misses, free);
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->miss_ttl_ms = cfg->miss_ttl_ms;
	if (cfg->metrics) {
		d->m_found = tb_metrics_counter(cfg->metrics, "debuginfod_total", help, "result=\"found\"");
		d->m_missing =
		    tb_metrics_counter(cfg->metrics, "debuginfod_total", help, "result=\"not_found\"");
		d->m_skipped =
		    tb_metrics_counter(cfg->metrics, "debuginfod_total", help, "result=\"recently_missing\"");
		d->m_error = tb_metrics_counter(cfg->metrics, "debuginfod_total", help, "result=\"error\"");
	}
	return d;
}

void tb_dbgd_free(tb_dbgd_t *d)
{
	if (!d)
		return;
	debuginfod_end(d->client);
	tb_map_free(d->misses, free);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* Whether build_id missed less than miss_ttl ago (forgets expired misses). */
static int recently_missing(tb_dbgd_t *d, const char *build_id, int64_t now)
{
	int64_t *until = tb_map_get(d->misses, build_id);

	if (!until)
		return 0;
	if (now < *until)
		return 1;
	free(tb_map_del(d->misses, build_id));
	return 0;
}

static void remember_miss(tb_dbgd_t *d, const char *build_id, int64_t now)
{
	int64_t *until;

	if (d->miss_ttl_ms <= 0 || tb_map_size(d->misses) >= MISS_MAX)
		return;
	until = malloc(sizeof(*until));
	if (!until)
		return;
	*until = now + d->miss_ttl_ms;
	free(tb_map_put(d->misses, build_id, until));
}

/* One file kind of build_id: its path in the cache (malloc'd) or NULL;
 * *rc gets libdebuginfod's answer (fd >= 0 or -errno). */
static char *find(tb_dbgd_t *d, const char *build_id, int debuginfo, int *rc)
{
	char *path = NULL;
	int fd = debuginfo ? debuginfod_find_debuginfo(d->client, (const unsigned char *)build_id, 0, &path)
			   : debuginfod_find_executable(d->client, (const unsigned char *)build_id, 0, &path);

	*rc = fd;
	if (fd < 0) {
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

int tb_dbgd_fetch(tb_dbgd_t *d, tb_symstore_t *store, const char *build_id, tb_err_t *err)
{
	int64_t now = now_ms();
	char *exe = NULL, *dbg = NULL;
	int rc_exe = 0, rc_dbg = 0, added = 0, rc = 0;

	if (!d || !store || !build_id || !build_id[0] ||
	    strspn(build_id, "0123456789abcdefABCDEF") != strlen(build_id))
		return 0;
	if (tb_symstore_has(store, build_id))
		return 1; /* the common case, without our lock */
	pthread_mutex_lock(&d->lock);
	if (tb_symstore_has(store, build_id)) { /* fetched meanwhile by another thread */
		pthread_mutex_unlock(&d->lock);
		return 1;
	}
	if (recently_missing(d, build_id, now)) {
		pthread_mutex_unlock(&d->lock);
		inc(d->m_skipped);
		return 0;
	}
	exe = find(d, build_id, 0, &rc_exe);
	dbg = find(d, build_id, 1, &rc_dbg);
	for (int i = 0; i < 2; i++) {
		const char *path = i ? dbg : exe;
		int r;

		if (!path)
			continue;
		r = tb_symstore_add_file(store, path, err);
		if (r <= 0)
			tb_warn("debuginfod: %s of %s (%s) not indexed: %s", i ? "debuginfo" : "executable",
				build_id, path, err ? err->msg : "");
		if (r < 0)
			rc = -1;
		added += r == 1;
	}
	if (added && tb_symstore_has(store, build_id)) {
		inc(d->m_found);
		tb_info("debuginfod: %s: %s%s%s", build_id, exe ? "executable" : "",
			exe && dbg ? " and " : "", dbg ? "debuginfo" : "");
		rc = 1;
	} else {
		remember_miss(d, build_id, now);
		if (rc < 0 || (rc_exe != -ENOENT && rc_exe < 0) || (rc_dbg != -ENOENT && rc_dbg < 0)) {
			inc(d->m_error);
			tb_warn("debuginfod: %s: executable %s, debuginfo %s", build_id,
				rc_exe < 0 ? strerror(-rc_exe) : "indexed",
				rc_dbg < 0 ? strerror(-rc_dbg) : "indexed");
		} else {
			inc(d->m_missing);
		}
	}
	pthread_mutex_unlock(&d->lock);
	free(exe);
	free(dbg);
	return rc;
}
