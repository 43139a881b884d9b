// The load demo against a sandbox with max_connections 20 (17 for ordinary roles, one of which
// the demo's superuser monitor takes): 10 instances x pool 2:5 on the direct endpoint run out of
// slots (53300 counted, with the remedy); the same load through PgBouncer (pool size 15) has no
// error and never more server connections than the pool size; after every run the server's
// client-backend count is back at the baseline, checked here on a connection of the test's own;
// requests follow rate x duration within Poisson tolerance and runs end on time; Stop and
// destruction mid-run close everything; remote targets are refused or capped; the store gets the
// demo's series; instances that scale to zero start cold again.
#include "core/loaddemo/loaddemo.h"
#include "core/timeseries/timeseriesstore.h"
#include "tests/support/sandboxfixture.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

#include <cmath>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kMaxConnections = 20;
constexpr int kPoolerPoolSize = 15;

QString describe(const LoadDemoRunSummary &r)
{
    QString text = QStringLiteral("%1: requests %2 ok %3 53300 %4 acquire %5 pooler %6 other %7 "
                                  "abandoned %8 peak %9 baseline %10 after %11 duration %12 s")
                       .arg(r.target)
                       .arg(r.requests)
                       .arg(r.ok)
                       .arg(r.errors.tooManyConnections)
                       .arg(r.errors.acquireTimeout)
                       .arg(r.errors.pooler)
                       .arg(r.errors.other)
                       .arg(r.abandoned)
                       .arg(r.peakServerConnections)
                       .arg(r.baselineServerConnections)
                       .arg(r.serverConnectionsAfter)
                       .arg(r.durationSeconds);
    for (const LoadDemoFirstError &e : r.firstErrors)
        text += QStringLiteral("\n  first %1: %2")
                    .arg(loadDemoErrorClassName(e.errorClass), e.error.summary());
    for (const QString &w : r.warnings)
        text += QStringLiteral("\n  warning: ") + w;
    if (r.fatal)
        text += QStringLiteral("\n  fatal: ") + r.fatal->summary();
    return text;
}

// Needs about 12 connections on average (120/s x 100 ms) and 20 as soon as every instance has
// opened its min of 2: more than the 16 slots the app can get.
LoadDemoConfig fanOut()
{
    LoadDemoConfig c;
    c.instances = 10;
    c.pool.minSize = 2;
    c.pool.maxSize = 5;
    c.ratePerSecond = 120;
    c.hold = 100ms;
    c.duration = 3s;
    c.seed = 42;
    return c;
}

} // namespace

class TestLoadDemo : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;

    QList<LoadDemoTarget> targets(const QString &which) const
    {
        return loadDemoSandboxTargets(m_sandbox.endpoints(), which, kPoolerPoolSize);
    }

    // Client backends of the app database, on a connection of the test's own (to the postgres
    // database, so it is not counted). -1 when the query failed.
    int serverCount() const
    {
        QString error;
        const QString value = querySingleValue(
            m_sandbox.adminUri(),
            QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' AND "
                           "backend_type = 'client backend'"),
            &error);
        return value.isNull() ? -1 : value.toInt();
    }

    // Backends exit asynchronously after the client closed: poll briefly.
    bool serverCountReaches(int expected, int timeoutMs = 5000) const
    {
        QElapsedTimer t;
        t.start();
        while (serverCount() != expected && t.elapsed() < timeoutMs)
            QThread::msleep(50);
        return serverCount() == expected;
    }

    void verifyBounds(const LoadDemoRunSummary &r, const LoadDemoConfig &c)
    {
        // Poisson: rate x duration arrivals, standard deviation sqrt of that; 5 sigma.
        const double expected = c.ratePerSecond * double(c.duration.count()) / 1000.0;
        QVERIFY2(std::abs(double(r.requests) - expected) <= 5 * std::sqrt(expected),
                 qPrintable(describe(r)));
        QCOMPARE(r.ok + r.errors.total() + r.abandoned, r.requests);
        // Arrivals for `duration`, then at most the drain grace, then the close.
        const double limit = double((c.duration + c.drainGrace).count()) / 1000.0 + 1.0;
        QVERIFY2(r.durationSeconds <= limit, qPrintable(describe(r)));
        QVERIFY2(r.durationSeconds >= double(c.duration.count()) / 1000.0 - 0.05,
                 qPrintable(describe(r)));
    }

