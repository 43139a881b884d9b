// The Load demo page on its real widgets, offscreen, against real sandboxes: the
// small-plan scenario on a dedicated max_connections-20 demo sandbox the page starts itself (53300
// on direct, none through PgBouncer, live charts, run table and comparison, CSV/PNG, the sandbox
// stopped afterwards), Stop mid-run on the session's sandbox (the page usable again, the
// server-side count back to the baseline), a remote host needs a confirmation naming it and then
// runs capped under a visible warning, the window's tab and its Ctrl+digit.
#include "core/monitor/monitorsession.h"
#include "tests/support/sandboxfixture.h"
#include "ui/charts/timeserieschart.h"
#include "ui/loaddemo/loaddemocharts.h"
#include "ui/loaddemo/loaddemoknobs.h"
#include "ui/loaddemo/loaddemopage.h"
#include "ui/loaddemo/loaddemorunsmodel.h"
#include "ui/loaddemo/loaddemosandbox.h"
#include "ui/loaddemo/loaddemotext.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

using namespace poolscope;
using namespace poolscope::ui;
using poolscope::testing::pgpassPasswords;
using poolscope::testing::querySingleValue;

namespace {

// Every text a user can see on the page: labels, buttons, combo items, the runs table.
QStringList visibleTexts(const LoadDemoPage &page)
{
    QStringList texts;
    for (const QLabel *l : page.findChildren<QLabel *>())
        texts << l->text() << l->toolTip();
    for (const QAbstractButton *b : page.findChildren<QAbstractButton *>())
        texts << b->text() << b->toolTip();
    for (const QComboBox *c : page.findChildren<QComboBox *>()) {
        for (int i = 0; i < c->count(); ++i)
            texts << c->itemText(i);
    }
    const QAbstractItemModel *model = page.runsModel();
    for (int r = 0; r < model->rowCount(); ++r) {
        for (int c = 0; c < model->columnCount(); ++c)
            texts << model->index(r, c).data().toString()
                  << model->index(r, c).data(Qt::ToolTipRole).toString();
    }
    return texts;
}

QString cell(const LoadDemoPage &page, int row, LoadDemoRunsModel::Column column)
{
    return page.runsModel()->index(row, column).data().toString();
}

QString describe(const LoadDemoReport &report)
{
    QStringList lines;
    for (const LoadDemoRunSummary &r : report.runs) {
        lines << QStringLiteral("%1: requests %2 ok %3 errors(53300 %4, acquire %5, pooler %6, "
                                "other %7) peak %8 baseline %9 after %10%11")
                     .arg(r.target)
                     .arg(r.requests)
                     .arg(r.ok)
                     .arg(r.errors.tooManyConnections)
                     .arg(r.errors.acquireTimeout)
                     .arg(r.errors.pooler)
                     .arg(r.errors.other)
                     .arg(r.peakServerConnections)
                     .arg(r.baselineServerConnections)
                     .arg(r.serverConnectionsAfter)
                     .arg(r.fatal ? QStringLiteral(" fatal: ") + r.fatal->summary() : QString());
    }
    return lines.join(QLatin1Char('\n'));
}

LoadDemoRunSummary syntheticRun(const QString &target, bool pooled, qint64 tooMany)
{
    LoadDemoRunSummary r;
    r.target = target;
    r.displayName = QStringLiteral("127.0.0.1:5432/app");
    r.pooled = pooled;
    r.requests = 1000;
    r.errors.tooManyConnections = tooMany;
    r.ok = r.requests - tooMany;
    r.baselineServerConnections = 0;
    r.peakServerConnections = pooled ? 12 : 17;
    r.serverConnectionsAfter = 0;
    r.returnedToBaseline = true;
    r.serverLimit = 17;
    r.poolerPoolSize = pooled ? 15 : 0;
    r.latency.count = 10;
    r.latency.p50Us = 101'000;
    r.latency.p95Us = 130'000;
    r.latency.p99Us = 150'000;
    r.durationSeconds = 3.2;
    if (tooMany > 0) {
        LoadDemoFirstError first;
        first.errorClass = LoadDemoErrorClass::TooManyConnections;
        first.error = errorFromSqlState(QStringLiteral("53300"),
                                        QStringLiteral("sorry, too many clients already"));
        first.atSeconds = 0.4;
        r.firstErrors << first;
    }
    return r;
}

} // namespace

