#include "core/sampler/poolerquery.h"

namespace poolscope {
namespace {

qint64 column(const QueryResult &r, int row, const char *name)
{
    const int c = r.columnIndex(QString::fromLatin1(name));
    return c < 0 ? 0 : r.toInt64(row, c);
}

QString text(const QueryResult &r, int row, const char *name)
{
    const int c = r.columnIndex(QString::fromLatin1(name));
    return c < 0 ? QString() : r.value(row, c);
}

// The console's own pseudo-database is not a pool anyone waits on.
bool isConsole(const QString &database)
{
    return database == QLatin1String("pgbouncer");
}

} // namespace

Result<PoolerSample, DbError> samplePooler(Connection &console, Clock::duration timeout)
{
    auto pools = console.exec(QStringLiteral("SHOW POOLS"), timeout);
    if (!pools)
        return pools.error();
    auto stats = console.exec(QStringLiteral("SHOW STATS"), timeout);
    if (!stats)
        return stats.error();

    PoolerSample s;
    s.takenAt = QDateTime::currentDateTimeUtc();
    const QueryResult &p = pools.value();
    for (int row = 0; row < p.rowCount(); ++row) {
        PoolerPool pool;
        pool.database = text(p, row, "database");
        if (isConsole(pool.database))
            continue;
        pool.user = text(p, row, "user");
        pool.poolMode = text(p, row, "pool_mode");
        pool.clActive = int(column(p, row, "cl_active"));
        pool.clWaiting = int(column(p, row, "cl_waiting"));
        pool.svActive = int(column(p, row, "sv_active"));
        pool.svIdle = int(column(p, row, "sv_idle"));
        pool.svUsed = int(column(p, row, "sv_used"));
        pool.svLogin = int(column(p, row, "sv_login"));
        pool.maxWaitSeconds =
            double(column(p, row, "maxwait")) + double(column(p, row, "maxwait_us")) / 1e6;
        s.pools << pool;
    }
    const QueryResult &st = stats.value();
    for (int row = 0; row < st.rowCount(); ++row) {
        if (isConsole(text(st, row, "database")))
            continue;
        s.stats.totalTransactions += column(st, row, "total_xact_count");
        s.stats.totalQueries += column(st, row, "total_query_count");
        s.stats.totalWaitMicros += column(st, row, "total_wait_time");
    }
    return s;
}

void computePoolerRates(const PoolerSample &previous, PoolerSample &current)
{
    const double seconds = double(previous.takenAt.msecsTo(current.takenAt)) / 1000.0;
    const PoolerStats &a = previous.stats;
    PoolerStats &b = current.stats;
    b.ratesValid = previous.takenAt.isValid() && seconds > 0
        && b.totalTransactions >= a.totalTransactions && b.totalQueries >= a.totalQueries
        && b.totalWaitMicros >= a.totalWaitMicros;
    if (!b.ratesValid)
        return;
    b.transactionsPerSecond = double(b.totalTransactions - a.totalTransactions) / seconds;
    b.queriesPerSecond = double(b.totalQueries - a.totalQueries) / seconds;
    b.waitMicrosPerSecond = double(b.totalWaitMicros - a.totalWaitMicros) / seconds;
}

int PoolerSample::clActive() const
{
    int n = 0;
    for (const PoolerPool &p : pools)
        n += p.clActive;
    return n;
}

int PoolerSample::clWaiting() const
{
    int n = 0;
    for (const PoolerPool &p : pools)
        n += p.clWaiting;
    return n;
}

int PoolerSample::svActive() const
{
    int n = 0;
    for (const PoolerPool &p : pools)
        n += p.svActive;
    return n;
}

int PoolerSample::svIdle() const
{
    int n = 0;
    for (const PoolerPool &p : pools)
        n += p.svIdle;
    return n;
}

double PoolerSample::maxWaitSeconds() const
{
    double m = 0;
    for (const PoolerPool &p : pools)
        m = std::max(m, p.maxWaitSeconds);
    return m;
}

} // namespace poolscope
