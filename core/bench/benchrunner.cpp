#include "core/bench/benchrunner.h"

#include "core/db/connection.h"
#include "core/db/threadtlsstate.h"
#include "core/logging/logging.h"
#include "core/pool/connectionpool.h"

#include <thread>
#include <vector>

namespace poolscope {
namespace {

enum Phase : int { WarmingUp, Measuring, Stopping };

// Per worker, so that the hot loop shares nothing but the pool itself.
struct WorkerTally
{
    LatencyHistogram acquire;
    LatencyHistogram query;
    std::uint64_t operations = 0;
    std::uint64_t errors = 0;
    std::map<ErrorKind, std::uint64_t> errorsByKind;
};

} // namespace

Result<BenchResult, DbError> runBench(const BenchOptions &options, const std::atomic<bool> *stop)
{
    if (options.workers < 1 || options.connections < 1 || options.duration.count() <= 0)
        return makeError(ErrorKind::InvalidConfiguration,
                         QStringLiteral("workers, connections and duration must all be positive"));
    // Fail at once, with the real reason, when the server cannot be reached at all (the pool
    // itself would keep retrying a refused connection until its acquire timeout).
    {
        auto info = ConnInfo::parse(options.conninfo);
        if (!info)
            return info.error();
        auto probe = Connection::open(info.value(), std::chrono::seconds(10));
        if (!probe)
            return probe.error();
    }
    PoolConfig config;
    config.conninfo = options.conninfo;
    config.endpointRole = options.endpointRole;
    config.applicationName = QStringLiteral("poolscope-bench");
    config.minSize = options.connections;
    config.maxSize = options.connections;
    config.acquireTimeout = std::chrono::seconds(5); // an outage must not stall the stop for 30 s
    auto created = ConnectionPool::create(config);
    if (!created)
        return created.error();
    std::unique_ptr<ConnectionPool> pool = std::move(created).value();

    if (!pool->waitUntilSize(options.connections, std::chrono::seconds(10))) {
        const PoolStats s = pool->stats();
        return s.lastConnectError
            ? *s.lastConnectError
            : makeError(ErrorKind::ConnectionTimeout,
                        QStringLiteral("the pool did not open %1 connections within 10 s")
                            .arg(options.connections));
    }

    std::atomic<int> phase { WarmingUp };
    std::vector<WorkerTally> tallies(size_t(options.workers));
    std::vector<std::thread> workers;
    const QString label = QStringLiteral("bench worker");
    for (int w = 0; w < options.workers; ++w) {
        workers.emplace_back([&, w] {
            ThreadTlsStateGuard tls;
            WorkerTally &tally = tallies[size_t(w)];
            while (phase.load(std::memory_order_relaxed) != Stopping) {
                const auto t0 = Clock::now();
                auto lease = pool->acquire(label);
                const auto t1 = Clock::now();
                const bool measuring = phase.load(std::memory_order_relaxed) == Measuring;
                if (!lease) {
                    if (measuring) {
                        ++tally.errors;
                        ++tally.errorsByKind[lease.error().kind];
                    }
                    continue;
                }
                auto result = lease.value().exec(options.query);
                const auto t2 = Clock::now();
                lease.value().release();
                if (!measuring)
                    continue;
                if (!result) {
                    ++tally.errors;
                    ++tally.errorsByKind[result.error().kind];
                    continue;
                }
                tally.acquire.record(t1 - t0);
                tally.query.record(t2 - t1);
                ++tally.operations;
            }
        });
    }

    auto sleepUnlessStopped = [&](std::chrono::milliseconds total) {
        const auto until = Clock::now() + total;
        while (Clock::now() < until && !(stop && stop->load()))
            std::this_thread::sleep_for(
                std::min<Clock::duration>(std::chrono::milliseconds(50), until - Clock::now()));
    };
    sleepUnlessStopped(options.warmup);
    const auto measureStart = Clock::now();
    phase = Measuring;
    sleepUnlessStopped(options.duration);
    phase = Stopping;
    const auto measureEnd = Clock::now();
    for (auto &t : workers)
        t.join();

    BenchResult result;
    LatencyHistogram acquire;
    LatencyHistogram query;
    for (const WorkerTally &t : tallies) {
        acquire.merge(t.acquire);
        query.merge(t.query);
        result.operations += t.operations;
        result.errors += t.errors;
        for (const auto &[kind, n] : t.errorsByKind)
            result.errorsByKind[kind] += n;
    }
    result.measuredSeconds = std::chrono::duration<double>(measureEnd - measureStart).count();
    result.opsPerSec =
        result.measuredSeconds > 0 ? double(result.operations) / result.measuredSeconds : 0;
    result.acquireWait = LatencySummary::of(acquire);
    result.query = LatencySummary::of(query);
    result.pool = pool->stats();
    logging::logger("bench")->info("{} ops in {:.2f} s ({:.0f} ops/s), {} errors",
                                   result.operations, result.measuredSeconds, result.opsPerSec,
                                   result.errors);
    return result;
}

} // namespace poolscope
