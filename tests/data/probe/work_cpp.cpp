// work_cpp.cpp — C++ workload for the probe-agent tests: the hot path runs
// through a class method and a function template, so its frames only read
// well once demangled ("tbcpp::Engine::spin", "tbcpp::churn<unsigned long>").
// Usage: work-cpp SECONDS
#include <cstdint>
#include <cstdlib>
#include <ctime>

#define NOINLINE __attribute__((noinline, used))

volatile std::uint64_t tbcpp_sink;

namespace tbcpp {

NOINLINE std::uint64_t store(std::uint64_t x)
{
	tbcpp_sink = x;
	return x;
}

template <typename T> NOINLINE T churn(T x)
{
	for (int i = 0; i < 2000000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return static_cast<T>(store(x));
}

struct Engine {
	std::uint64_t state = 1;
	NOINLINE std::uint64_t spin();
};

NOINLINE std::uint64_t Engine::spin()
{
	state = churn<std::uint64_t>(state);
	tbcpp_sink = state;
	return state + 1;
}

} // namespace tbcpp

static double now_s()
{
	timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	double end = now_s() + (argc > 1 ? std::atof(argv[1]) : 3.0);
	tbcpp::Engine e;

	while (now_s() < end)
		e.spin();
	return 0;
}