private Q_SLOTS:
    void initTestCase()
    {
        sandbox::SandboxOptions options;
        options.maxConnections = kMaxConnections;
        options.poolSize = kPoolerPoolSize;
        QVERIFY2(m_sandbox.start(options), qPrintable(m_sandbox.errorString()));
    }

    void directRunsOutOfConnections()
    {
        const int baseline = serverCount();
        QVERIFY(baseline >= 0);
        LoadDemoRequest request;
        request.config = fanOut();
        request.targets = targets(QStringLiteral("direct"));
        const LoadDemoReport report = runLoadDemo(request);
        QVERIFY(!report.refused);
        QCOMPARE(report.runs.size(), 1);
        const LoadDemoRunSummary &r = report.runs.constFirst();
        QVERIFY2(!r.fatal, qPrintable(describe(r)));
        QVERIFY2(r.errors.tooManyConnections > 0, qPrintable(describe(r)));
        QVERIFY2(r.ok > 0, qPrintable(describe(r)));
        QCOMPARE(r.serverLimit, kMaxConnections - 3);
        QVERIFY2(r.peakServerConnections > 0 && r.peakServerConnections <= r.serverLimit,
                 qPrintable(describe(r)));
        QVERIFY(!r.firstErrors.isEmpty());
        const LoadDemoFirstError &first = r.firstErrors.constFirst();
        QCOMPARE(first.errorClass, LoadDemoErrorClass::TooManyConnections);
        QCOMPARE(first.error.sqlstate, QStringLiteral("53300"));
        QVERIFY(first.error.remedy.contains(QLatin1String("pooled endpoint")));
        verifyBounds(r, request.config);
        QCOMPARE(r.baselineServerConnections, baseline);
        QVERIFY2(r.returnedToBaseline, qPrintable(describe(r)));
        QVERIFY2(serverCountReaches(baseline), qPrintable(QString::number(serverCount())));
    }

    void pooledAbsorbsTheSameLoad()
    {
        const int baseline = serverCount();
        LoadDemoRequest request;
        request.config = fanOut();
        request.targets = targets(QStringLiteral("pooled"));
        const LoadDemoReport report = runLoadDemo(request);
        QCOMPARE(report.runs.size(), 1);
        const LoadDemoRunSummary &r = report.runs.constFirst();
        QVERIFY2(!r.fatal, qPrintable(describe(r)));
        QVERIFY2(r.errors.total() == 0 && r.abandoned == 0, qPrintable(describe(r)));
        QCOMPARE(r.ok, r.requests);
        // PgBouncer's server connections are the only app backends; the monitor sits in the
        // postgres database and excludes itself.
        QVERIFY2(r.peakServerConnections >= 1 && r.peakServerConnections <= kPoolerPoolSize,
                 qPrintable(describe(r)));
        QVERIFY2(r.peakPoolerClientsWaiting >= 0, qPrintable(describe(r)));
        QCOMPARE(r.poolerPoolSize, kPoolerPoolSize);
        verifyBounds(r, request.config);
        // RECONNECT made PgBouncer close the server connections it kept idle.
        QVERIFY2(r.returnedToBaseline, qPrintable(describe(r)));
        QVERIFY2(serverCountReaches(baseline), qPrintable(QString::number(serverCount())));
    }

    void stopMidRunClosesEverything()
    {
        const int baseline = serverCount();
        TimeSeriesStore store;
        LoadDemoRunner runner;
        QSignalSpy snapshots(&runner, &LoadDemoRunner::snapshot);
        QSignalSpy finished(&runner, &LoadDemoRunner::finished);
        LoadDemoRequest request;
        request.config = fanOut();
        request.config.duration = 30s;
        // Pooled first, then direct: Stop during the first run, the second never starts.
        const auto both = targets(QStringLiteral("both"));
        request.targets = { both.at(1), both.at(0) };
        request.store = &store;
        QString whyNot;
        QVERIFY2(runner.start(request, &whyNot), qPrintable(whyNot));
        QVERIFY(runner.isRunning());
        QTRY_VERIFY_WITH_TIMEOUT(snapshots.count() >= 4, 10000);
        QVERIFY2(serverCount() > baseline, "the load should hold server connections by now");
        QElapsedTimer stopping;
        stopping.start();
        runner.stop();
        // A third of the run's 30 s: a stop that waited for the run to end fails here, however
        // loaded the machine.
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
        qInfo("stopped in %lld ms", stopping.elapsed());
        QVERIFY(!runner.isRunning());
        const auto report = finished.constFirst().constFirst().value<LoadDemoReport>();
        QVERIFY(report.cancelled);
        QCOMPARE(report.runs.size(), 1); // the direct run never started
        QVERIFY(report.runs.constFirst().cancelled);
        QVERIFY2(report.runs.constFirst().returnedToBaseline,
                 qPrintable(describe(report.runs.constFirst())));
        QVERIFY2(serverCountReaches(baseline), qPrintable(QString::number(serverCount())));

        // The live snapshots went to the store, under the documented names.
        const auto last = snapshots.constLast().constFirst().value<LoadDemoSnapshot>();
        QCOMPARE(last.target, QStringLiteral("pooled"));
        QVERIFY(last.requests > 0);
        const auto points =
            store.raw(loaddemoseries::ServerConnections, 0, std::numeric_limits<qint64>::max());
        QVERIFY(points.size() >= 4);
        double peak = 0;
        for (const TimePoint &p : points)
            peak = p.isGap() ? peak : std::max(peak, p.value);
        QVERIFY(peak > 0);
        for (const QString &name : store.seriesNames())
            QVERIFY2(loaddemoseries::all().contains(name), qPrintable(name));
    }

    void destructionMidRunLeavesNoBackend()
    {
        const int baseline = serverCount();
        auto runner = std::make_unique<LoadDemoRunner>();
        QSignalSpy snapshots(runner.get(), &LoadDemoRunner::snapshot);
        LoadDemoRequest request;
        request.config = fanOut();
        request.config.ratePerSecond = 40;
        request.config.duration = 30s;
        request.targets = targets(QStringLiteral("direct"));
        QVERIFY(runner->start(request));
        QTRY_VERIFY_WITH_TIMEOUT(snapshots.count() >= 4, 10000);
        QVERIFY(serverCount() > baseline);
        QElapsedTimer t;
        t.start();
        runner.reset(); // every connection closed when this returns; no re-measuring
        // Normally tens of ms; a monitoring query in flight may hold it up to its deadline.
        QVERIFY2(t.elapsed() < 2500, qPrintable(QString::number(t.elapsed())));
        QVERIFY2(serverCountReaches(baseline), qPrintable(QString::number(serverCount())));
    }

    void remoteTargetsAreRefusedOrCapped()
    {
        LoadDemoRequest request;
        request.config = fanOut();
        request.config.instances = 100;
        request.config.ratePerSecond = 500;
        LoadDemoTarget remote;
        remote.label = QStringLiteral("remote");
        remote.conninfo = QStringLiteral("host=203.0.113.7 dbname=app user=app");
        request.targets = { remote };
        LoadDemoRunner runner;
        QString whyNot;
        QVERIFY(!runner.start(request, &whyNot));
        QVERIFY2(whyNot.contains(QLatin1String("--allow-remote")), qPrintable(whyNot));
        QVERIFY(!runner.isRunning());

        request.allowRemote = true;
        auto checked = applyLoadDemoLimits(request);
        QVERIFY(checked.ok());
        // 20 instances x pool max 5 would be 100 connections: instances go down to 10.
        QCOMPARE(request.config.pool.maxSize, 5);
        QCOMPARE(request.config.instances, LoadDemoLimits::kRemoteMaxClientConnections / 5);
        QCOMPARE(request.config.ratePerSecond, LoadDemoLimits::kRemoteMaxRatePerSecond);
        QVERIFY(request.config.instances * request.config.pool.maxSize
                <= LoadDemoLimits::kRemoteMaxClientConnections);
        const QString warnings = checked.value().join(QLatin1Char('\n'));
        QVERIFY2(warnings.contains(QLatin1String("203.0.113.7")), qPrintable(warnings));
        QVERIFY2(warnings.contains(QLatin1String("instances capped")), qPrintable(warnings));
        QVERIFY2(warnings.contains(QLatin1String("rate capped")), qPrintable(warnings));

        // Local caps refuse instead of clamping.
        LoadDemoRequest local;
        local.targets = targets(QStringLiteral("direct"));
        local.config.instances = LoadDemoLimits::kMaxInstances + 1;
        QVERIFY(!applyLoadDemoLimits(local).ok());
        local.config = fanOut();
        local.config.pool.minSize = 6;
        QVERIFY(!applyLoadDemoLimits(local).ok());
        local.config = fanOut();
        local.config.instances = 2000;
        local.config.pool.maxSize = 10; // 20,000 client connections
        QVERIFY(!applyLoadDemoLimits(local).ok());
        local.config = fanOut();
        QVERIFY(applyLoadDemoLimits(local).ok());
    }

    void burstAndScaleToZeroStartColdAgain()
    {
        LoadDemoRequest request;
        request.config.instances = 20;
        request.config.pool.minSize = 1;
        request.config.pool.maxSize = 2;
        request.config.ratePerSecond = 10;
        request.config.hold = 10ms;
        request.config.duration = 2500ms;
        request.config.burstRamp = 300ms;
        request.config.pool.instanceIdleTimeout = 400ms;
        request.config.seed = 7;
        request.targets = targets(QStringLiteral("pooled"));
        const LoadDemoReport report = runLoadDemo(request);
        QCOMPARE(report.runs.size(), 1);
        const LoadDemoRunSummary &r = report.runs.constFirst();
        QVERIFY2(!r.fatal && r.errors.total() == 0, qPrintable(describe(r)));
        // One burst request per instance within the first 300 ms, each a cold start ...
        QVERIFY2(r.requests >= 20 && r.connectionsOpened >= 20, qPrintable(describe(r)));
        // ... then the instances went cold after 400 ms idle and later requests started cold.
        QVERIFY2(r.coldStarts > 20, qPrintable(describe(r)));
        QVERIFY2(r.connectionsOpened >= r.coldStarts, qPrintable(describe(r)));
    }
};

QTEST_GUILESS_MAIN(TestLoadDemo)
#include "tst_loaddemo.moc"
