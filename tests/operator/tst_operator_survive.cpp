// The window across a real PostgreSQL restart and a real PgBouncer restart of a server PoolScope
// did not start: a gap in the store and the charts, the banner, the typed event with its remedy,
// sampling again within two sampling intervals of the server being back, no "unreachable" left
// behind and no second sampler connection on the server.
#include "core/monitor/monitorsession.h"
#include "core/sampler/samplerseries.h"
#include "tests/support/productionserver.h"
#include "ui/alerts/alertbanner.h"
#include "ui/charts/chartspage.h"
#include "ui/charts/timeserieschart.h"
#include "ui/mainwindow.h"

#include <QElapsedTimer>
#include <QFile>
#include <QtTest>
#include <qcustomplot.h>

#include <cmath>
#include <functional>

using namespace poolscope;
using namespace poolscope::testing;
using namespace poolscope::ui;

namespace {

const QString kMonitor = QLatin1String(ProductionServer::kMonitorRole);
const QString kSampler = QStringLiteral("poolscope-sampler");
constexpr std::chrono::milliseconds kInterval { 1000 };

// Room on top of two sampling intervals for a busy machine: a few times what connecting and one
// sample took at the start of the same test.
qint64 loadAllowance(qint64 firstSampleMs)
{
    return qMax<qint64>(1500, 4 * firstSampleMs);
}

bool storeHasGapAfter(const TimeSeriesStore &store, qint64 afterMs)
{
    for (const TimePoint &p :
         store.raw(series::Total, afterMs, QDateTime::currentMSecsSinceEpoch() + 1))
        if (std::isnan(p.value))
            return true;
    return false;
}

// A NaN in the Overview's connection chart: QCustomPlot draws it as a break in the line.
bool chartShowsGap(MainWindow &window)
{
    auto *charts = window.findChild<ChartsPage *>();
    if (!charts || charts->charts().isEmpty())
        return false;
    TimeSeriesChart *chart = charts->charts().first();
    chart->refreshNow();
    QCustomPlot *plot = chart->plot();
    for (int g = 0; g < plot->graphCount(); ++g) {
        for (auto it = plot->graph(g)->data()->constBegin();
             it != plot->graph(g)->data()->constEnd(); ++it) {
            if (std::isnan(it->value))
                return true;
        }
    }
    return false;
}

bool hasEvent(MonitorSession &session, const std::function<bool(const Event &)> &match)
{
    const QList<Event> events = session.events().eventsSince(0);
    return std::any_of(events.begin(), events.end(), match);
}

} // namespace

class tst_OperatorSurvive : public QObject
{
    Q_OBJECT

    ProductionServer m_server;

    // Watches `conninfo` in the real window, takes the server down with `stop` until the sampler
    // has failed several times (so that any backoff has grown), brings it back with `start` and
    // checks what the operator sees. `samplerConnections` counts the sampler's database
    // connections on the server side.
    void survive(const QString &conninfo, const std::function<bool()> &stop,
                 const std::function<bool()> &start,
                 const std::function<int()> &samplerConnections);

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
        qputenv("PGPASSFILE", QFile::encodeName(m_server.passFile()));
        qunsetenv("PGPASSWORD");
    }

    // Watching PostgreSQL itself, as the monitoring role, with PgBouncer's console alongside.
    void acrossAPostgresRestart()
    {
        survive(
            m_server.directUri(kMonitor), [this] { return m_server.stopPostgres(); },
            [this] { return m_server.startPostgres(); },
            [this] { return m_server.backendsNamed(kSampler); });
    }

    // Watching PostgreSQL directly while PgBouncer restarts: the database figures go on, the
    // pooler's break, the banner says so, and the console is sampled again soon after.
    void acrossAPgBouncerRestartWatchedDirectly();

    // Watching through PgBouncer, the way the application reaches the database.
    void acrossAPgBouncerRestart()
    {
        survive(
            m_server.pooledUri(kMonitor), [this] { return m_server.stopPgBouncer(); },
            [this] { return m_server.startPgBouncer(); },
            [this] {
                return m_server.bouncerClientsNamed(kSampler,
                                                    QLatin1String(ProductionServer::kAppDatabase));
            });
    }
};

