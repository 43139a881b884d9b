// The activity sampler against the sandbox: exact counts for a known mix of sessions, rates,
// outages, missing privileges, PgBouncer's console and the pace setting.
#include "core/db/connection.h"
#include "core/pool/connectionpool.h"
#include "core/sampler/sampler.h"
#include "core/sampler/samplerseries.h"
#include "core/timeseries/timeseriesstore.h"
#include "tests/support/sandboxfixture.h"
#include "tests/support/testsession.h"

#include <QSignalSpy>
#include <QtTest>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

class TestSampler : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;

    SamplerConfig config(std::chrono::milliseconds interval = 250ms) const
    {
        SamplerConfig c;
        c.conninfo = m_sandbox.adminUri();
        c.interval = interval;
        return c;
    }

    // A pool of `size` connections on the direct endpoint, filled; null when it cannot be
    // created or filled.
    std::shared_ptr<ConnectionPool> filledPool(const QString &applicationName, int size) const
    {
        PoolConfig poolConfig;
        poolConfig.conninfo = m_sandbox.directUri();
        poolConfig.applicationName = applicationName;
        poolConfig.minSize = size;
        poolConfig.maxSize = size;
        auto created = ConnectionPool::create(poolConfig);
        if (!created || !created.value()->waitUntilSize(size, 10s))
            return nullptr;
        return std::move(created).value();
    }

    // Waits for a sample that satisfies `accept`, returning the last one seen.
    static ActivitySample waitForSample(QSignalSpy &spy,
                                        const std::function<bool(const ActivitySample &)> &accept,
                                        int timeoutMs = 10000)
    {
        ActivitySample last;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            if (spy.isEmpty() && !spy.wait(1000))
                continue;
            last = spy.takeFirst().at(0).value<ActivitySample>();
            if (accept(last))
                break;
        }
        return last;
    }

    void terminate(const QString &applicationPattern)
    {
        querySingleValue(
            m_sandbox.adminUri(),
            QStringLiteral("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE application_name LIKE '%1'")
                .arg(applicationPattern));
    }