class TestLoadDemoPage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void runsModelAndComparison();
    void scenarioFillsTheKnobs();
    void smallPlanOnADedicatedSandbox();
    void stopMidRunReturnsToBaseline();
    void remoteHostNeedsConfirmation();

private:
    // Client backends of the session sandbox's app database, on a connection of the test's own
    // (to the postgres database, so not counted). -1 when the query failed.
    int serverCount() const
    {
        const QString value = querySingleValue(
            m_session.sandboxEndpoints()->adminUri,
            QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' AND "
                           "backend_type = 'client backend'"));
        return value.isNull() ? -1 : value.toInt();
    }

    MonitorSession m_session; // watches its own embedded sandbox (max_connections 100)
    QTemporaryDir m_dir;
};

void TestLoadDemoPage::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QSignalSpy watching(&m_session, &MonitorSession::watching);
    QSignalSpy failed(&m_session, &MonitorSession::sandboxFailed);
    MonitorSession::Options options;
    options.startSandbox = true;
    m_session.start(options);
    QTRY_VERIFY_WITH_TIMEOUT(!watching.isEmpty() || !failed.isEmpty(), 60000);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    QVERIFY(m_session.sandboxEndpoints().has_value());
}

void TestLoadDemoPage::runsModelAndComparison()
{
    LoadDemoRunsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMaxRows(3);
    model.addRun({ 1, syntheticRun(QStringLiteral("direct"), false, 340), 0, 0 });
    model.addRun({ 1, syntheticRun(QStringLiteral("pooled"), true, 0), 0, 0 });
    model.addRun({ 2, syntheticRun(QStringLiteral("direct"), false, 5), 0, 0 });
    model.addRun({ 2, syntheticRun(QStringLiteral("pooled"), true, 0), 0, 0 });
    QCOMPARE(model.rowCount(), 3); // bounded: the oldest went
    QCOMPARE(model.rowAt(0).summary.target, QStringLiteral("pooled"));
    QCOMPARE(model.index(1, LoadDemoRunsModel::TooManyConnections).data().toString(),
             QStringLiteral("5"));
    QCOMPARE(model.index(1, LoadDemoRunsModel::LatencyP95).data().toString(),
             QStringLiteral("130.0"));
    QVERIFY(model.index(1, LoadDemoRunsModel::TooManyConnections)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QLatin1String("Remedy")));
    const QList<QByteArray> csv = model.toCsv().trimmed().split('\n');
    QCOMPARE(csv.size(), 4);
    QVERIFY(csv.at(0).startsWith(
        "demo,target,endpoint,instances,pool,requests,ok,too_many_connections,"));
    QCOMPARE(csv.at(0).split(',').size(), int(LoadDemoRunsModel::ColumnCount));
    QCOMPARE(csv.at(2).split(',').at(7), QByteArray("5"));

    // The comparison in plain words, the pooled and the direct figures next to each other.
    const QStringList words =
        loadDemoComparison({ syntheticRun(QStringLiteral("direct"), false, 340),
                             syntheticRun(QStringLiteral("pooled"), true, 0) });
    QVERIFY(words.size() >= 4);
    QVERIFY2(words.at(0).contains(QLatin1String("direct: 340 too-many-connections errors")),
             qPrintable(words.at(0)));
    QVERIFY2(words.at(0).contains(QLatin1String("pooled: 0 errors, 12 server connections at peak")),
             qPrintable(words.at(0)));
    QVERIFY2(words.at(1).contains(QLatin1String("0 vs 340 errors")), qPrintable(words.at(1)));
    QVERIFY(words.join(QLatin1Char('\n')).contains(QLatin1String("340 fewer")));
    QVERIFY(words.join(QLatin1Char('\n')).contains(QLatin1String("53300")));
    QVERIFY(words.join(QLatin1Char('\n')).contains(QLatin1String("Remedy: ")));
}

