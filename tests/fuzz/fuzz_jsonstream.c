/*
 * fuzz_jsonstream.c — the JSON stream splitter (tb/jsonstream.h) fed in
 * arbitrary chunks, as the adapter's file tail and stdin reader feed it.
 *
 * Input: byte 0 picks the chunk size (1..256), the rest is the stream.
 * Checked beyond "no crash, no leak, no UB":
 *   - chunking changes nothing: the items (kind, offset, line, column,
 *     bytes) are the same as when the whole stream is fed at once;
 *   - items come in stream order and never overlap; an OBJECT starts with
 *     '{' and ends with a closing bracket (the splitter counts nesting, it
 *     does not match bracket kinds: "{...]" reaches jansson, which refuses
 *     it); no item is longer than the limit;
 *   - the internal buffer (its capacity: it starts at 64 KiB and doubles)
 *     stays within twice the limit plus one chunk, or its first size.
 * The limit is small (512 bytes) so TOO_LARGE and its skipping are reached.
 */
#include "fuzz.h"

#include "tb/jsonstream.h"

#define MAX_OBJ 512
#define MAX_ITEMS 4096

typedef struct item_sum {
	tb_jsonstream_kind_t kind;
	uint64_t offset, line, column, len;
	uint64_t digest; /* of the bytes */
} item_sum_t;

typedef struct run {
	item_sum_t items[MAX_ITEMS];
	size_t n;
} run_t;

static uint64_t digest(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a: a fingerprint, not a contract */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
	return h;
}

static int same_item(const item_sum_t *a, const item_sum_t *b)
{
	return a->kind == b->kind && a->offset == b->offset && a->line == b->line && a->column == b->column &&
	       a->len == b->len && a->digest == b->digest;
}

static void drain(tb_jsonstream_t *s, run_t *r)
{
	tb_jsonstream_item_t it;

	while (tb_jsonstream_next(s, &it)) {
		item_sum_t *sum;

		FUZZ_CHECK(it.len <= MAX_OBJ, "item of %zu bytes", it.len);
		FUZZ_CHECK(it.kind == TB_JSONSTREAM_OBJECT || it.reason, "%s without a reason",
			   tb_jsonstream_kind_name(it.kind));
		if (it.kind == TB_JSONSTREAM_OBJECT)
			FUZZ_CHECK(it.len >= 2 && it.data[0] == '{' &&
				       (it.data[it.len - 1] == '}' || it.data[it.len - 1] == ']'),
				   "object at %llu (%zu bytes) is not {...}: \"%.*s\"",
				   (unsigned long long)it.offset, it.len, (int)(it.len < 200 ? it.len : 200),
				   it.data);
		if (r->n) {
			const item_sum_t *prev = &r->items[r->n - 1];

			FUZZ_CHECK(it.offset >= prev->offset + prev->len,
				   "item at %llu overlaps the one at %llu", (unsigned long long)it.offset,
				   (unsigned long long)prev->offset);
		}
		FUZZ_CHECK(r->n < MAX_ITEMS, "too many items");
		sum = &r->items[r->n++];
		*sum = (item_sum_t){it.kind, it.offset, it.line, it.column, it.len, digest(it.data, it.len)};
	}
}

static void split(const uint8_t *data, size_t size, size_t chunk, run_t *r)
{
	tb_jsonstream_t *s = tb_jsonstream_new(MAX_OBJ);
	tb_err_t err = {{0}};

	FUZZ_CHECK(s, "out of memory");
	r->n = 0;
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		FUZZ_CHECK(tb_jsonstream_feed(s, data + off, n, &err) == 0, "feed: %s", err.msg);
		FUZZ_CHECK(tb_jsonstream_buffered(s) <= 2 * (MAX_OBJ + chunk) ||
			       tb_jsonstream_buffered(s) <= 65536,
			   "buffer of %zu bytes", tb_jsonstream_buffered(s));
		drain(s, r);
	}
	tb_jsonstream_finish(s);
	drain(s, r);
	tb_jsonstream_free(s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static run_t whole, chunked;
	size_t chunk;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	split(data + 1, size - 1, size, &whole);
	split(data + 1, size - 1, chunk, &chunked);
	FUZZ_CHECK(whole.n == chunked.n, "%zu items whole, %zu in chunks of %zu", whole.n, chunked.n, chunk);
	for (size_t i = 0; i < whole.n; i++)
		FUZZ_CHECK(same_item(&whole.items[i], &chunked.items[i]),
			   "item %zu differs in chunks of %zu (kind %s vs %s, offset %llu vs %llu, len %llu "
			   "vs %llu)",
			   i, chunk, tb_jsonstream_kind_name(whole.items[i].kind),
			   tb_jsonstream_kind_name(chunked.items[i].kind),
			   (unsigned long long)whole.items[i].offset,
			   (unsigned long long)chunked.items[i].offset,
			   (unsigned long long)whole.items[i].len, (unsigned long long)chunked.items[i].len);
	return 0;
}
