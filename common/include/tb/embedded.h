/*
 * tb/embedded.h — files compiled into every binary (tools/embed.sh):
 * the .avsc files of schemas/avro and the .sql files of schemas/sql, under their repo-relative paths.
 * Binaries therefore need no data directory; a configured directory can
 * still override them (see tb_avro / tb_pg).
 */
#ifndef TB_EMBEDDED_H
#define TB_EMBEDDED_H

#include <stddef.h>

typedef struct tb_embedded_file {
	const char *path; /* e.g. "schemas/avro/RuntimeEvent.avsc"; NULL ends the table */
	const char *data; /* NUL-terminated */
	size_t len;       /* without the terminating NUL */
} tb_embedded_file_t;

extern const tb_embedded_file_t tb_embedded_files[];

/* Find an embedded file by repo-relative path; NULL if absent. */
const tb_embedded_file_t *tb_embedded_find(const char *path);

#endif
