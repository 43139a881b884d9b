#pragma once

#include "core/pool/poolstats.h"
#include "core/sampler/activitysample.h"

#include <QDateTime>
#include <QString>

namespace poolscope {

class TimeSeriesStore;

// The names under which the sampler stores its series; charts and exports use the same names.
namespace series {
inline const QString Total = QStringLiteral("connections.total");
inline const QString Active = QStringLiteral("connections.active");
inline const QString Idle = QStringLiteral("connections.idle");
inline const QString IdleInTransaction = QStringLiteral("connections.idle_in_transaction");
inline const QString IdleInTransactionAborted =
    QStringLiteral("connections.idle_in_transaction_aborted");
inline const QString Waiting = QStringLiteral("connections.waiting");
inline const QString OtherState = QStringLiteral("connections.other");
inline const QString MaxConnections = QStringLiteral("limits.max_connections");
inline const QString UsableByOrdinaryRoles = QStringLiteral("limits.usable");
inline const QString Available = QStringLiteral("connections.available");
inline const QString LongestQuery = QStringLiteral("age.longest_query_seconds");
inline const QString LongestTransaction = QStringLiteral("age.longest_transaction_seconds");
inline const QString LongestIdleInTransaction =
    QStringLiteral("age.longest_idle_in_transaction_seconds");
// pg_stat_database over the trailing window (TrailingRates); absent while pending.
inline const QString TransactionsPerSecond = QStringLiteral("rate.transactions_per_second");
inline const QString SessionsPerSecond = QStringLiteral("rate.sessions_per_second");
inline const QString SampleRoundTrip = QStringLiteral("sampler.round_trip_ms");
inline const QString PoolerClientsActive = QStringLiteral("pooler.cl_active");
inline const QString PoolerClientsWaiting = QStringLiteral("pooler.cl_waiting");
inline const QString PoolerServersActive = QStringLiteral("pooler.sv_active");
inline const QString PoolerServersIdle = QStringLiteral("pooler.sv_idle");
inline const QString PoolerMaxWait = QStringLiteral("pooler.maxwait_seconds");
// PgBouncer SHOW STATS between two console samples, all databases (exact).
inline const QString PoolerTransactionsPerSecond = QStringLiteral("pooler.transactions_per_second");
inline const QString PoolerQueriesPerSecond = QStringLiteral("pooler.queries_per_second");
inline const QString PoolerAvgWait = QStringLiteral("pooler.avg_wait_ms"); // per transaction
inline const QString PoolInUse = QStringLiteral("pool.in_use");
inline const QString PoolIdle = QStringLiteral("pool.idle");
inline const QString PoolWaiting = QStringLiteral("pool.waiting");
inline const QString PoolSize = QStringLiteral("pool.size");
inline const QString PoolAcquireWaitP95 = QStringLiteral("pool.acquire_wait_p95_ms");
} // namespace series

// One batch per tick (the store keeps a tick atomic). Rates are stored only when valid: never
// while the trailing window fills (or on the first console sample). Pending again after a
// window had a value (no commit flushed while clients were busy), the rates get a gap point
// instead, so that no line is drawn across the time without a measurement.
void appendActivity(TimeSeriesStore &store, const ActivitySample &sample);
void appendPooler(TimeSeriesStore &store, const PoolerSample &sample);
void appendPool(TimeSeriesStore &store, const PoolStats &stats);
void appendGap(TimeSeriesStore &store, const QDateTime &at);
// A gap in the pooler's series only: PgBouncer's console failed while the database answered.
void appendPoolerGap(TimeSeriesStore &store, const QDateTime &at);

} // namespace poolscope