private Q_SLOTS:
    void initTestCase()
    {
        sandbox::SandboxOptions options;
        options.poolSize = 2; // so that a few clients make PgBouncer queue them
        QVERIFY2(m_sandbox.start(options), qPrintable(m_sandbox.errorString()));
        registerSamplerMetaTypes();
    }

    void excludesItselfOnAnIdleServer()
    {
        Sampler sampler(config());
        QSignalSpy spy(&sampler, &Sampler::sampled);
        sampler.start();
        const ActivitySample s = waitForSample(spy, [](const ActivitySample &) { return true; });
        QCOMPARE(s.counts.total, 0);
        QCOMPARE(s.limits.maxConnections, 100);
        QCOMPARE(s.limits.superuserReserved, 3);
        QCOMPARE(s.available, 97);
        QVERIFY(s.takenAt.isValid());
        QVERIFY(!s.queriesHidden);
        QVERIFY(s.serverVersion.startsWith(QLatin1String("15.")));
    }

    void reportsAKnownMixExactly()
    {
        const QString uri = m_sandbox.directUri();
        std::vector<std::unique_ptr<TestSession>> idle;
        for (int i = 0; i < 3; ++i)
            idle.push_back(std::make_unique<TestSession>(uri, QStringLiteral("mix-idle")));
        TestSession active1(uri, QStringLiteral("mix-active"));
        TestSession active2(uri, QStringLiteral("mix-active"));
        active1.execInBackground(QStringLiteral("SELECT pg_sleep(30)"));
        active2.execInBackground(QStringLiteral("SELECT pg_sleep(30)"));
        TestSession inTx1(uri, QStringLiteral("mix-tx"));
        TestSession inTx2(uri, QStringLiteral("mix-tx"));
        QVERIFY(inTx1.exec(QStringLiteral("BEGIN; SELECT 1")));
        QVERIFY(inTx2.exec(QStringLiteral("BEGIN; SELECT 1")));
        TestSession aborted(uri, QStringLiteral("mix-aborted"));
        QVERIFY(aborted.exec(QStringLiteral("BEGIN")));
        QVERIFY(!aborted.exec(QStringLiteral("SELECT 1/0")));
        TestSession holder(uri, QStringLiteral("mix-lock-holder"));
        QVERIFY(holder.exec(QStringLiteral("BEGIN; SELECT pg_advisory_xact_lock(4242)")));
        TestSession waiter(uri, QStringLiteral("mix-lock-waiter"));
        waiter.execInBackground(QStringLiteral("SELECT pg_advisory_xact_lock(4242)"));

        Sampler sampler(config());
        sampler.setSessionListEnabled(true);
        QSignalSpy spy(&sampler, &Sampler::sampled);
        sampler.start();
        sampler.setSessionListEnabled(true);
        const ActivitySample s = waitForSample(spy, [](const ActivitySample &x) {
            return x.counts.waiting == 1 && x.counts.active == 3 && x.sessions.has_value();
        });
        QCOMPARE(s.counts.total, 10);
        QCOMPARE(s.counts.active, 3); // two pg_sleep + the lock waiter
        QCOMPARE(s.counts.idle, 3);
        QCOMPARE(s.counts.idleInTransaction, 3); // two plain + the lock holder
        QCOMPARE(s.counts.idleInTransactionAborted, 1);
        QCOMPARE(s.counts.waiting, 1);
        QCOMPARE(s.counts.other, 0);
        QCOMPARE(s.available, 97 - 10);
        QVERIFY(s.longestTransactionSeconds > 0);
        QVERIFY(s.longestIdleInTransactionSeconds > 0);
        QVERIFY(s.longestQuerySeconds > 0);

        auto count = [](const QList<BreakdownEntry> &entries, const QString &key) {
            for (const BreakdownEntry &e : entries)
                if (e.key == key)
                    return e.total;
            return -1;
        };
        QCOMPARE(count(s.byApplication, QStringLiteral("mix-idle")), 3);
        QCOMPARE(count(s.byApplication, QStringLiteral("mix-active")), 2);
        QCOMPARE(count(s.byApplication, QStringLiteral("poolscope-sampler")), -1); // excluded
        QCOMPARE(count(s.byUser, QStringLiteral("app")), 10);
        QCOMPARE(count(s.byDatabase, QStringLiteral("app")), 10);
        int grouped = 0;
        for (const ActivityGroup &g : s.groups)
            grouped += g.count;
        QCOMPARE(grouped, 10);

        // The session list names who blocks whom.
        QVERIFY(s.sessions.has_value());
        QCOMPARE(s.sessions->size(), 10);
        bool foundWaiter = false;
        for (const SessionRow &row : *s.sessions) {
            if (row.pid == waiter.pid()) {
                foundWaiter = true;
                QCOMPARE(row.waitEventType, QStringLiteral("Lock"));
                QCOMPARE(row.blockingPids, QList<int> { holder.pid() });
            }
        }
        QVERIFY(foundWaiter);

        terminate(QStringLiteral("mix-%"));
    }

    void samplesFollowTheIntervalWhenItChanges()
    {
        // The server's rates are a trailing average over 60 s or more (tst_rates checks them
        // against a fixed offered load); here only the pace: the time between samples, measured
        // by the server's clock.
        Sampler sampler(config(250ms));
        QSignalSpy spy(&sampler, &Sampler::sampled);
        sampler.start();
        auto meanInterval = [&](int intervals) {
            spy.clear();
            QElapsedTimer t;
            t.start();
            while (spy.size() < intervals + 1 && !t.hasExpired(60000))
                spy.wait(5000);
            const QDateTime first = spy.first().at(0).value<ActivitySample>().takenAt;
            const QDateTime last = spy.last().at(0).value<ActivitySample>().takenAt;
            return double(first.msecsTo(last)) / 1000.0 / double(spy.size() - 1);
        };
        const double intervalFast = meanInterval(16);
        sampler.setInterval(1000ms);
        // The tick already armed at the old pace comes first.
        QVERIFY(spy.wait(5000));
        const double intervalSlow = meanInterval(4);

        // Never faster than asked; slower only by the ticks' own cost (the next tick is planned
        // when one finishes), which a loaded machine inflates for both paces alike: the pace
        // change shows as a ratio, nominally 4.
        const QString intervals =
            QStringLiteral("fast %1 s, slow %2 s").arg(intervalFast).arg(intervalSlow);
        QVERIFY2(intervalFast > 0.2 && intervalSlow > 0.9, qPrintable(intervals));
        QVERIFY2(intervalSlow > 2.5 * intervalFast, qPrintable(intervals));
    }

    void serverRestartGivesAGapThenRecovers()
    {
        TimeSeriesStore store;
        Sampler sampler(config(), &store);
        QSignalSpy samples(&sampler, &Sampler::sampled);
        QSignalSpy lost(&sampler, &Sampler::connectionLost);
        QSignalSpy restored(&sampler, &Sampler::connectionRestored);
        sampler.start();
        QVERIFY(samples.wait(5000));

        QVERIFY(m_sandbox.sandbox().stopPostgres());
        QVERIFY(lost.wait(10000));
        QCOMPARE(lost.size(), 1);
        const DbError error = lost.first().at(0).value<DbError>();
        QVERIFY2(error.isConnectionFatal(), qPrintable(error.summary()));
        QVERIFY(!error.remedy.isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(
            store.latest(series::Total).has_value() && store.latest(series::Total)->isGap(), 5000);
        // One event per outage, not one per failed tick: proving that no second one comes takes
        // time, four sampling intervals.
        QTest::qWait(int(4 * config().interval.count()));
        QCOMPARE(lost.size(), 1);

        QVERIFY(m_sandbox.sandbox().startPostgres());
        QVERIFY(restored.wait(20000));
        samples.clear();
        QVERIFY(samples.wait(5000));
        QTRY_VERIFY_WITH_TIMEOUT(!store.latest(series::Total)->isGap(), 5000);
        // The gap is in the stored series: a window over the outage contains a gap marker.
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        bool sawGap = false;
        for (const TimePoint &p : store.raw(series::Total, now - 60000, now + 1000))
            sawGap = sawGap || p.isGap();
        QVERIFY(sawGap);
    }

    void withoutMonitoringPrivilegesQueriesAreFlaggedHidden()
    {
        QVERIFY(
            !querySingleValue(
                 m_sandbox.adminUri(),
                 QStringLiteral("DO $$ BEGIN CREATE ROLE observer LOGIN PASSWORD 'observer-pw-1'; "
                                "EXCEPTION WHEN duplicate_object THEN NULL; END $$; SELECT 1"))
                 .isNull());
        TestSession other(m_sandbox.directUri(), QStringLiteral("someone-else"));
        SamplerConfig c = config();
        c.conninfo = QStringLiteral("postgresql://observer:observer-pw-1@127.0.0.1:%1/app")
                         .arg(m_sandbox.endpoints().postgresPort);
        Sampler sampler(c);
        QSignalSpy spy(&sampler, &Sampler::sampled);
        sampler.start();
        const ActivitySample s =
            waitForSample(spy, [](const ActivitySample &x) { return x.counts.total >= 1; });
        QVERIFY(s.queriesHidden);
        QCOMPARE(s.counts.total, 1); // still counted...
        QCOMPARE(s.counts.other, 1); // ...in state "unknown"
    }

    void poolerConsoleShowsClientsWaiting()
    {
        // Five clients through PgBouncer, whose pool holds 2 server connections: 3 must queue.
        std::vector<std::unique_ptr<TestSession>> clients;
        for (int i = 0; i < 5; ++i) {
            clients.push_back(std::make_unique<TestSession>(m_sandbox.pooledUri(),
                                                            QStringLiteral("pooled-client")));
            clients.back()->execInBackground(QStringLiteral("SELECT pg_sleep(3)"));
        }
        SamplerConfig c = config();
        c.poolerConsoleConninfo = m_sandbox.consoleUri();
        Sampler sampler(c);
        QSignalSpy pooler(&sampler, &Sampler::poolerSampled);
        QSignalSpy unavailable(&sampler, &Sampler::poolerUnavailable);
        sampler.start();
        int maxWaiting = 0, maxActive = 0;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 4000 && maxWaiting == 0) {
            if (pooler.wait(1000)) {
                const PoolerSample p = pooler.takeFirst().at(0).value<PoolerSample>();
                maxWaiting = std::max(maxWaiting, p.clWaiting());
                maxActive = std::max(maxActive, p.svActive());
            }
        }
        QVERIFY2(maxWaiting > 0, qPrintable(QString::number(maxWaiting)));
        QVERIFY(maxActive <= 2);
        QCOMPARE(unavailable.size(), 0);
        for (auto &client : clients)
            client->wait();
    }

    void unreachablePoolerConsoleIsReportedOnce()
    {
        SamplerConfig c = config();
        c.poolerConsoleConninfo =
            QStringLiteral("postgresql://poolscope_stats@127.0.0.1:1/pgbouncer");
        Sampler sampler(c);
        QSignalSpy samples(&sampler, &Sampler::sampled);
        QSignalSpy unavailable(&sampler, &Sampler::poolerUnavailable);
        sampler.start();
        QTRY_COMPARE_WITH_TIMEOUT(samples.size() >= 4, true, 5000); // the database goes on
        QCOMPARE(unavailable.size(), 1);
        QCOMPARE(unavailable.first().at(0).value<DbError>().kind, ErrorKind::ConnectionRefused);
    }

    void asleepSendsNoQueriesAndHoldsNoConnection()
    {
        Sampler sampler(config());
        QSignalSpy spy(&sampler, &Sampler::sampled);
        sampler.start();
        QVERIFY(spy.wait(5000));
        const QString countSampler = QStringLiteral(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'poolscope-sampler'");
        QCOMPARE(querySingleValue(m_sandbox.adminUri(), countSampler), QStringLiteral("1"));

        sampler.setPace(SamplerPace::Asleep);
        QTRY_COMPARE_WITH_TIMEOUT(querySingleValue(m_sandbox.adminUri(), countSampler),
                                  QStringLiteral("0"), 5000);
        QCoreApplication::processEvents(); // a sample that landed before is not counted
        spy.clear();
        // Proving that no query is sent takes time: six sampling intervals.
        QTest::qWait(int(6 * config().interval.count()));
        QCOMPARE(spy.size(), 0);

        sampler.setPace(SamplerPace::Live);
        QVERIFY(spy.wait(5000));
    }

    // A session restarted during a pause (the real-cold test) sets the pace before start():
    // it must hold from the first tick, and so must the session list.
    void paceAndSessionListSetBeforeStartHoldFromTheFirstTick()
    {
        Sampler sampler(config());
        QSignalSpy spy(&sampler, &Sampler::sampled);
        sampler.setPace(SamplerPace::Asleep);
        sampler.setSessionListEnabled(true);
        sampler.start();
        // Asleep from the first tick: no connection and no sample for six sampling intervals.
        QTest::qWait(int(6 * config().interval.count()));
        QCOMPARE(spy.size(), 0);
        QCOMPARE(querySingleValue(m_sandbox.adminUri(),
                                  QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE "
                                                 "application_name = 'poolscope-sampler'")),
                 QStringLiteral("0"));

        sampler.setPace(SamplerPace::Live);
        QVERIFY(spy.wait(5000));
        const auto sample = spy.first().at(0).value<ActivitySample>();
        QVERIFY2(sample.sessions.has_value(), "the session list asked for before start()");
    }

    void theApplicationsOwnPoolGoesIntoTheSameStore()
    {
        const std::shared_ptr<ConnectionPool> pool = filledPool(QStringLiteral("own-pool"), 3);
        QVERIFY(pool);
        auto lease = pool->acquire(QStringLiteral("held"));
        QVERIFY(lease);

        TimeSeriesStore store;
        SamplerConfig c = config();
        c.ownPool = pool;
        Sampler sampler(c, &store);
        QSignalSpy poolSpy(&sampler, &Sampler::poolStatsSampled);
        QSignalSpy samples(&sampler, &Sampler::sampled);
        sampler.start();
        QVERIFY(poolSpy.wait(5000));
        QTRY_VERIFY_WITH_TIMEOUT(store.latest(series::PoolInUse).has_value(), 5000);
        QCOMPARE(store.latest(series::PoolSize)->value, 3.0);
        QCOMPARE(store.latest(series::PoolInUse)->value, 1.0);
        QCOMPARE(store.latest(series::PoolIdle)->value, 2.0);
        // ... next to what the server says about the same connections (other tests of this
        // executable may leave PgBouncer's idle server connections behind: count by name).
        auto ownPool = [](const ActivitySample &x) {
            for (const BreakdownEntry &e : x.byApplication)
                if (e.key == QLatin1String("own-pool"))
                    return e.total;
            return 0;
        };
        const ActivitySample s =
            waitForSample(samples, [&](const ActivitySample &x) { return ownPool(x) == 3; });
        QCOMPARE(ownPool(s), 3);
        QVERIFY(store.latest(series::Total)->value >= 3.0);
    }

    // The owner of the pool may close it and let go while the sampler still reads it (the
    // session stops its demo workload before its sampler): the sampler's share keeps the pool
    // object alive, and a closed pool reports no connections. Under ASan, reading a freed pool
    // fails this test.
    void theOwnPoolOutlivesItsOwnerWhileSampled()
    {
        std::shared_ptr<ConnectionPool> pool = filledPool(QStringLiteral("own-pool-released"), 2);
        QVERIFY(pool);

        const std::weak_ptr<ConnectionPool> watch = pool;
        {
            SamplerConfig c = config(250ms);
            c.ownPool = pool;
            Sampler sampler(c);
            QSignalSpy poolSpy(&sampler, &Sampler::poolStatsSampled);
            sampler.start();
            QVERIFY(poolSpy.wait(5000));
            QCOMPARE(qvariant_cast<PoolStats>(poolSpy.constLast().at(0)).size, 2);

            pool->close();
            pool.reset();
            QVERIFY(!watch.expired()); // the sampler's share
            poolSpy.clear();
            QTRY_VERIFY_WITH_TIMEOUT(
                !poolSpy.isEmpty() && qvariant_cast<PoolStats>(poolSpy.constLast().at(0)).size == 0,
                5000);
        }
        QVERIFY(watch.expired()); // nothing else held it
    }

    void invalidConfigurationIsRefused()
    {
        SamplerConfig c = config(100ms);
        QVERIFY(c.validate().has_value());
        c = config(2min);
        QVERIFY(c.validate().has_value());
        c = config();
        c.conninfo = QStringLiteral("host='unterminated");
        QVERIFY(c.validate().has_value());
        QVERIFY(!config().validate().has_value());
    }
};

QTEST_GUILESS_MAIN(TestSampler)
#include "tst_sampler.moc"
