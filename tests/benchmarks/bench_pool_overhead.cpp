// bench_pool_overhead: the pool's checkout/return cost without network traffic, next to baselines
// measured in the same run (see BENCHMARKS.md; run via tests/benchmarks/run_benchmarks.sh).
//
// One sandbox (PostgreSQL + PgBouncer on loopback) is started in main(); the pool connects to its
// direct URI with min = max = kPoolSize and is filled before any benchmark runs. Each iteration is
// acquire() + release() only - no statement is sent. What remains is nevertheless real work:
//  - the pool mutex (twice: once in acquire, once in release), a handful of steady_clock reads,
//    the lease bookkeeping (hash map insert/erase) and two LatencyHistogram::record calls;
//  - the no-round-trip liveness check: a non-blocking poll() on the connection's socket at every
//    checkout from the idle list. That syscall is part of the real cost of a checkout.
// pingAfterIdle is set to an hour so that no empty-query ping (a network round trip) ever happens
// on checkout here; with the default (1 s) an idle connection would be pinged.
//
// With more threads than connections (Threads(8) on 4), most acquires wait and every return is a
// hand-off to the oldest waiter: a futex wake and a context switch per operation.

#include "core/pool/connectionpool.h"
#include "core/util/latencyhistogram.h"
#include "tests/support/sandboxfixture.h"

#include <QCoreApplication>

#include <benchmark/benchmark.h>

#include <poll.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>

namespace {

using poolscope::Clock;
using poolscope::ConnectionPool;

constexpr int kPoolSize = 4;
// Clock reads on the uncontended acquire + release path: acquire start, takeIdle, validation
// check, grant, release.
constexpr int kClockReadsPerCycle = 5;

std::unique_ptr<ConnectionPool> g_pool;

// acquire() + release(), no statement. Threads share the one pool of kPoolSize connections.
void BM_PoolAcquireRelease(benchmark::State &state)
{
    static const QString label = QStringLiteral("bench_pool_overhead");
    poolscope::PoolStats before;
    if (state.thread_index() == 0)
        before = g_pool->stats();
    for (auto _ : state) {
        auto lease = g_pool->acquire(label);
        if (!lease) {
            state.SkipWithError(lease.error().summary().toStdString().c_str());
            break;
        }
        lease.value().release();
    }
    if (state.thread_index() == 0) {
        // The loop's end is a barrier: every thread has finished its iterations here.
        const poolscope::PoolStats after = g_pool->stats();
        const auto acquires = double(after.acquires - before.acquires);
        state.counters["waited_pct"] = acquires > 0
            ? 100.0 * double(after.acquiresWaited - before.acquiresWaited) / acquires
            : 0;
        state.counters["pool_wait_p99_us"] = double(after.acquireWait.p99Us);
    }
}
BENCHMARK(BM_PoolAcquireRelease)->UseRealTime()->Threads(1)->Threads(2)->Threads(4)->Threads(8);

// Baseline: one uncontended lock/unlock plus as many clock reads as a checkout + return does.
void BM_BaselineMutexAndClocks(benchmark::State &state)
{
    std::mutex m;
    for (auto _ : state) {
        m.lock();
        m.unlock();
        for (int i = 0; i < kClockReadsPerCycle; ++i) {
            auto t = Clock::now();
            benchmark::DoNotOptimize(t);
        }
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_BaselineMutexAndClocks)->UseRealTime();

// Baseline: the pool's synchronisation floor, two lock/unlock pairs (acquire and release each take
// the pool mutex once) plus the clock reads.
void BM_BaselineTwoMutexAndClocks(benchmark::State &state)
{
    std::mutex m;
    for (auto _ : state) {
        for (int k = 0; k < 2; ++k) {
            m.lock();
            m.unlock();
        }
        for (int i = 0; i < kClockReadsPerCycle; ++i) {
            auto t = Clock::now();
            benchmark::DoNotOptimize(t);
        }
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_BaselineTwoMutexAndClocks)->UseRealTime();

// Baseline for the threaded runs: one mutex shared by all threads, lock + unlock (contended).
std::mutex g_sharedMutex;
void BM_BaselineSharedMutex(benchmark::State &state)
{
    for (auto _ : state) {
        g_sharedMutex.lock();
        g_sharedMutex.unlock();
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_BaselineSharedMutex)->UseRealTime()->Threads(1)->Threads(2)->Threads(4)->Threads(8);

// LatencyHistogram::record, as done twice per checkout + return (acquire wait, hold time).
void BM_LatencyHistogramRecord(benchmark::State &state)
{
    poolscope::LatencyHistogram h;
    // Varying values so that the bucket index is really computed; 1 µs .. ~1 ms.
    std::array<std::chrono::nanoseconds, 64> values {};
    for (size_t i = 0; i < values.size(); ++i)
        values[i] = std::chrono::nanoseconds(1000 + (i * i * 997) % 1'000'000);
    size_t i = 0;
    for (auto _ : state) {
        h.record(values[i++ & 63]);
        benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(h.count());
}
BENCHMARK(BM_LatencyHistogramRecord)->UseRealTime();

// The liveness check's syscall alone: poll(fd, POLLIN, 0) on an idle pooled connection's socket.
void BM_BaselinePollZero(benchmark::State &state)
{
    auto lease = g_pool->acquire(QStringLiteral("poll baseline"));
    if (!lease) {
        state.SkipWithError(lease.error().summary().toStdString().c_str());
        return;
    }
    const int fd = lease.value().connection().socketDescriptor();
    for (auto _ : state) {
        pollfd p { fd, POLLIN, 0 };
        benchmark::DoNotOptimize(::poll(&p, 1, 0));
    }
}
BENCHMARK(BM_BaselinePollZero)->UseRealTime();

} // namespace

int main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    QCoreApplication app(argc, argv); // the sandbox drives its servers with QProcess

    poolscope::testing::SandboxFixture sandbox;
    if (!sandbox.start()) {
        std::fprintf(stderr, "bench_pool_overhead: sandbox did not start: %s\n",
                     qPrintable(sandbox.errorString()));
        return 1;
    }

    poolscope::PoolConfig config;
    config.conninfo = sandbox.directUri();
    config.applicationName = QStringLiteral("bench_pool_overhead");
    config.minSize = kPoolSize;
    config.maxSize = kPoolSize;
    config.pingAfterIdle = std::chrono::hours(1); // never ping on checkout: no network traffic
    config.acquireTimeout = std::chrono::seconds(10);
    auto created = ConnectionPool::create(config);
    if (!created) {
        std::fprintf(stderr, "bench_pool_overhead: %s\n", qPrintable(created.error().summary()));
        return 1;
    }
    g_pool = std::move(created).value();
    if (!g_pool->waitUntilSize(kPoolSize, std::chrono::seconds(30))) {
        std::fprintf(stderr, "bench_pool_overhead: the pool did not reach %d connections\n",
                     kPoolSize);
        return 1;
    }

    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();

    g_pool.reset();
    sandbox.stop();
    return 0;
}
