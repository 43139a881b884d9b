#include "core/sampler/samplerseries.h"

#include "core/timeseries/timeseriesstore.h"

#include <limits>

namespace poolscope {

void appendActivity(TimeSeriesStore &store, const ActivitySample &s)
{
    TimeSeriesStore::Values v {
        { series::Total, s.counts.total },
        { series::Active, s.counts.active },
        { series::Idle, s.counts.idle },
        { series::IdleInTransaction, s.counts.idleInTransaction },
        { series::IdleInTransactionAborted, s.counts.idleInTransactionAborted },
        { series::Waiting, s.counts.waiting },
        { series::OtherState, s.counts.other },
        { series::MaxConnections, s.limits.maxConnections },
        { series::UsableByOrdinaryRoles, s.limits.usableByOrdinaryRoles() },
        { series::Available, s.available },
        { series::LongestQuery, s.longestQuerySeconds },
        { series::LongestTransaction, s.longestTransactionSeconds },
        { series::LongestIdleInTransaction, s.longestIdleInTransactionSeconds },
        { series::SampleRoundTrip, double(s.roundTripMicros) / 1000.0 },
    };
    if (s.rates.valid) {
        v.append({ series::TransactionsPerSecond, s.rates.transactionsPerSecond });
        if (s.rates.sessionsPerSecond >= 0)
            v.append({ series::SessionsPerSecond, s.rates.sessionsPerSecond });
    } else if (s.rates.pending == Rates::Pending::NotFlushed) {
        const double gap = std::numeric_limits<double>::quiet_NaN();
        v.append({ series::TransactionsPerSecond, gap });
        v.append({ series::SessionsPerSecond, gap });
    }
    store.append(s.takenAt.toMSecsSinceEpoch(), v);
}

void appendPooler(TimeSeriesStore &store, const PoolerSample &s)
{
    TimeSeriesStore::Values v {
        { series::PoolerClientsActive, s.clActive() },
        { series::PoolerClientsWaiting, s.clWaiting() },
        { series::PoolerServersActive, s.svActive() },
        { series::PoolerServersIdle, s.svIdle() },
        { series::PoolerMaxWait, s.maxWaitSeconds() },
    };
    if (s.stats.ratesValid) {
        v.append({ series::PoolerTransactionsPerSecond, s.stats.transactionsPerSecond });
        v.append({ series::PoolerQueriesPerSecond, s.stats.queriesPerSecond });
        if (s.stats.avgWaitMs >= 0)
            v.append({ series::PoolerAvgWait, s.stats.avgWaitMs });
    }
    store.append(s.takenAt.toMSecsSinceEpoch(), v);
}

void appendPool(TimeSeriesStore &store, const PoolStats &stats)
{
    store.append(stats.takenAt.toMSecsSinceEpoch(),
                 {
                     { series::PoolInUse, stats.inUse },
                     { series::PoolIdle, stats.idle },
                     { series::PoolWaiting, stats.waiting },
                     { series::PoolSize, stats.size },
                     { series::PoolAcquireWaitP95, double(stats.acquireWait.p95Us) / 1000.0 },
                 });
}

void appendGap(TimeSeriesStore &store, const QDateTime &at)
{
    store.appendGap(at.toMSecsSinceEpoch());
}

void appendPoolerGap(TimeSeriesStore &store, const QDateTime &at)
{
    // A NaN is stored as a gap point; appendGap() would break the database's lines as well.
    const double gap = std::numeric_limits<double>::quiet_NaN();
    store.append(at.toMSecsSinceEpoch(),
                 { { series::PoolerClientsActive, gap },
                   { series::PoolerClientsWaiting, gap },
                   { series::PoolerServersActive, gap },
                   { series::PoolerServersIdle, gap },
                   { series::PoolerMaxWait, gap },
                   { series::PoolerTransactionsPerSecond, gap },
                   { series::PoolerQueriesPerSecond, gap },
                   { series::PoolerAvgWait, gap } });
}

} // namespace poolscope
