/*
 * Unit tests for services/probe-agent/container.c: container id, runtime
 * and pod UID from the cgroup paths that docker, containerd, cri-o and
 * podman create (systemd and cgroupfs drivers), nested runtimes, the cri-o
 * monitor, host processes, and whole /proc/PID/cgroup texts.
 */
#include "pa_test.h"

#include "../../../services/probe-agent/container.h"

#define ID1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

typedef struct tcase {
	const char *path;
	int found;
	const char *id;
	const char *runtime;
	const char *pod;
} tcase_t;

static const tcase_t cases[] = {
    {"/docker/" ID1, 1, ID1, "docker", ""},
    {"/system.slice/docker-" ID1 ".scope", 1, ID1, "docker", ""},
    {"/kubepods.slice/kubepods-burstable.slice/"
     "kubepods-burstable-pod3f1c2a8e_1b7d_4c2e_9a55_0e6f2d9b7c11.slice/"
     "cri-containerd-" ID1 ".scope",
     1, ID1, "containerd", "3f1c2a8e-1b7d-4c2e-9a55-0e6f2d9b7c11"},
    {"/kubepods/besteffort/pod3f1c2a8e-1b7d-4c2e-9a55-0e6f2d9b7c11/" ID1, 1, ID1, "containerd",
     "3f1c2a8e-1b7d-4c2e-9a55-0e6f2d9b7c11"},
    {"/kubepods.slice/kubepods-pod3f1c2a8e_1b7d_4c2e_9a55_0e6f2d9b7c11.slice/crio-" ID1 ".scope", 1, ID1,
     "cri-o", "3f1c2a8e-1b7d-4c2e-9a55-0e6f2d9b7c11"},
    {"/kubepods.slice/kubepods-pod3f1c2a8e_1b7d_4c2e_9a55_0e6f2d9b7c11.slice/crio-conmon-" ID1 ".scope", 0,
     "", NULL, "3f1c2a8e-1b7d-4c2e-9a55-0e6f2d9b7c11"},
    {"/machine.slice/libpod-" ID1 ".scope", 1, ID1, "podman", ""},
    {"/system.slice/docker-" ID1 ".scope/kubepods/pod3f1c2a8e-1b7d-4c2e-9a55-0e6f2d9b7c11/" ID2, 1, ID2,
     "containerd", "3f1c2a8e-1b7d-4c2e-9a55-0e6f2d9b7c11"},
    {"/default/" ID1, 1, ID1, "unknown", ""},
    {"/user.slice/user-1000.slice/session-2.scope", 0, "", NULL, ""},
    {"/", 0, "", NULL, ""},
    {"/docker/"
     "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     0, "", NULL, ""},
    {"/process_api/f8242055afb18aff9f8b1ed0d2eec6f3", 0, "", NULL, ""},
};

static void attributes_every_known_path_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tb_pa_container_t c;
		int found = tb_pa_container_from_path(cases[i].path, &c);

		if (found != cases[i].found || strcmp(c.id, cases[i].id) != 0 ||
		    (cases[i].runtime ? !c.runtime || strcmp(c.runtime, cases[i].runtime) != 0
				      : c.runtime != NULL) ||
		    strcmp(c.pod_uid, cases[i].pod) != 0)
			fail_msg("%s\n  expected found=%d id=%s runtime=%s pod=%s\n  got      found=%d id=%s "
				 "runtime=%s pod=%s",
				 cases[i].path, cases[i].found, cases[i].id,
				 cases[i].runtime ? cases[i].runtime : "NULL", cases[i].pod, found, c.id,
				 c.runtime ? c.runtime : "NULL", c.pod_uid);
	}
}

static void prefers_the_unified_line_and_returns_its_path(void **state)
{
	const char *text = "12:memory:/docker/" ID2 "\n"
			   "0::/system.slice/docker-" ID1 ".scope\n";
	tb_pa_container_t c;
	char v2[256];

	(void)state;
	EXPECT_INT(1, tb_pa_container_from_proc(text, &c, v2, sizeof(v2)));
	EXPECT_STR(ID1, c.id);
	EXPECT_STR("/system.slice/docker-" ID1 ".scope", v2);
}

static void falls_back_to_v1_lines(void **state)
{
	const char *text = "9:name=systemd:/\n4:memory:/docker/" ID2 "\n0::/\n";
	tb_pa_container_t c;
	char v2[256];

	(void)state;
	EXPECT_INT(1, tb_pa_container_from_proc(text, &c, v2, sizeof(v2)));
	EXPECT_STR(ID2, c.id);
	EXPECT_STR("docker", c.runtime);
	EXPECT_STR("/", v2);
}

static void host_process_has_no_container(void **state)
{
	const char *text = "9:name=systemd:/\n4:memory:/process_api/f8242055afb18aff9f8b1ed0d2eec6f3\n0::/\n";
	tb_pa_container_t c;

	(void)state;
	EXPECT_INT(0, tb_pa_container_from_proc(text, &c, NULL, 0));
	EXPECT_STR("", c.id);
	assert_null(c.runtime);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(attributes_every_known_path_format),
	    cmocka_unit_test(prefers_the_unified_line_and_returns_its_path),
	    cmocka_unit_test(falls_back_to_v1_lines),
	    cmocka_unit_test(host_process_has_no_container),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
