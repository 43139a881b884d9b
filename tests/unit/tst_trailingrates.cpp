// The server's rates without a server (core/sampler/trailingrates.cpp): pending until the window
// spans its length, the sampler's own commit per tick taken out, "pending" instead of 0 while
// clients were busy, a real 0 when nobody was, a restart after a statistics reset, the window's
// floor of 60 s and its bound; and PgBouncer's rates per database with the wait per transaction.
#include "core/sampler/poolerquery.h"
#include "core/sampler/sampler.h"
#include "core/sampler/trailingrates.h"

#include <QTest>

using namespace poolscope;
using namespace std::chrono_literals;

namespace {

const QDateTime kStart = QDateTime::fromMSecsSinceEpoch(1'700'000'000'000, Qt::UTC);

ActivitySample tick(qint64 atMs, qint64 commits, int active = 0, qint64 sessions = 100,
                    int wentIdle = 0)
{
    ActivitySample s;
    s.wentIdleSincePrevious = wentIdle;
    s.takenAt = kStart.addMSecs(atMs);
    s.counters.commits = commits;
    s.counters.rollbacks = 0;
    s.counters.sessions = sessions;
    s.counts.active = active;
    s.counts.total = active;
    return s;
}

PoolerStats stats(const QString &database, qint64 transactions, qint64 queries, qint64 waitMicros)
{
    PoolerStats s;
    s.database = database;
    s.totalTransactions = transactions;
    s.totalQueries = queries;
    s.totalWaitMicros = waitMicros;
    return s;
}

} // namespace

