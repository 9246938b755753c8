/*
 * findings.c — tb.findings.v1 / tb.artifacts.v1 records -> watch list (see
 * findings.h).
 */
#include <string.h>

#include "findings.h"
#include "tb/topics.h"

/* Key "<tenant>/<id>": the id when the tenant is ours, else NULL. */
static const char *our_id(const tb_kafka_msg_t *m, const char *tenant, char *buf, size_t cap)
{
	size_t tl = strlen(tenant);

	if (!m->key || m->key_len >= cap || m->key_len <= tl + 1)
		return NULL;
	memcpy(buf, m->key, m->key_len);
	buf[m->key_len] = '\0';
	if (strncmp(buf, tenant, tl) != 0 || buf[tl] != '/')
		return NULL;
	return buf + tl + 1;
}

static int tenant_ok(const char *rec_tenant, const char *tenant)
{
	return !rec_tenant || !rec_tenant[0] || strcmp(rec_tenant, tenant) == 0;
}

static int apply_finding(tb_pa_watch_t *w, const tb_avro_registry_t *reg, const char *tenant,
			 const tb_kafka_msg_t *m, tb_pa_findings_stats_t *st, tb_err_t *err)
{
	tb_finding_t f;

	memset(&f, 0, sizeof(f));
	if (tb_avro_decode_finding(reg, m->value, m->value_len, &f, err) < 0) {
		st->undecodable++;
		return -1;
	}
	if (tenant_ok(f.tenant, tenant)) {
		tb_pa_watch_put_finding(w, &f);
		st->findings++;
	} else {
		st->other_tenant++;
	}
	tb_finding_clear(&f);
	return 0;
}

static int apply_artifact(tb_pa_watch_t *w, const tb_avro_registry_t *reg, const char *tenant,
			  const tb_kafka_msg_t *m, tb_pa_findings_stats_t *st, tb_err_t *err)
{
	tb_artifact_t a;

	memset(&a, 0, sizeof(a));
	if (tb_avro_decode_artifact(reg, m->value, m->value_len, &a, err) < 0) {
		st->undecodable++;
		return -1;
	}
	if (tenant_ok(a.tenant, tenant)) {
		tb_pa_watch_put_artifact(w, &a);
		st->artifacts++;
	} else {
		st->other_tenant++;
	}
	tb_artifact_clear(&a);
	return 0;
}

int tb_pa_findings_apply(tb_pa_watch_t *w, const tb_avro_registry_t *reg, const char *tenant,
			 const tb_kafka_msg_t *m, tb_pa_findings_stats_t *st, tb_err_t *err)
{
	int findings = strcmp(m->topic, TB_TOPIC_FINDINGS) == 0;
	char key[1024];
	const char *id;

	if (!findings && strcmp(m->topic, TB_TOPIC_ARTIFACTS) != 0)
		return 0;
	if (m->value) {
		int r = findings ? apply_finding(w, reg, tenant, m, st, err)
				 : apply_artifact(w, reg, tenant, m, st, err);

		if (r < 0)
			tb_err_wrap(err, "%s/%d@%lld", m->topic, (int)m->partition, (long long)m->offset);
		return r;
	}
	id = our_id(m, tenant, key, sizeof(key));
	if (!id) {
		st->other_tenant++;
		return 0;
	}
	st->tombstones++;
	if (findings)
		tb_pa_watch_del_finding(w, id);
	else
		tb_pa_watch_del_artifact(w, id);
	return 0;
}
