/*
 * tb_tool.c — Kafka properties and stop signals for the command-line tools
 * (see tb/tool.h).
 */
#include <ctype.h>
#include <signal.h>
#include <string.h>

#include "tb/tool.h"

extern char **environ;

static int add_pair(tb_tool_props_t *p, const char *key, size_t klen, const char *value, tb_err_t *err)
{
	if (klen == 0)
		return tb_err(err, "a Kafka property wants key=value, got '=%s'", value);
	if (klen >= TB_TOOL_MAX_KEY)
		return tb_err(err, "Kafka property name '%.*s...' is too long", 40, key);
	if (p->n >= TB_TOOL_MAX_PROPS)
		return tb_err(err, "more than %d Kafka properties", TB_TOOL_MAX_PROPS);
	memcpy(p->keys[p->n], key, klen);
	p->keys[p->n][klen] = '\0';
	p->kv[2 * p->n] = p->keys[p->n];
	p->kv[2 * p->n + 1] = value;
	p->n++;
	return 0;
}

int tb_tool_props_add(tb_tool_props_t *p, const char *key_value, tb_err_t *err)
{
	const char *eq = strchr(key_value, '=');

	if (!eq || eq == key_value)
		return tb_err(err, "a Kafka property wants key=value, got '%s'", key_value);
	return add_pair(p, key_value, (size_t)(eq - key_value), eq + 1, err);
}

int tb_tool_env_prop(const char *name, size_t len, char *out, size_t cap)
{
	if (len <= 9 || strncmp(name, "TB_KAFKA_", 9) != 0)
		return 0;
	if (len - 9 >= cap)
		return -1;
	for (size_t i = 9; i < len; i++)
		out[i - 9] = name[i] == '_' ? '.' : (char)tolower((unsigned char)name[i]);
	out[len - 9] = '\0';
	return 1;
}

int tb_tool_props_env(tb_tool_props_t *p, char *const *envp, tb_err_t *err)
{
	char key[TB_TOOL_MAX_KEY];

	for (char *const *e = envp ? envp : environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		int r;

		if (!eq || !eq[1] || !(r = tb_tool_env_prop(*e, (size_t)(eq - *e), key, sizeof(key))))
			continue;
		if (r < 0)
			return tb_err(err, "environment %.*s: the name is too long", 60, *e);
		if (add_pair(p, key, strlen(key), eq + 1, err) < 0)
			return tb_err_wrap(err, "environment %.*s", (int)(eq - *e), *e);
	}
	return 0;
}

int tb_tool_signals(void (*on_stop)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	signal(SIGPIPE, SIG_IGN);
	return sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ? -1 : 0;
}