void TestLoadDemoPage::scenarioFillsTheKnobs()
{
    LoadDemoPage page(&m_session);
    // The session's sandbox is the default target.
    QCOMPARE(page.target(), LoadDemoPage::Target::SessionSandbox);
    LoadDemoKnobs *knobs = page.knobs();
    QComboBox *picker = knobs->scenarioBox();
    QVERIFY(picker->count() >= 4);
    picker->setCurrentIndex(picker->findData(QStringLiteral("small-plan")));
    const LoadDemoScenario small = *loadDemoScenario(QStringLiteral("small-plan"));
    QCOMPARE(knobs->instancesBox()->value(), small.config.instances);
    QCOMPARE(knobs->poolMinBox()->value(), small.config.pool.minSize);
    QCOMPARE(knobs->poolMaxBox()->value(), small.config.pool.maxSize);
    QCOMPARE(knobs->rateBox()->value(), small.config.ratePerSecond);
    QCOMPARE(knobs->holdBox()->value(), int(small.config.hold.count()));
    QCOMPARE(page.sandboxMaxConnectionsBox()->value(), 20);
    QCOMPARE(page.sandboxPoolSizeBox()->value(), small.sandboxPoolSize);
    // max_connections 20 is not the session's sandbox: the page offers its own.
    QCOMPARE(page.target(), LoadDemoPage::Target::DedicatedSandbox);
    QCOMPARE(page.endpointsBox()->currentData().toString(), QStringLiteral("both"));
    // Editable after picking.
    knobs->instancesBox()->setValue(12);
    knobs->durationBox()->setValue(2.5);
    QCOMPARE(knobs->config().instances, 12);
    QCOMPARE(knobs->config().duration, std::chrono::milliseconds(2500));
    QCOMPARE(knobs->config().pool.maxSize, small.config.pool.maxSize);

    picker->setCurrentIndex(picker->findData(QStringLiteral("burst")));
    QCOMPARE(knobs->burstBox()->value(), 1000);
    QCOMPARE(knobs->instanceIdleBox()->value(), 3000);
    QCOMPARE(knobs->config().burstRamp, std::chrono::milliseconds(1000));
    QCOMPARE(page.target(), LoadDemoPage::Target::SessionSandbox); // back to the default
    // Pool min never above max.
    knobs->poolMaxBox()->setValue(1);
    knobs->poolMinBox()->setValue(4);
    QCOMPARE(knobs->poolMaxBox()->value(), 4);
}

