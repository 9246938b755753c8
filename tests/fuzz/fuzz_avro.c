/*
 * fuzz_avro.c — the Avro decoder path every consumer runs on bytes from a
 * topic: tb_avro_peek, tb_avro_validate and the typed decoder of EVERY
 * record type (RuntimeEvent, CanonicalEvent, CorrelatedEvent, Artifact,
 * Finding, DeadLetter, ProbeBatch), with the embedded registry plus the
 * older and newer RuntimeEvent writer schemas the tests use
 * (tests/data/avro), so schema resolution is fuzzed too.
 *
 * Checked beyond "no crash, no leak, no UB":
 *   - a message that decodes also validates, and its header names the
 *     record that decoded it (decoders refuse other records' messages);
 *   - what decodes re-encodes, the re-encoding decodes, and encoding that
 *     again gives the same bytes (encoding is deterministic, tb/avro.h).
 * The corpus holds real encodings of every record (seed_avro.c).
 */
#include "fuzz.h"

#include "tb/avro.h"
#include "tb/records.h"

static tb_avro_registry_t *g_reg;

/* One record type: its full name, decoder, encoder and clear, over a
 * buffer big enough for any of our structs. */
typedef union any_rec {
	tb_runtime_event_t rt;
	tb_event_t ev;
	tb_artifact_t art;
	tb_finding_t fnd;
	tb_dead_letter_t dl;
	tb_probe_batch_t pb;
} any_rec_t;

typedef struct rec_type {
	const char *name;
	int (*decode)(const tb_avro_registry_t *, const uint8_t *, size_t, any_rec_t *, tb_err_t *);
	int (*encode)(const tb_avro_registry_t *, const any_rec_t *, uint8_t **, size_t *, tb_err_t *);
	void (*clear)(any_rec_t *);
} rec_type_t;

/* Adapters from the typed API to any_rec_t (no casts between function types). */
#define REC_FUNCS(tag, field)                                                                                \
	static int dec_##tag(const tb_avro_registry_t *r, const uint8_t *b, size_t n, any_rec_t *o,          \
			     tb_err_t *e)                                                                    \
	{                                                                                                    \
		return tb_avro_decode_##tag(r, b, n, &o->field, e);                                          \
	}                                                                                                    \
	static int enc_##tag(const tb_avro_registry_t *r, const any_rec_t *o, uint8_t **b, size_t *n,        \
			     tb_err_t *e)                                                                    \
	{                                                                                                    \
		return tb_avro_encode_##tag(r, &o->field, b, n, e);                                          \
	}

REC_FUNCS(runtime_event, rt)
REC_FUNCS(canonical_event, ev)
REC_FUNCS(correlated_event, ev)
REC_FUNCS(artifact, art)
REC_FUNCS(finding, fnd)
REC_FUNCS(dead_letter, dl)
REC_FUNCS(probe_batch, pb)

static void clr_rt(any_rec_t *o)
{
	tb_runtime_event_clear(&o->rt);
}
static void clr_ev(any_rec_t *o)
{
	tb_event_clear(&o->ev);
}
static void clr_art(any_rec_t *o)
{
	tb_artifact_clear(&o->art);
}
static void clr_fnd(any_rec_t *o)
{
	tb_finding_clear(&o->fnd);
}
static void clr_dl(any_rec_t *o)
{
	tb_dead_letter_clear(&o->dl);
}
static void clr_pb(any_rec_t *o)
{
	tb_probe_batch_clear(&o->pb);
}

static const rec_type_t types[] = {
    {TB_AVRO_RUNTIME_EVENT, dec_runtime_event, enc_runtime_event, clr_rt},
    {TB_AVRO_CANONICAL_EVENT, dec_canonical_event, enc_canonical_event, clr_ev},
    {TB_AVRO_CORRELATED_EVENT, dec_correlated_event, enc_correlated_event, clr_ev},
    {TB_AVRO_ARTIFACT, dec_artifact, enc_artifact, clr_art},
    {TB_AVRO_FINDING, dec_finding, enc_finding, clr_fnd},
    {TB_AVRO_DEAD_LETTER, dec_dead_letter, enc_dead_letter, clr_dl},
    {TB_AVRO_PROBE_BATCH, dec_probe_batch, enc_probe_batch, clr_pb},
};

/* Decoded once: re-encode, decode that, encode again; the two encodings
 * must be the same bytes. */
static void check_round_trip(const rec_type_t *t, const any_rec_t *rec)
{
	any_rec_t again;
	uint8_t *b1 = NULL, *b2 = NULL;
	size_t n1 = 0, n2 = 0;
	tb_err_t err = {{0}};

	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(t->encode(g_reg, rec, &b1, &n1, &err) == 0, "%s: re-encode: %s", t->name, err.msg);
	FUZZ_CHECK(t->decode(g_reg, b1, n1, &again, &err) == 0, "%s: decode of re-encoding: %s", t->name,
		   err.msg);
	FUZZ_CHECK(t->encode(g_reg, &again, &b2, &n2, &err) == 0, "%s: second encode: %s", t->name, err.msg);
	FUZZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0, "%s: encoding not stable (%zu vs %zu bytes)", t->name,
		   n1, n2);
	t->clear(&again);
	free(b1);
	free(b2);
}

static void fuzz_cleanup(void)
{
	tb_avro_registry_free(g_reg);
}

/* Older and newer RuntimeEvent writers, when the source tree is at hand
 * (TB_SRCDIR from tests/run.sh, else the current directory, which is the
 * repository root under `make fuzz`). */
static void add_test_writers(void)
{
	const char *src = getenv("TB_SRCDIR");
	char dir[4096];
	tb_err_t err = {{0}};

	snprintf(dir, sizeof(dir), "%s/tests/data/avro", src && src[0] ? src : ".");
	FUZZ_CHECK(tb_avro_registry_add_dir(g_reg, dir, &err) == 0, "%s: %s", dir, err.msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	tb_err_t err = {{0}};

	(void)argc, (void)argv;
	g_reg = tb_avro_registry_new(&err);
	FUZZ_CHECK(g_reg, "registry: %s", err.msg);
	add_test_writers();
	atexit(fuzz_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name = NULL;
	uint64_t fp = 0;
	tb_err_t err = {{0}};
	int peeked = tb_avro_peek(g_reg, data, size, &name, &fp, &err) == 0;
	int valid = tb_avro_validate(g_reg, data, size, &err) == 0;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		any_rec_t rec;

		memset(&rec, 0, sizeof(rec));
		if (types[i].decode(g_reg, data, size, &rec, &err) != 0)
			continue;
		FUZZ_CHECK(valid, "%s decoded a message that does not validate", types[i].name);
		FUZZ_CHECK(peeked && strcmp(name, types[i].name) == 0, "%s decoded a %s message",
			   types[i].name, peeked ? name : "(unpeekable)");
		check_round_trip(&types[i], &rec);
		types[i].clear(&rec);
	}
	return 0;
}
