#pragma once

// Private to core: the load demo's server-side view of a target, on connections of its own (never
// one of the instances'): client backends of the target database in pg_stat_activity (its own
// backend excluded) and, for a pooled target, PgBouncer's SHOW POOLS. Blocking calls with short
// deadlines; used only by the coordinating thread of runLoadDemo().

#include "core/db/connection.h"
#include "core/loaddemo/loaddemo.h"

#include <optional>

namespace poolscope::loaddemo {

struct PoolerFigures
{
    int clientsWaiting = -1;
    int serversActive = -1;
};

class Monitor
{
public:
    // Connects the monitoring connection (required) and the console (optional: a failure there
    // is a warning). Reads the usable connection limit.
    std::optional<DbError> open(const LoadDemoTarget &target, const QString &database);

    // Client backends of the database, excluding this monitor's; -1 when the query failed (one
    // reconnect is tried per call after a failure, at most once a second).
    int serverConnections();
    PoolerFigures pooler();
    int serverLimit() const { return m_serverLimit; }
    // RECONNECT on PgBouncer's admin console: it closes the server connections it keeps idle.
    std::optional<DbError> reconnectPooler();
    // Polls serverConnections() until it is <= target or the timeout passes; the last value.
    int waitForAtMost(int target, std::chrono::milliseconds timeout,
                      const std::atomic<bool> *cancel);

    QStringList warnings; // console unavailable, monitoring query failures (first of each)

private:
    bool reconnect();

    LoadDemoTarget m_target;
    QString m_database;
    std::optional<Connection> m_server;
    std::optional<Connection> m_console;
    int m_serverLimit = -1;
    Clock::time_point m_lastReconnect;
    bool m_queryFailureNoted = false;
};

} // namespace poolscope::loaddemo
