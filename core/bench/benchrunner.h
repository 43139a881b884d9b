#pragma once

#include "core/db/dberror.h"
#include "core/pool/poolconfig.h"
#include "core/pool/poolstats.h"
#include "core/util/latencyhistogram.h"
#include "core/util/result.h"

#include <atomic>
#include <chrono>
#include <map>

namespace poolscope {

struct BenchOptions
{
    QString conninfo;
    EndpointRole endpointRole = EndpointRole::Direct;
    int workers = 8;     // threads sharing the pool
    int connections = 4; // pool size (min = max)
    std::chrono::milliseconds duration = std::chrono::seconds(10);
    std::chrono::milliseconds warmup = std::chrono::seconds(1);
    QString query = QStringLiteral("SELECT 1");
};

struct BenchResult
{
    double opsPerSec = 0;
    std::uint64_t operations = 0; // completed in the measured window
    std::uint64_t errors = 0;
    std::map<ErrorKind, std::uint64_t> errorsByKind;
    LatencySummary acquireWait; // acquire() call, µs
    LatencySummary query;       // exec() round trip, µs
    double measuredSeconds = 0;
    PoolStats pool; // the pool at the end of the run
};

// A closed-loop benchmark of the pool: `workers` threads share one pool of `connections`, each
// iteration being acquire -> query -> release, after a warm-up whose operations are not counted.
// Blocks for warm-up + duration (or until *stop becomes true); call it off the GUI thread.
Result<BenchResult, DbError> runBench(const BenchOptions &options,
                                      const std::atomic<bool> *stop = nullptr);

} // namespace poolscope
