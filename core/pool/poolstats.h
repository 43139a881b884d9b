#pragma once

#include "core/db/dberror.h"
#include "core/util/latencyhistogram.h"

#include <QDateTime>

#include <cstdint>
#include <map>
#include <optional>

namespace poolscope {

enum class PoolHealth {
    Ok,           // connections open as asked
    Reconnecting, // the last connection attempt failed; retrying with exponential backoff
    Closed,
};

QString poolHealthName(PoolHealth health);

// An immutable snapshot of a pool's state: the union of what HikariCP, psycopg_pool and pgxpool
// expose. Copyable, safe to pass between threads (e.g. through a queued signal).
struct PoolStats
{
    QDateTime takenAt;

    // Gauges
    int size = 0; // idle + in use + connecting
    int idle = 0;
    int inUse = 0;
    int connecting = 0;
    int waiting = 0; // callers blocked in acquire()
    int minSize = 0;
    int maxSize = 0;

    // Counters since the pool was created
    std::uint64_t acquires = 0;
    std::uint64_t acquiresWaited = 0; // had to wait: no idle connection at the time
    std::uint64_t acquireTimeouts = 0;
    std::uint64_t connectsOk = 0;
    std::uint64_t connectsFailed = 0;
    std::map<ErrorKind, std::uint64_t> connectsFailedByKind;
    std::uint64_t connectionsLost = 0; // found dead (idle check, checkout, or during use)
    std::uint64_t destroyedLifetime = 0;
    std::uint64_t destroyedIdle = 0;
    std::uint64_t destroyedBroken = 0; // returned unusable (mid-transaction, error state)
    std::uint64_t leaksFlagged = 0;
    int peakConnecting = 0; // most connection attempts in flight at once

    // Distributions since the pool was created
    LatencySummary acquireWait;
    LatencySummary connectTime;
    LatencySummary holdTime;

    // Reconnect state
    PoolHealth health = PoolHealth::Ok;
    int consecutiveConnectFailures = 0;
    std::optional<DbError> lastConnectError;
};

} // namespace poolscope