void tst_OperatorSurvive::survive(const QString &conninfo, const std::function<bool()> &stop,
                                  const std::function<bool()> &start,
                                  const std::function<int()> &samplerConnections)
{
    MonitorSession session;
    MainWindow window(&session);
    window.findChild<AlertBanner *>()->setNotifier({}); // no tray on a test machine
    window.show();
    MonitorSession::Options options;
    options.conninfo = conninfo;
    options.poolerConsoleConninfo = m_server.consoleConninfo();
    options.interval = kInterval;
    QSignalSpy sampled(&session, &MonitorSession::sampled);
    QElapsedTimer clock;
    clock.start();
    session.start(options);
    QTRY_VERIFY_WITH_TIMEOUT(sampled.count() >= 1, 20000);
    // How long connecting and one sample take on this machine right now: the room allowed on top
    // of two intervals for the recovery below.
    const qint64 firstSampleMs = clock.elapsed();
    QTRY_VERIFY_WITH_TIMEOUT(sampled.count() >= 3, 20000);
    QCOMPARE(samplerConnections(), 1);
    QVERIFY(!window.findChild<AlertBanner *>()->isVisible());

    // Down.
    const qint64 downAtMs = QDateTime::currentMSecsSinceEpoch();
    QSignalSpy failedTicks(session.sampler(), &Sampler::tickFailed);
    QVERIFY2(stop(), qPrintable(m_server.errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(session.serverUnreachable(), 20000);
    auto *banner = window.findChild<AlertBanner *>();
    QTRY_VERIFY_WITH_TIMEOUT(
        banner->isVisible() && banner->text().contains(QLatin1String("Server unreachable")), 10000);
    QVERIFY(hasEvent(session, [](const Event &e) {
        return e.category == Event::Category::Connection && e.level == Event::Level::Error
            && !e.errorKind.isEmpty() && !e.remedy.isEmpty();
    }));
    // Seven failures: a backoff that kept doubling would now wait 8 to 16 s before the next try.
    QTRY_VERIFY_WITH_TIMEOUT(failedTicks.count() >= 7, 60000);
    QVERIFY(storeHasGapAfter(session.store(), downAtMs - 1));
    QTRY_VERIFY_WITH_TIMEOUT(chartShowsGap(window), 10000);

    // Back.
    QSignalSpy restored(&session, &MonitorSession::connectionRestored);
    QSignalSpy poolerSampled(&session, &MonitorSession::poolerSampled);
    QVERIFY2(start(), qPrintable(m_server.errorString()));
    clock.restart();
    QTRY_VERIFY_WITH_TIMEOUT(restored.count() == 1, 60000);
    const qint64 recoveryMs = clock.elapsed();
    qInfo("first sample after start %lld ms; sampling again %lld ms after the server was back "
          "(interval %lld ms, %lld failed ticks)",
          firstSampleMs, recoveryMs, qint64(kInterval.count()), qint64(failedTicks.count()));
    QVERIFY2(recoveryMs <= 2 * kInterval.count() + loadAllowance(firstSampleMs),
             qPrintable(QStringLiteral("recovered after %1 ms").arg(recoveryMs)));

    // Nothing stuck: the banner clears, the status says so, samples flow, one connection.
    QTRY_VERIFY_WITH_TIMEOUT(!banner->isVisible(), 10000);
    QVERIFY(!session.serverUnreachable());
    QVERIFY(hasEvent(session, [](const Event &e) {
        return e.message.contains(QLatin1String("the server answers again"));
    }));
    QVERIFY(hasEvent(session, [](const Event &e) {
        return e.message.contains(QLatin1String("cleared: Server unreachable"));
    }));
    const int before = int(sampled.count());
    QTRY_VERIFY_WITH_TIMEOUT(sampled.count() >= before + 2, 20000);
    QVERIFY(std::isfinite(session.store().latest(series::Total)->value));
    QCOMPARE(samplerConnections(), 1);
    // PgBouncer's console is back too, well before its 30 s retry for a console never seen.
    QTRY_VERIFY_WITH_TIMEOUT(poolerSampled.count() >= 1, 10000);
}

void tst_OperatorSurvive::acrossAPgBouncerRestartWatchedDirectly()
{
    MonitorSession session;
    MainWindow window(&session);
    auto *banner = window.findChild<AlertBanner *>();
    banner->setNotifier({});
    window.show();
    MonitorSession::Options options;
    options.conninfo = m_server.directUri(kMonitor);
    options.poolerConsoleConninfo = m_server.consoleConninfo();
    options.interval = kInterval;
    QSignalSpy sampled(&session, &MonitorSession::sampled);
    QSignalSpy poolerSampled(&session, &MonitorSession::poolerSampled);
    QElapsedTimer clock;
    clock.start();
    session.start(options);
    QTRY_VERIFY_WITH_TIMEOUT(poolerSampled.count() >= 1, 20000);
    const qint64 firstSampleMs = clock.elapsed();
    QTRY_VERIFY_WITH_TIMEOUT(poolerSampled.count() >= 3, 20000);

    const qint64 downAtMs = QDateTime::currentMSecsSinceEpoch();
    QVERIFY(m_server.stopPgBouncer());
    QTRY_VERIFY_WITH_TIMEOUT(session.poolerUnreachable(), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible()
                                 && banner->text().contains(QLatin1String("PgBouncer unreachable")),
                             10000);
    QVERIFY(hasEvent(session, [](const Event &e) {
        return e.category == Event::Category::Connection && e.level == Event::Level::Error
            && e.message.contains(QLatin1String("PgBouncer")) && !e.remedy.isEmpty();
    }));
    // The database is still watched meanwhile, for a few more ticks.
    const int before = int(sampled.count());
    QTRY_VERIFY_WITH_TIMEOUT(sampled.count() >= before + 4, 20000);
    QVERIFY(!session.serverUnreachable());
    bool gap = false;
    for (const TimePoint &p : session.store().raw(series::PoolerClientsActive, downAtMs - 1,
                                                  QDateTime::currentMSecsSinceEpoch() + 1))
        gap = gap || std::isnan(p.value);
    QVERIFY(gap);

    QSignalSpy restored(&session, &MonitorSession::poolerRestored);
    QVERIFY2(m_server.startPgBouncer(), qPrintable(m_server.errorString()));
    clock.restart();
    QTRY_VERIFY_WITH_TIMEOUT(restored.count() == 1, 60000);
    const qint64 recoveryMs = clock.elapsed();
    qInfo("PgBouncer's console sampled again %lld ms after it was back", recoveryMs);
    QVERIFY2(recoveryMs <= 2 * kInterval.count() + loadAllowance(firstSampleMs),
             qPrintable(QStringLiteral("recovered after %1 ms").arg(recoveryMs)));
    QTRY_VERIFY_WITH_TIMEOUT(!banner->isVisible(), 10000);
    QVERIFY(!session.poolerUnreachable());
    QVERIFY(hasEvent(session, [](const Event &e) {
        return e.message.contains(QLatin1String("cleared: PgBouncer unreachable"));
    }));
    QCOMPARE(m_server.bouncerClientsNamed(kSampler, QStringLiteral("pgbouncer")), 1);
    QCOMPARE(m_server.backendsNamed(kSampler), 1);
}

QTEST_MAIN(tst_OperatorSurvive)
#include "tst_operator_survive.moc"