void TestLoadDemoPage::smallPlanOnADedicatedSandbox()
{
    LoadDemoPage page(&m_session);
    page.resize(1400, 900);
    page.show();
    QAbstractItemModelTester tester(page.runsModel(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    QComboBox *picker = page.knobs()->scenarioBox();
    picker->setCurrentIndex(picker->findData(QStringLiteral("small-plan")));
    QCOMPARE(page.target(), LoadDemoPage::Target::DedicatedSandbox);
    // tests/integration/tst_loaddemo's figures: 10 x pool 2:5 need 20 connections as soon as every
    // instance opened its min, more than the 16 slots left on max_connections 20; PgBouncer pool
    // size 15 serves the same load.
    page.sandboxPoolSizeBox()->setValue(15);
    page.knobs()->rateBox()->setValue(120);
    page.knobs()->durationBox()->setValue(3);
    QVERIFY(!page.exportCsvButton()->isEnabled());

    QStringList secrets;
    connect(
        page.demoSandbox(), &LoadDemoSandbox::started, this,
        [&secrets](const sandbox::SandboxEndpoints &e) { secrets = pgpassPasswords(e.passFile); });
    // The event loop keeps turning while the demo runs.
    qint64 worstGapMs = 0;
    QElapsedTimer sinceTick;
    sinceTick.start();
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, this,
            [&] { worstGapMs = std::max(worstGapMs, sinceTick.restart()); });
    ticker.start(10);
    // The baseline: the worst gap over a second with nothing running, on this machine right now.
    {
        QEventLoop idle;
        QTimer::singleShot(1000, &idle, &QEventLoop::quit);
        idle.exec();
    }
    const qint64 baselineGapMs = worstGapMs;
    worstGapMs = 0;
    sinceTick.restart();

    QSignalSpy finished(&page, &LoadDemoPage::demoFinished);
    QTest::mouseClick(page.startButton(), Qt::LeftButton);
    QCOMPARE(page.phase(), LoadDemoPage::Phase::StartingSandbox);
    QVERIFY(page.stopButton()->isEnabled());
    QVERIFY(!page.startButton()->isEnabled());
    QVERIFY(!page.knobs()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(page.phase(), LoadDemoPage::Phase::Running, 30000);
    QVERIFY(!page.knobs()->isEnabled());
    QVERIFY(page.warningBanner()->isHidden()); // a sandbox on this machine: no remote warning
    QVERIFY(finished.wait(60000));
    ticker.stop();
    const LoadDemoReport report = finished.constFirst().constFirst().value<LoadDemoReport>();
    QVERIFY2(report.runs.size() == 2, qPrintable(page.statusLabel()->text()));
    const LoadDemoRunSummary &direct = report.runs.at(0);
    const LoadDemoRunSummary &pooled = report.runs.at(1);
    QCOMPARE(direct.target, QStringLiteral("direct"));
    QCOMPARE(pooled.target, QStringLiteral("pooled"));
    QVERIFY2(direct.errors.tooManyConnections > 0, qPrintable(describe(report)));
    QCOMPARE(direct.serverLimit, 17);
    QVERIFY2(pooled.errors.total() == 0 && pooled.ok == pooled.requests && pooled.requests > 0,
             qPrintable(describe(report)));
    QVERIFY2(pooled.peakServerConnections >= 1 && pooled.peakServerConnections <= 15,
             qPrintable(describe(report)));
    QCOMPARE(pooled.poolerPoolSize, 15);
    QVERIFY2(direct.returnedToBaseline && pooled.returnedToBaseline, qPrintable(describe(report)));
    // A blocking call on the GUI thread would stall it for a connect or a whole run (seconds).
    QVERIFY2(
        worstGapMs < 1000 + 3 * baselineGapMs,
        qPrintable(QStringLiteral("%1 ms (baseline %2 ms)").arg(worstGapMs).arg(baselineGapMs)));

    // The page is usable again, and its table holds one row per run.
    QCOMPARE(page.phase(), LoadDemoPage::Phase::Idle);
    QVERIFY(page.startButton()->isEnabled() && page.knobs()->isEnabled());
    QVERIFY(!page.stopButton()->isEnabled());
    QCOMPARE(page.runsModel()->rowCount(), 2);
    QCOMPARE(cell(page, 0, LoadDemoRunsModel::Target), QStringLiteral("direct"));
    QCOMPARE(cell(page, 0, LoadDemoRunsModel::TooManyConnections),
             QString::number(direct.errors.tooManyConnections));
    QCOMPARE(cell(page, 1, LoadDemoRunsModel::Target), QStringLiteral("pooled"));
    QCOMPARE(cell(page, 1, LoadDemoRunsModel::TooManyConnections), QStringLiteral("0"));
    QCOMPARE(cell(page, 1, LoadDemoRunsModel::BackToBaseline), QStringLiteral("yes"));
    QCOMPARE(cell(page, 1, LoadDemoRunsModel::Status), QStringLiteral("finished"));
    const QString words = page.comparisonLabel()->text();
    QVERIFY2(words.contains(QStringLiteral("direct: %1 too-many-connections error")
                                .arg(direct.errors.tooManyConnections)),
             qPrintable(words));
    QVERIFY2(words.contains(QLatin1String("pooled: 0 errors")), qPrintable(words));
    QVERIFY2(words.contains(QLatin1String("53300")) && words.contains(QLatin1String("Remedy: ")),
             qPrintable(words));

    // The live charts got the demo's points, with a marker per run on each chart.
    const QList<TimePoint> server =
        page.store().raw(loaddemoseries::ServerConnections, 0, std::numeric_limits<qint64>::max());
    QVERIFY2(server.size() >= 10, qPrintable(QString::number(server.size())));
    const auto limit = page.store().latest(loaddemoseries::ServerLimit);
    QVERIFY(limit.has_value());
    QCOMPARE(limit->value, 17.0); // max_connections 20 minus 3 reserved
    TimeSeriesChart *connections = page.charts()->chart(LoadDemoCharts::Connections);
    connections->refreshNow();
    QVERIFY(connections->graph(0)->dataCount() > 0);
    for (TimeSeriesChart *chart : page.charts()->charts())
        chart->refreshNow();
    QVERIFY(page.charts()->pointCount() > 0);
    QCOMPARE(page.charts()->markerCount(), 2 * 2 * LoadDemoCharts::ChartCount);

    // Exports: the table as CSV (header + one line per run), the charts as a PNG.
    const QString csvPath = m_dir.filePath(QStringLiteral("demo.csv"));
    const QString pngPath = m_dir.filePath(QStringLiteral("demo.png"));
    page.setSavePathFunction([&](const QString &, const QString &suggested, const QString &) {
        return suggested.endsWith(QLatin1String(".csv")) ? csvPath : pngPath;
    });
    QVERIFY(page.exportCsvButton()->isEnabled());
    QTest::mouseClick(page.exportCsvButton(), Qt::LeftButton);
    QFile csv(csvPath);
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = csv.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    QVERIFY(lines.at(0).startsWith("demo,target,"));
    QVERIFY(lines.at(1).startsWith("1,direct,"));
    QVERIFY(lines.at(2).startsWith("1,pooled,"));
    QCOMPARE(lines.at(1).split(',').at(7).toLongLong(), direct.errors.tooManyConnections);
    // Instances and pool: runs of pool size A and B read side by side.
    QCOMPARE(lines.at(1).split(',').at(3).toInt(), direct.config.instances);
    QCOMPARE(lines.at(1).split(',').at(4),
             QStringLiteral("%1:%2")
                 .arg(direct.config.pool.minSize)
                 .arg(direct.config.pool.maxSize)
                 .toUtf8());
    QTest::mouseClick(page.exportPngButton(), Qt::LeftButton);
    QFile png(pngPath);
    QVERIFY(png.open(QIODevice::ReadOnly));
    QVERIFY(png.read(8) == QByteArray("\x89PNG\r\n\x1a\n", 8));
    const QImage image(pngPath);
    QVERIFY(!image.isNull() && image.width() >= 400 && image.height() >= 300);

    // The demo sandbox was stopped after the run, and no password shows anywhere.
    QTRY_COMPARE_WITH_TIMEOUT(page.demoSandbox()->threadsAlive(), 0, 15000);
    QVERIFY(!page.demoSandbox()->isActive());
    QVERIFY(secrets.size() >= 2);
    for (const QString &text : visibleTexts(page)) {
        for (const QString &secret : std::as_const(secrets))
            QVERIFY2(!text.contains(secret), qPrintable(text));
    }
}

void TestLoadDemoPage::stopMidRunReturnsToBaseline()
{
    LoadDemoPage page(&m_session);
    page.show();
    QComboBox *picker = page.knobs()->scenarioBox();
    // Local development fits max_connections 100, so the test's own superuser connection below
    // always gets a slot (the serverless one would take every slot but the reserved ones).
    picker->setCurrentIndex(picker->findData(QStringLiteral("local-dev")));
    QCOMPARE(page.target(), LoadDemoPage::Target::SessionSandbox);
    QCOMPARE(page.endpointsBox()->currentData().toString(), QStringLiteral("both"));
    page.knobs()->durationBox()->setValue(30);
    const int baseline = serverCount();
    QVERIFY(baseline >= 0);
    QSignalSpy finished(&page, &LoadDemoPage::demoFinished);
    QVERIFY(!m_session.demoWorkloadPaused());
    QTest::mouseClick(page.startButton(), Qt::LeftButton);
    QCOMPARE(page.phase(), LoadDemoPage::Phase::Running);
    // The session's own demo workload holds off while the load demo uses its sandbox.
    QVERIFY(m_session.demoWorkloadPaused());
    QTRY_VERIFY_WITH_TIMEOUT(
        page.store()
                .raw(loaddemoseries::ServerConnections, 0, std::numeric_limits<qint64>::max())
                .size()
            >= 4,
        15000);
    QVERIFY2(serverCount() > baseline, "the load should hold server connections by now");

    QElapsedTimer stopping;
    stopping.start();
    QTest::mouseClick(page.stopButton(), Qt::LeftButton);
    QVERIFY(!page.stopButton()->isEnabled());
    QVERIFY(finished.wait(15000));
    QVERIFY2(stopping.elapsed() < 10000, qPrintable(QString::number(stopping.elapsed())));
    const LoadDemoReport report = finished.constFirst().constFirst().value<LoadDemoReport>();
    QVERIFY(report.cancelled);
    QVERIFY(!m_session.demoWorkloadPaused()); // resumed with the end of the demo
    QCOMPARE(report.runs.size(), 1);          // stopped during direct: pooled never started
    QVERIFY(report.runs.constFirst().cancelled);
    QCOMPARE(page.runsModel()->rowCount(), 1);
    QCOMPARE(cell(page, 0, LoadDemoRunsModel::Status), QStringLiteral("stopped"));
    QVERIFY(page.statusLabel()->text().contains(QLatin1String("stopped")));

    // Server-side, on the test's own connection: every connection of the demo is gone.
    QTRY_COMPARE_WITH_TIMEOUT(serverCount(), baseline, 5000);

    // Usable again: a short pooled-only run goes through.
    QVERIFY(page.startButton()->isEnabled() && page.knobs()->isEnabled());
    page.endpointsBox()->setCurrentIndex(page.endpointsBox()->findData(QStringLiteral("pooled")));
    page.knobs()->durationBox()->setValue(0.5);
    finished.clear();
    QTest::mouseClick(page.startButton(), Qt::LeftButton);
    QVERIFY(finished.wait(20000));
    QCOMPARE(page.runsModel()->rowCount(), 2);
    QCOMPARE(cell(page, 1, LoadDemoRunsModel::Target), QStringLiteral("pooled"));
    QCOMPARE(cell(page, 1, LoadDemoRunsModel::Demo), QStringLiteral("2"));
    QVERIFY(!report.runs.isEmpty());
}

void TestLoadDemoPage::remoteHostNeedsConfirmation()
{
    // A session watching a server by name (.invalid never resolves: nothing is ever contacted).
    const QString secret = QStringLiteral("N0tShownAnywhere");
    MonitorSession remote;
    MonitorSession::Options options;
    options.conninfo = QStringLiteral("host=db.example.invalid dbname=app user=alice password=%1 "
                                      "connect_timeout=2")
                           .arg(secret);
    remote.start(options);
    LoadDemoPage page(&remote);
    page.show();
    page.setTarget(LoadDemoPage::Target::WatchedServer);
    QCOMPARE(page.target(), LoadDemoPage::Target::WatchedServer);
    QStringList asked;
    bool answer = false;
    page.setConfirmFunction([&](const QString &, const QString &text) {
        asked << text;
        return answer;
    });
    QSignalSpy finished(&page, &LoadDemoPage::demoFinished);
    QTest::mouseClick(page.startButton(), Qt::LeftButton);
    QCOMPARE(asked.size(), 1);
    QVERIFY2(asked.constFirst().contains(QLatin1String("db.example.invalid")),
             qPrintable(asked.constFirst()));
    QVERIFY(!asked.constFirst().contains(secret));
    QCOMPARE(page.phase(), LoadDemoPage::Phase::Idle); // declined: nothing started
    QVERIFY(page.statusLabel()->text().contains(QLatin1String("db.example.invalid")));
    // Nothing may start later either: no demo reports within a second (a declined demo never
    // starts, so any report would be a bug, however late).
    QVERIFY(!finished.wait(1000));
    QCOMPARE(page.runsModel()->rowCount(), 0);
    QVERIFY(page.warningBanner()->isHidden());

    // Accepted: capped, with a warning that stays while it runs (here until the monitoring
    // connection fails on the name that does not resolve).
    answer = true;
    QTest::mouseClick(page.startButton(), Qt::LeftButton);
    QCOMPARE(asked.size(), 2);
    QCOMPARE(page.phase(), LoadDemoPage::Phase::Running);
    QVERIFY(page.warningBanner()->isVisible());
    const QString banner = page.warningBanner()->text();
    QVERIFY2(banner.contains(QLatin1String("db.example.invalid")), qPrintable(banner));
    QVERIFY2(banner.contains(QLatin1String("capped")), qPrintable(banner));
    QVERIFY(finished.wait(20000));
    QVERIFY(page.warningBanner()->isHidden());
    const LoadDemoReport report = finished.constFirst().constFirst().value<LoadDemoReport>();
    QCOMPARE(report.runs.size(), 1);
    QVERIFY(report.runs.constFirst().fatal.has_value());
    QVERIFY(report.runs.constFirst().config.ratePerSecond
            <= LoadDemoLimits::kRemoteMaxRatePerSecond);
    QCOMPARE(cell(page, 0, LoadDemoRunsModel::Status), QStringLiteral("did not run"));
    QVERIFY(page.comparisonLabel()->text().contains(QLatin1String("did not run")));
    for (const QString &text : visibleTexts(page))
        QVERIFY2(!text.contains(secret), qPrintable(text));
}

QTEST_MAIN(TestLoadDemoPage)
#include "tst_loaddemopage.moc"
