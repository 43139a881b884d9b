#pragma once

#include "core/db/dberror.h"

#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace poolscope {

// One bucket of a breakdown ("by application", "by user", ...): the top N keys by connection
// count, then one "other" entry for the rest. The client key is client_addr, or "local" for a
// unix socket.
struct BreakdownEntry
{
    QString key; // e.g. the application_name; empty string stays empty ("" is a real value)
    int total = 0;
    int active = 0;
    int idle = 0;
    int idleInTransaction = 0; // "(aborted)" included
    // Age in seconds of the holder's oldest connection (backend_start); 0 when unknown.
    double oldestConnectionSeconds = 0;
    // How long the holder's longest idle-in-transaction session has been idle; 0 when none.
    double longestIdleInTransactionSeconds = 0;
    bool isOther = false; // the aggregate of everything past the top N
};

// Client backends grouped the way postgres_exporter labels pg_stat_activity_count: one entry per
// (database, user, application, state), largest first, bounded (the rest folded into one entry
// whose fields are all "other").
struct ActivityGroup
{
    QString database;
    QString user;
    QString application;
    QString state; // "active", "idle", "idle in transaction", ..., "unknown" when hidden
    int count = 0;
    double maxTransactionSeconds = 0; // oldest open transaction in the group
};

// Client-backend counts by state (backend_type = 'client backend', the sampler's own
// connection excluded).
struct ConnectionCounts
{
    int total = 0;
    int active = 0;
    int idle = 0;
    int idleInTransaction = 0;
    int idleInTransactionAborted = 0;
    int other = 0;   // fastpath function call, disabled, and states hidden by missing privileges
    int waiting = 0; // active and waiting on a heavyweight lock (wait_event_type = 'Lock')
};

struct ConnectionLimits
{
    int maxConnections = 0;
    int superuserReserved = 0;   // superuser_reserved_connections
    int reservedConnections = 0; // reserved_connections (PostgreSQL 16+), else 0
    // What ordinary (non-superuser) roles may use in all: max - both reserves.
    int usableByOrdinaryRoles() const
    {
        return maxConnections - superuserReserved - reservedConnections;
    }
};

// Cumulative pg_stat_database counters (all databases), turned into rates by the sampler.
struct DatabaseCounters
{
    qint64 commits = 0;
    qint64 rollbacks = 0;
    // PostgreSQL 14+; -1 when the server does not have them.
    qint64 sessions = -1;
    qint64 sessionsFatal = -1;
    qint64 sessionsKilled = -1;
    qint64 sessionsAbandoned = -1;
};

// Rates of the pg_stat_database counters over a trailing window (TrailingRates). PostgreSQL 15
// flushes a backend's counters to shared memory late (at most once a second, skipped while the
// entry is locked, forced only after 60 s; a transaction that touches no table may wait for the
// backend's next flush of anything else), so a rate between two ticks is mostly noise: 0 for
// seconds under steady load, then a burst.
struct Rates
{
    enum class Pending {
        No,            // valid: the values below are measured
        WindowFilling, // the trailing window does not span `windowSeconds` yet
        NotFlushed,    // the window's commits fall short of what pg_stat_activity saw end
    };
    bool valid = false; // a value to show; false while pending (never a 0 that is not measured)
    Pending pending = Pending::WindowFilling;
    double windowSeconds = 0;   // the configured trailing window
    double intervalSeconds = 0; // what the window spans so far (server clock), not nominal
    // Transactions per second that pg_stat_activity shows at least (wentIdleSincePrevious over
    // the window); NotFlushed when the counters report less than half of it.
    double seenAtLeastPerSecond = 0;
    double commitsPerSecond = 0;
    double rollbacksPerSecond = 0;
    double transactionsPerSecond = 0;
    double sessionsPerSecond = -1; // -1 when unavailable (PostgreSQL < 14)
    double sessionsFatalPerSecond = -1;
    double sessionsKilledPerSecond = -1;
    double sessionsAbandonedPerSecond = -1;
};

// One row of the session list (only fetched while a view asks for it).
struct SessionRow
{
    int pid = 0;
    QString user;
    QString database;
    QString application;
    QString client; // client_addr, or "local" for a unix socket
    QString state;  // as pg_stat_activity says; empty when hidden
    QString waitEventType;
    QString waitEvent;
    QDateTime backendStart;
    QDateTime transactionStart; // null when no transaction is open
    QDateTime queryStart;
    QDateTime stateChange;
    QString query; // truncated; "<insufficient privilege>" when hidden
    QList<int> blockingPids;
};

// What the sampler measured in one tick: an immutable value, passed between threads.
struct ActivitySample
{
    QDateTime takenAt;          // server clock (clock_timestamp()), UTC, ms precision
    qint64 roundTripMicros = 0; // client-side duration of the one round trip
    QString serverVersion;      // e.g. "15.20"
    int serverVersionNum = 0;
    ConnectionCounts counts;
    ConnectionLimits limits;
    // What ordinary roles can still open: usableByOrdinaryRoles() - counts.total (never < 0).
    int available = 0;
    // Ages in seconds; 0 when there is nothing of that kind.
    double longestQuerySeconds = 0;
    double longestTransactionSeconds = 0;
    double longestIdleInTransactionSeconds = 0;
    QList<BreakdownEntry> byDatabase;
    QList<BreakdownEntry> byUser;
    QList<BreakdownEntry> byApplication;
    QList<BreakdownEntry> byClient;
    QList<ActivityGroup> groups;
    DatabaseCounters counters;
    // Client backends idle now whose state changed after the previous sample: each ended at
    // least one transaction in between (a lower bound that, unlike pg_stat_database, is not
    // flushed late). -1 without a previous sample.
    int wentIdleSincePrevious = -1;
    Rates rates;
    // Without pg_read_all_stats/pg_monitor, other roles' query text and state are hidden.
    bool queriesHidden = false;
    std::optional<QList<SessionRow>> sessions; // only when requested
};

// PgBouncer's admin console, one entry per (database, user) pool of SHOW POOLS.
struct PoolerPool
{
    QString database;
    QString user;
    QString poolMode;
    int clActive = 0;
    int clWaiting = 0;
    int svActive = 0;
    int svIdle = 0;
    int svUsed = 0;
    int svLogin = 0;
    double maxWaitSeconds = 0; // maxwait + maxwait_us
};

// SHOW STATS totals and their rates between two console samples. PgBouncer counts a transaction
// and a query when it ends, live (only the avg_* columns wait for stats_period), so these rates
// are exact. total_wait_time is added when a waiting client is given a server connection; the
// average client wait is that time per transaction (in transaction pooling a client asks for a
// server once per transaction), -1 when no transaction ended in the interval.
struct PoolerStats
{
    QString database; // empty for the totals of all databases
    qint64 totalTransactions = 0;
    qint64 totalQueries = 0;
    qint64 totalWaitMicros = 0; // time clients spent waiting for a server connection
    bool ratesValid = false;
    double transactionsPerSecond = 0;
    double queriesPerSecond = 0;
    double waitMicrosPerSecond = 0;
    double avgWaitMs = -1;
};

struct PoolerSample
{
    QDateTime takenAt;                // client clock, UTC
    QList<PoolerPool> pools;          // the admin "pgbouncer" pseudo-database excluded
    PoolerStats stats;                // all databases
    QList<PoolerStats> databaseStats; // one per database of SHOW STATS, in its order
    int clActive() const;
    int clWaiting() const;
    int svActive() const;
    int svIdle() const;
    double maxWaitSeconds() const;
};

} // namespace poolscope