class TestTrailingRates : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pendingUntilTheWindowIsFullThenTheAverageWithoutTheSamplersCommits()
    {
        TrailingRates rates(60s);
        // 1 tick a second; the load commits 100 a second plus the sampler's own one per tick,
        // and the server flushes them in bursts every 10 s.
        qint64 flushed = 0;
        Rates r;
        for (int t = 0; t <= 90; ++t) {
            if (t % 10 == 0)
                flushed = qint64(t) * 101;
            r = rates.add(tick(qint64(t) * 1000, flushed, 1, 100 + t / 2));
            if (t < 60) {
                QVERIFY2(!r.valid, qPrintable(QString::number(t)));
                QCOMPARE(r.pending, Rates::Pending::WindowFilling);
                QCOMPARE(r.intervalSeconds, double(t));
            } else {
                QVERIFY2(r.valid, qPrintable(QString::number(t)));
                QCOMPARE(r.pending, Rates::Pending::No);
                QCOMPARE(r.intervalSeconds, 60.0);
            }
        }
        // At t = 90: commits 9090 - 3030 over 60 s, 60 of them the sampler's.
        QCOMPARE(r.transactionsPerSecond, 100.0);
        QCOMPARE(r.commitsPerSecond, 100.0);
        QCOMPARE(r.sessionsPerSecond, 0.5);
        QCOMPARE(r.windowSeconds, 60.0);
        QVERIFY(rates.size() <= 62);
    }

    void noCommitWhileClientsWereBusyIsPendingNotZero()
    {
        TrailingRates rates(60s);
        Rates r;
        // Only the sampler's own commits reach the server; a client is active at one tick.
        for (int t = 0; t <= 70; ++t)
            r = rates.add(tick(qint64(t) * 1000, t, t == 65 ? 1 : 0));
        QVERIFY(!r.valid);
        QCOMPARE(r.pending, Rates::Pending::NotFlushed);
        // Once that tick has left the window, nobody was busy: a measured 0.
        for (int t = 71; t <= 130; ++t)
            r = rates.add(tick(qint64(t) * 1000, t));
        QVERIFY(r.valid);
        QCOMPARE(r.transactionsPerSecond, 0.0);
    }

    void countsFarBelowWhatActivityShowsArePendingNotALowNumber()
    {
        // Four pooled server connections run table-less transactions: each goes idle between two
        // ticks every second, but PostgreSQL flushes only a few commits a minute.
        TrailingRates rates(60s);
        Rates r;
        for (int t = 0; t <= 70; ++t)
            r = rates.add(tick(qint64(t) * 1000, qint64(t) + t / 10, 0, 100, 4));
        QVERIFY(!r.valid);
        QCOMPARE(r.pending, Rates::Pending::NotFlushed);
        QCOMPARE(r.seenAtLeastPerSecond, 4.0);
        // Flushed as they should be: far more than the lower bound, a value.
        TrailingRates flushed(60s);
        for (int t = 0; t <= 70; ++t)
            r = flushed.add(tick(qint64(t) * 1000, qint64(t) * 301, 0, 100, 4));
        QVERIFY(r.valid);
        QCOMPARE(r.transactionsPerSecond, 300.0);
        QCOMPARE(r.seenAtLeastPerSecond, 4.0);
    }

    void aStatisticsResetOrAGapStartsAgain()
    {
        TrailingRates rates(60s);
        Rates r;
        for (int t = 0; t <= 61; ++t)
            r = rates.add(tick(qint64(t) * 1000, 1000 + qint64(t) * 11));
        QVERIFY(r.valid);
        QCOMPARE(r.transactionsPerSecond, 10.0);
        // pg_stat_reset(): the counters go back to 0; no negative rate, a new window.
        r = rates.add(tick(62'000, 5));
        QVERIFY(!r.valid);
        QCOMPARE(r.pending, Rates::Pending::WindowFilling);
        QCOMPARE(rates.size(), 1);
        rates.reset();
        QCOMPARE(rates.size(), 0);
        r = rates.add(tick(63'000, 16));
        QCOMPARE(r.pending, Rates::Pending::WindowFilling);
    }

    void theWindowIsNeverShorterThan60sAndBounded()
    {
        SamplerConfig config;
        config.conninfo = QStringLiteral("host=localhost dbname=app");
        QVERIFY(!config.validate());
        for (const std::chrono::seconds window : { 59s, std::chrono::seconds(16min) }) {
            config.rateWindow = window;
            const auto error = config.validate();
            QVERIFY(error.has_value());
            QVERIFY2(error->message.contains(QLatin1String("60 s to 15 min")),
                     qPrintable(error->message));
        }

        TrailingRates tooShort(10s);
        QCOMPARE(tooShort.window(), std::chrono::milliseconds(60s));
        Rates r;
        for (int t = 0; t <= 30; ++t)
            r = tooShort.add(tick(qint64(t) * 1000, qint64(t) * 6));
        QVERIFY(!r.valid);

        TrailingRates longer(120s);
        for (int t = 0; t <= 6000; ++t)
            r = longer.add(tick(qint64(t) * 20, qint64(t) * 2)); // a tick every 20 ms
        // The newest points only: 82 s at this (impossible) pace, so not yet the 120 s.
        QCOMPARE(longer.size(), TrailingRates::kMaxPoints);
        QVERIFY(!r.valid);
    }

    void poolerRatesPerDatabaseAndTheWaitPerTransaction()
    {
        PoolerSample a;
        a.takenAt = kStart;
        a.stats = stats(QString(), 1000, 3000, 50'000);
        a.databaseStats = { stats(QStringLiteral("app"), 900, 2700, 50'000),
                            stats(QStringLiteral("reports"), 100, 300, 0) };
        PoolerSample b;
        b.takenAt = kStart.addMSecs(2000);
        b.stats = stats(QString(), 1600, 4800, 350'000);
        b.databaseStats = { stats(QStringLiteral("app"), 1500, 4500, 350'000),
                            stats(QStringLiteral("reports"), 100, 300, 0),
                            stats(QStringLiteral("new"), 0, 0, 0) };
        computePoolerRates(a, b);
        QVERIFY(b.stats.ratesValid);
        QCOMPARE(b.stats.transactionsPerSecond, 300.0);
        QCOMPARE(b.stats.queriesPerSecond, 900.0);
        QCOMPARE(b.stats.avgWaitMs, 0.5); // 300 ms of waiting over 600 transactions
        QCOMPARE(b.databaseStats.at(0).transactionsPerSecond, 300.0);
        QCOMPARE(b.databaseStats.at(0).avgWaitMs, 0.5);
        // No transaction ended: no average, not a 0 ms wait.
        QVERIFY(b.databaseStats.at(1).ratesValid);
        QCOMPARE(b.databaseStats.at(1).avgWaitMs, -1.0);
        QVERIFY(!b.databaseStats.at(2).ratesValid); // not in the previous sample

        // PgBouncer restarted: its totals start again, no rate for this interval.
        PoolerSample c = b;
        c.takenAt = b.takenAt.addMSecs(1000);
        c.stats = stats(QString(), 10, 30, 0);
        computePoolerRates(b, c);
        QVERIFY(!c.stats.ratesValid);
    }
};

QTEST_GUILESS_MAIN(TestTrailingRates)
#include "tst_trailingrates.moc"
