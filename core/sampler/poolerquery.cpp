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
        PoolerStats db;
        db.database = text(st, row, "database");
        if (isConsole(db.database))
            continue;
        db.totalTransactions = column(st, row, "total_xact_count");
        db.totalQueries = column(st, row, "total_query_count");
        db.totalWaitMicros = column(st, row, "total_wait_time");
        s.stats.totalTransactions += db.totalTransactions;
        s.stats.totalQueries += db.totalQueries;
        s.stats.totalWaitMicros += db.totalWaitMicros;
        s.databaseStats << db;
    }
    return s;
}

namespace {

void computeRates(const PoolerStats &a, PoolerStats &b, double seconds)
{
    b.ratesValid = seconds > 0 && b.totalTransactions >= a.totalTransactions
        && b.totalQueries >= a.totalQueries && b.totalWaitMicros >= a.totalWaitMicros;
    if (!b.ratesValid)
        return;
    const qint64 transactions = b.totalTransactions - a.totalTransactions;
    const qint64 waited = b.totalWaitMicros - a.totalWaitMicros;
    b.transactionsPerSecond = double(transactions) / seconds;
    b.queriesPerSecond = double(b.totalQueries - a.totalQueries) / seconds;
    b.waitMicrosPerSecond = double(waited) / seconds;
    b.avgWaitMs = transactions > 0 ? double(waited) / double(transactions) / 1000.0 : -1;
}

} // namespace

void computePoolerRates(const PoolerSample &previous, PoolerSample &current)
{
    if (!previous.takenAt.isValid())
        return;
    const double seconds = double(previous.takenAt.msecsTo(current.takenAt)) / 1000.0;
    computeRates(previous.stats, current.stats, seconds);
    for (PoolerStats &db : current.databaseStats) {
        for (const PoolerStats &before : previous.databaseStats) {
            if (before.database == db.database) {
                computeRates(before, db, seconds);
                break;
            }
        }
    }
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
