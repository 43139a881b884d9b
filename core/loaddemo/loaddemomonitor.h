#pragma once

// Private to core: the load demo's server-side view of a target, on connections of its own (never
// one of the instances'): client backends of the target database in pg_stat_activity (its own
// backend excluded) and, for a pooled target, PgBouncer's SHOW POOLS. Blocking calls with short
// deadlines; used only by the coordinating thread of runLoadDemo().

#include "core/db/connection.h"
#include "core/loaddemo/loaddemo.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace poolscope::loaddemo {

struct PoolerFigures
{
    int clientsWaiting = -1;
    int serversActive = -1;
};

// The latest server-side figures and their peaks since startSampling().
struct ServerFigures
{
    int serverConnections = -1;
    PoolerFigures pooler;
    int peakServerConnections = -1;
    int peakClientsWaiting = -1;
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
    // After a run: polls serverConnections() until two readings in a row (100 ms apart) are
    // <= target, or the timeout passes; returns the last reading. For a pooled target with an
    // admin console it sends RECONNECT first and again every 500 ms while above the target, so
    // that PgBouncer closes the server connections it keeps idle (server_idle_timeout is 600 s),
    // including one whose login was still in flight at the previous RECONNECT. The first
    // RECONNECT failure goes to *poolerError.
    int settle(int target, std::chrono::milliseconds timeout, std::optional<DbError> *poolerError);

    // While a run goes on, the server side is measured on a thread of its own, every
    // `interval`: a slow answer (PgBouncer saturated by handshakes) must not delay the
    // snapshots. Between startSampling() and stopSampling() only latest() may be called.
    void startSampling(std::chrono::milliseconds interval);
    void stopSampling(); // joins; idempotent
    ServerFigures latest() const;

    ~Monitor();

    QStringList warnings; // console unavailable, monitoring query failures (first of each)

private:
    bool reconnect();
    std::optional<DbError> reconnectPooler();
    void sample(std::chrono::milliseconds interval);

    LoadDemoTarget m_target;
    QString m_database;
    std::optional<Connection> m_server;
    std::optional<Connection> m_console;
    int m_serverLimit = -1;
    Clock::time_point m_lastReconnect;
    bool m_queryFailureNoted = false;

    std::thread m_sampler;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopSampling = false;
    ServerFigures m_latest;
};

} // namespace poolscope::loaddemo
