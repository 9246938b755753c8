/*
 * procs.h — what the agent knows about each process: identity (exec id,
 * binary and its build-id, comm, start), container attribution, executable
 * mappings, and which mapped files were already reported as loaded.
 *
 * Processes are learnt three ways: the BPF exec event (a new image), the
 * first sample or event of a pid not yet known (read from /proc), and the
 * initial scan of /proc at start. Mappings are re-read from /proc/PID/maps
 * when an mmap event marked them stale (at the next drain), or when a
 * frame's address falls outside every known mapping. Every executable file
 * mapping seen for the first time in a process becomes a load record
 * (pid, path, build-id, time): evidence that the library was loaded even if
 * it is never sampled. mmap events of a process that is gone before its
 * maps could be read still give a load, with the file name the kernel had.
 *
 * Times given to this module are ns since the Unix epoch (the agent
 * converts from boot time); tb_pa_procs_set_clock gives the offset used to
 * convert /proc start times.
 */
#ifndef TB_PA_PROCS_H
#define TB_PA_PROCS_H

#include <stdint.h>

#include "container.h"
#include "elfcache.h"
#include "maps.h"
#include "tb/map.h"
#include "tb/records.h"

typedef struct tb_pa_mmap_note {
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	int64_t ts_ns;
	char name[64];
} tb_pa_mmap_note_t;

typedef struct tb_pa_proc {
	uint32_t pid;
	int64_t start_ns; /* exec time when the exec was seen, else process start */
	char exec_id[160];
	char *binary;	       /* absolute path of the executable, NULL if unknown */
	char *binary_build_id; /* NULL if unknown */
	char comm[16];
	uint64_t cgroup_id;
	char *cgroup_path; /* cgroup v2 path ("/a/b"), NULL if unknown */
	tb_pa_container_t container;
	tb_pa_maps_t maps;
	uint64_t maps_gen;    /* drain generation of the last read; 0 = never */
	int64_t maps_read_ns; /* when (epoch ns) */
	int maps_stale;
	int gone; /* /proc/PID could not be read */
	int exited;
	int64_t exit_ns;
	int64_t exec_ns;	  /* exec time (loads of the image itself), 0 if not seen */
	uint64_t used_window;	  /* window in which it was last referenced */
	tb_map_t *loaded;	  /* file keys already reported as loads */
	tb_pa_mmap_note_t *notes; /* mmap events not yet matched to a mapping */
	size_t n_notes, cap_notes;
} tb_pa_proc_t;

typedef struct tb_pa_procs_conf {
	const char *proc_root;	  /* "/proc" */
	const char *cgroup2_root; /* cgroup v2 mount ("/sys/fs/cgroup" or ".../unified"); NULL: find it */
	const char *node;
	tb_pa_elfcache_t *elf;
} tb_pa_procs_conf_t;

typedef struct tb_pa_procs tb_pa_procs_t;

tb_pa_procs_t *tb_pa_procs_new(const tb_pa_procs_conf_t *conf, tb_err_t *err);
void tb_pa_procs_free(tb_pa_procs_t *P);

/* Offset that turns CLOCK_BOOTTIME ns into Unix epoch ns. */
void tb_pa_procs_set_clock(tb_pa_procs_t *P, int64_t boot_to_epoch_ns);

/* A new drain generation: maps read from now on count as fresh. */
void tb_pa_procs_next_gen(tb_pa_procs_t *P);

/* The process pid, created from /proc when unknown (comm and cgroup_id are
 * used if /proc is gone already). Never NULL except out of memory. */
tb_pa_proc_t *tb_pa_procs_get(tb_pa_procs_t *P, uint32_t pid, const char *comm, uint64_t cgroup_id);

/* Known process or NULL. */
tb_pa_proc_t *tb_pa_procs_find(tb_pa_procs_t *P, uint32_t pid);

/* Events (times in epoch ns). */
void tb_pa_procs_exec(tb_pa_procs_t *P, uint32_t pid, const char *comm, uint64_t cgroup_id, int64_t ts_ns);
void tb_pa_procs_exit(tb_pa_procs_t *P, uint32_t pid, int64_t ts_ns);
void tb_pa_procs_mmap(tb_pa_procs_t *P, uint32_t pid, uint32_t kdev, uint64_t ino, const char *name,
		      int64_t ts_ns);

/* Re-read maps when stale (or force), recording loads of new files. A
 * forced read (an address outside every known mapping) happens at most
 * once per drain and once per TB_PA_MISS_REREAD_NS: frames past the end of a
 * frame-pointer chain (libraries built without frame pointers) are often
 * garbage, and must not make us re-read /proc at every drain. Mapping
 * changes of files come with mmap events anyway (maps_stale). Returns 0, or
 * -1 when the maps could not be read (process gone). */
#define TB_PA_MISS_REREAD_NS 2000000000LL

/* How long an mmap note that matches no mapping keeps re-reading maps. */
#define TB_PA_NOTE_TTL_NS 2000000000LL
int tb_pa_procs_refresh(tb_pa_procs_t *P, tb_pa_proc_t *p, int force, int64_t now_ns);

/* Refresh every process whose maps are stale (call once per drain). */
void tb_pa_procs_refresh_stale(tb_pa_procs_t *P, int64_t now_ns);

/* Mark a process as referenced by the current window. */
void tb_pa_procs_use(tb_pa_procs_t *P, tb_pa_proc_t *p);

/* Load records gathered since the last take (ownership passes to the
 * caller: free with tb_pa_loads_free). */
void tb_pa_procs_take_loads(tb_pa_procs_t *P, tb_probe_load_t **loads, size_t *n);
void tb_pa_loads_free(tb_probe_load_t *loads, size_t n);

/* The processes referenced in the current window (live and retired), as
 * pointers valid until tb_pa_procs_end_window. */
size_t tb_pa_procs_window(tb_pa_procs_t *P, tb_pa_proc_t ***out);

/* Every live process (pointers valid until the next drain or window end). */
size_t tb_pa_procs_all(tb_pa_procs_t *P, tb_pa_proc_t ***out);

/* Close the window: free retired and exited processes, forget processes
 * that vanished without an exit event, start a new window. */
void tb_pa_procs_end_window(tb_pa_procs_t *P);

/* Scan /proc: every process for which keep(pid, ctx) is true is read
 * (mappings and loads included). keep may be NULL (all). */
void tb_pa_procs_scan(tb_pa_procs_t *P, int (*keep)(void *ctx, tb_pa_proc_t *p), void *ctx, int64_t now_ns);

/* Called for each module (mapped file) seen for the first time in any
 * process (for the uprobe resolver). */
typedef void (*tb_pa_module_hook_fn)(void *ctx, uint32_t pid, const tb_pa_map_t *map, tb_pa_module_t *m);
void tb_pa_procs_set_module_hook(tb_pa_procs_t *P, tb_pa_module_hook_fn fn, void *ctx);

/* Is p in one of the cgroups (v2 ids), or below one? */
int tb_pa_procs_in_cgroups(const tb_pa_procs_t *P, const tb_pa_proc_t *p, const uint64_t *ids, size_t n);

/* Parse the pieces of /proc/PID/stat the agent needs: comm and starttime
 * (clock ticks since boot). Exposed for tests. 0 or -1. */
int tb_pa_parse_stat(const char *text, char *comm, size_t cap, uint64_t *starttime);

#endif
