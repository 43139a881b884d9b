// The cold-start page on its real widgets, offscreen, against real sandboxes: Run
// probes direct and pooled side by side (progress, phase bars adding up to each trial's total,
// summary, history), Cancel, CSV/PNG exports, no password in any widget, real cold pauses the
// session's polling, a remote host needs a confirmation, the window's tab and Ctrl+digit.
#include "core/monitor/monitorsession.h"
#include "tests/support/sandboxfixture.h"
#include "ui/coldstart/coldstartchart.h"
#include "ui/coldstart/coldstarthistorymodel.h"
#include "ui/coldstart/coldstartpage.h"
#include "ui/coldstart/coldstartsummary.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>

using namespace poolscope;
using namespace poolscope::ui;
using poolscope::testing::pgpassPasswords;
using poolscope::testing::querySingleValue;
using poolscope::testing::SandboxFixture;
using poolscope::testing::withUriParameter;

namespace {

// Every text a user can see on the page: labels, check boxes, buttons, line edits, the summary
// table, the history model (display and tooltips), the chart's tick labels and legend.
QStringList visibleTexts(const ColdStartPage &page)
{
    QStringList texts;
    for (const QLabel *l : page.findChildren<QLabel *>())
        texts << l->text() << l->toolTip();
    for (const QAbstractButton *b : page.findChildren<QAbstractButton *>())
        texts << b->text() << b->toolTip();
    for (const QLineEdit *e : page.findChildren<QLineEdit *>())
        texts << e->text();
    for (const QTableWidget *t : page.findChildren<QTableWidget *>()) {
        for (int r = 0; r < t->rowCount(); ++r) {
            for (int c = 0; c < t->columnCount(); ++c) {
                if (const QTableWidgetItem *item = t->item(r, c))
                    texts << item->text() << item->toolTip();
            }
        }
    }
    const QAbstractItemModel *model = page.historyModel();
    for (int r = 0; r < model->rowCount(); ++r) {
        for (int c = 0; c < model->columnCount(); ++c) {
            texts << model->index(r, c).data().toString()
                  << model->index(r, c).data(Qt::ToolTipRole).toString();
        }
    }
    QCustomPlot *plot = page.chart()->plot();
    auto ticker = qSharedPointerDynamicCast<QCPAxisTickerText>(plot->yAxis->ticker());
    if (ticker)
        texts << ticker->ticks().values();
    for (int i = 0; i < plot->plottableCount(); ++i)
        texts << plot->plottable(i)->name();
    return texts;
}

// Per bar key: the sum of all stacked segments, and whether every segment is >= 0.
std::map<double, double> barSums(const ColdStartChart &chart, bool *allNonNegative)
{
    std::map<double, double> sums;
    *allNonNegative = true;
    for (int s = 0; s < ColdStartChart::SegmentCount; ++s) {
        const QCPBars *bars = chart.bars(ColdStartChart::Segment(s));
        for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it) {
            sums[it->key] += it->value;
            if (it->value < 0)
                *allNonNegative = false;
        }
    }
    return sums;
}

// A loopback port nothing listens on (bound, then closed).
int closedPort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

ColdStartRun syntheticRun(int id, int targets)
{
    ColdStartRun run;
    run.id = id;
    run.startedAt = QDateTime::currentDateTimeUtc();
    run.finishedAt = run.startedAt;
    run.options.trials = 1;
    for (int t = 0; t < targets; ++t) {
        ColdStartTargetResult result;
        result.label = t == 0 ? QStringLiteral("direct") : QStringLiteral("pooled");
        ColdStartTrial trial;
        trial.authMs = 2;
        trial.totalMs = 2;
        result.report.trials.append(trial);
        result.report.p50TotalMs = result.report.p95TotalMs = result.report.maxTotalMs = 2;
        result.report.verdict = QStringLiteral("pass");
        run.results.append(result);
    }
    return run;
}

} // namespace

class TestColdStartPage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void historyModelIsBounded();
    void runButtonProbesDirectAndPooled();
    void cancelStopsALongRun();
    void realColdPausesBackground();
    void watchedServerComparedWithSecondString();
    void remoteHostNeedsConfirmation();

private:
    ColdStartRun clickRunAndWait(ColdStartPage &page, int timeoutMs = 60000);

    MonitorSession m_session; // watches its own embedded sandbox
    QString m_passFile;
    QTemporaryDir m_dir;
};

void TestColdStartPage::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QSignalSpy watching(&m_session, &MonitorSession::watching);
    QSignalSpy failed(&m_session, &MonitorSession::sandboxFailed);
    MonitorSession::Options options;
    options.startSandbox = true;
    options.interval = std::chrono::milliseconds(250);
    m_session.start(options);
    QTRY_VERIFY_WITH_TIMEOUT(!watching.isEmpty() || !failed.isEmpty(), 60000);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    QVERIFY(m_session.sandboxEndpoints().has_value());
    m_passFile = m_session.sandboxEndpoints()->passFile;
    QVERIFY(pgpassPasswords(m_passFile).size() >= 2);
}

ColdStartRun TestColdStartPage::clickRunAndWait(ColdStartPage &page, int timeoutMs)
{
    QSignalSpy finished(&page, &ColdStartPage::runFinished);
    QTest::mouseClick(page.runButton(), Qt::LeftButton);
    if (!page.isRunning())
        return {};
    if (!finished.wait(timeoutMs) || finished.isEmpty())
        return {};
    return finished.constFirst().constFirst().value<ColdStartRun>();
}

void TestColdStartPage::historyModelIsBounded()
{
    ColdStartHistoryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMaxRuns(5);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    for (int id = 1; id <= 8; ++id)
        model.addRun(syntheticRun(id, id % 3 == 0 ? 1 : 2)); // ids 3 and 6 probed one endpoint
    QCOMPARE(model.runCount(), 5);
    QCOMPARE(model.runAt(0).id, 4);
    QCOMPARE(model.rowCount(), 2 + 2 + 1 + 2 + 2); // runs 4..8
    QCOMPARE(removed.size(), 3);
    QCOMPARE(model.rowOfRun(3), -1);
    QCOMPARE(model.rowOfRun(6), 4);
    QCOMPARE(model.targetIndexAt(5), 0);
    QCOMPARE(model.index(5, ColdStartHistoryModel::Target).data().toString(),
             QStringLiteral("direct"));
    // Lowering the bound drops the oldest at once; a run with nothing finished keeps one row.
    model.setMaxRuns(2);
    QCOMPARE(model.runCount(), 2);
    ColdStartRun empty = syntheticRun(9, 0);
    empty.cancelled = true;
    const int row = model.addRun(empty);
    QCOMPARE(model.rowCount(), row + 1);
    QCOMPARE(model.targetIndexAt(row), -1);
    QCOMPARE(model.index(row, ColdStartHistoryModel::Verdict).data().toString(),
             QStringLiteral("cancelled"));
}

void TestColdStartPage::runButtonProbesDirectAndPooled()
{
    ColdStartPage page(&m_session);
    page.show();
    QAbstractItemModelTester tester(page.historyModel(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    // Sandbox mode: direct and pooled offered and ticked, defaults as documented.
    QVERIFY(page.targetABox()->isChecked() && page.targetBBox()->isChecked());
    QVERIFY(page.targetABox()->text().startsWith(QLatin1String("direct")));
    QVERIFY(page.targetBBox()->text().startsWith(QLatin1String("pooled")));
    QVERIFY(page.compareEdit()->isHidden());
    QCOMPARE(page.trialsBox()->value(), 10);
    QCOMPARE(page.warmQueriesBox()->value(), 5);
    QCOMPARE(page.coldWaitBox()->value(), 0);
    QVERIFY(!page.exportCsvButton()->isEnabled()); // nothing to export yet

    QList<int> progress;
    connect(page.progressBar(), &QProgressBar::valueChanged, &page,
            [&progress](int v) { progress << v; });
    const ColdStartRun run = clickRunAndWait(page);
    QVERIFY2(run.id > 0, qPrintable(page.statusLabel()->text()));
    QVERIFY(!run.cancelled);
    QVERIFY(!page.isRunning());
    QVERIFY(page.runButton()->isEnabled());
    QVERIFY(!page.cancelButton()->isEnabled());

    // Progress advanced trial by trial up to 20 of 20.
    QCOMPARE(page.progressBar()->maximum(), 20);
    QCOMPARE(page.progressBar()->value(), 20);
    QVERIFY2(progress.size() >= 10, qPrintable(QString::number(progress.size())));
    QVERIFY(std::is_sorted(progress.cbegin(), progress.cend()));

    // History: one row per endpoint, every trial succeeded.
    QCOMPARE(run.results.size(), 2);
    QCOMPARE(page.historyModel()->rowCount(), 2);
    for (int row = 0; row < 2; ++row) {
        const auto cell = [&](int column) {
            return page.historyModel()->index(row, column).data().toString();
        };
        QCOMPARE(cell(ColdStartHistoryModel::Target),
                 row == 0 ? QStringLiteral("direct") : QStringLiteral("pooled"));
        QCOMPARE(cell(ColdStartHistoryModel::Trials), QStringLiteral("10/10"));
        QVERIFY(cell(ColdStartHistoryModel::P50).endsWith(QLatin1String(" ms")));
        QCOMPARE(cell(ColdStartHistoryModel::Verdict), QStringLiteral("pass"));
        QCOMPARE(run.results.at(row).report.okTrials(), 10);
    }

    // Chart: one bar per trial, the stacked segments add up to that trial's total.
    const ColdStartChart &chart = *page.chart();
    QCOMPARE(chart.groups().size(), 2);
    bool nonNegative = false;
    const std::map<double, double> sums = barSums(chart, &nonNegative);
    QVERIFY(nonNegative);
    QCOMPARE(int(sums.size()), 20);
    for (int g = 0; g < 2; ++g) {
        for (int i = 0; i < 10; ++i) {
            const ColdStartTrial &trial = run.results.at(g).report.trials.at(i);
            const double key = chart.keyOf(g, i);
            QVERIFY(sums.count(key));
            QVERIFY2(sums.at(key) > 0, qPrintable(QString::number(sums.at(key))));
            QVERIFY2(std::abs(sums.at(key) - trial.totalMs) < 0.01,
                     qPrintable(QStringLiteral("%1 vs %2").arg(sums.at(key)).arg(trial.totalMs)));
            QVERIFY(chart.bars(ColdStartChart::Auth)->data()->findBegin(key, false)->value > 0);
        }
    }
    auto ticker = qSharedPointerDynamicCast<QCPAxisTickerText>(chart.plot()->yAxis->ticker());
    QVERIFY(ticker->ticks().values().contains(QStringLiteral("direct #1")));
    QVERIFY(ticker->ticks().values().contains(QStringLiteral("pooled #1")));

    // Summary against the guide, coloured verdicts.
    QCOMPARE(page.summary()->text(ColdStartSummary::Verdict, 0), QStringLiteral("PASS"));
    QCOMPARE(page.summary()->text(ColdStartSummary::Verdict, 1), QStringLiteral("PASS"));
    QVERIFY(page.summary()->text(ColdStartSummary::Reason, 0).contains(QLatin1String("p95")));
    QVERIFY(page.summary()->headline()->text().contains(QLatin1String("PASS")));
    QCOMPARE(page.summary()->text(ColdStartSummary::Trials, 1), QStringLiteral("10 of 10"));

    // No generated password anywhere.
    const QStringList secrets = pgpassPasswords(m_passFile);
    for (const QString &text : visibleTexts(page)) {
        for (const QString &secret : secrets)
            QVERIFY2(!text.contains(secret), qPrintable(text));
    }

    // CSV of the selected run: a header and one line per trial, with that trial's phases and
    // total (to the CSV's three decimals).
    QString asked;
    page.setSavePathFunction([&](const QString &, const QString &suggested, const QString &) {
        asked = suggested;
        return m_dir.filePath(suggested);
    });
    QVERIFY(page.exportCsvButton()->isEnabled());
    QTest::mouseClick(page.exportCsvButton(), Qt::LeftButton);
    QCOMPARE(asked, QStringLiteral("poolscope-coldstart-run-%1.csv").arg(run.id));
    QFile csv(m_dir.filePath(asked));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = csv.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 1 + 20);
    QVERIFY(lines.first().startsWith("run_id,started_at,target,endpoint,trial,dns_ms"));
    for (int i = 1; i < lines.size(); ++i) {
        const QList<QByteArray> f = lines.at(i).split(',');
        QCOMPARE(f.size(), 15);
        QCOMPARE(f.at(0).toInt(), run.id);
        QCOMPARE(f.at(2), i <= 10 ? QByteArray("direct") : QByteArray("pooled"));
        QCOMPARE(f.at(4).toInt(), (i - 1) % 10 + 1);
        const ColdStartTrial &trial =
            run.results.at(i <= 10 ? 0 : 1).report.trials.at((i - 1) % 10);
        const double expected[] = { trial.dnsMs,  trial.tcpMs,        trial.tlsMs,
                                    trial.authMs, trial.firstQueryMs, trial.totalMs };
        for (int p = 5; p <= 10; ++p) {
            QVERIFY2(std::abs(f.at(p).toDouble() - expected[p - 5]) < 0.001,
                     qPrintable(QStringLiteral("column %1: %2 vs %3")
                                    .arg(p)
                                    .arg(QString::fromLatin1(f.at(p)))
                                    .arg(expected[p - 5])));
        }
        QCOMPARE(f.at(11), QByteArray("true"));
        for (const QString &secret : secrets)
            QVERIFY(!lines.at(i).contains(secret.toUtf8()));
    }

    // PNG of the chart: a real, non-empty image.
    QTest::mouseClick(page.exportPngButton(), Qt::LeftButton);
    QCOMPARE(asked, QStringLiteral("poolscope-coldstart-run-%1.png").arg(run.id));
    QFile png(m_dir.filePath(asked));
    QVERIFY(png.open(QIODevice::ReadOnly));
    QVERIFY(png.read(8) == QByteArray("\x89PNG\r\n\x1a\n", 8));
    const QImage image(m_dir.filePath(asked));
    QVERIFY(!image.isNull());
    QVERIFY(image.width() >= 900 && image.height() >= 500);

    // A second, smaller run; selecting the first in the history shows its bars again.
    page.trialsBox()->setValue(3);
    page.targetBBox()->setChecked(false);
    const ColdStartRun second = clickRunAndWait(page);
    QCOMPARE(second.id, run.id + 1);
    QCOMPARE(second.results.size(), 1);
    QCOMPARE(page.historyModel()->rowCount(), 3);
    QCOMPARE(page.chart()->groups().size(), 1);
    QCOMPARE(page.chart()->groups().constFirst().trials.size(), 3);
    page.historyView()->selectRow(1);
    QCOMPARE(page.chart()->groups().size(), 2);
    QCOMPARE(page.chart()->groups().at(1).label, QStringLiteral("pooled"));
    QCOMPARE(page.chart()->groups().at(1).trials.size(), 10);

    // All runs: 20 + 3 trial lines.
    QTest::mouseClick(page.exportAllCsvButton(), Qt::LeftButton);
    QCOMPARE(asked, QStringLiteral("poolscope-coldstart-runs.csv"));
    QFile all(m_dir.filePath(asked));
    QVERIFY(all.open(QIODevice::ReadOnly));
    QCOMPARE(all.readAll().trimmed().split('\n').size(), 1 + 23);
}

void TestColdStartPage::cancelStopsALongRun()
{
    ColdStartPage page(&m_session);
    page.show();
    page.trialsBox()->setValue(200);
    QSignalSpy finished(&page, &ColdStartPage::runFinished);
    QTest::mouseClick(page.runButton(), Qt::LeftButton);
    QVERIFY(page.isRunning());
    QVERIFY(!page.runButton()->isEnabled());
    QVERIFY(page.cancelButton()->isEnabled());
    QVERIFY(!page.trialsBox()->isEnabled()); // knobs locked while running
    QTRY_VERIFY_WITH_TIMEOUT(page.progressBar()->value() >= 3, 30000);
    QVERIFY(page.progressBar()->value() < 400);
    QTest::mouseClick(page.cancelButton(), Qt::LeftButton);
    QVERIFY(finished.wait(15000));
    const ColdStartRun run = finished.constFirst().constFirst().value<ColdStartRun>();
    QVERIFY(run.cancelled);
    int trials = 0;
    for (const ColdStartTargetResult &r : run.results)
        trials += int(r.report.trials.size());
    QVERIFY2(trials >= 3 && trials < 400, qPrintable(QString::number(trials)));
    QVERIFY(page.statusLabel()->text().contains(QLatin1String("cancelled")));
    QVERIFY(page.historyModel()
                ->index(0, ColdStartHistoryModel::Verdict)
                .data()
                .toString()
                .contains(QLatin1String("cancelled")));
    QVERIFY(page.summary()->headline()->text().contains(QLatin1String("cancelled")));

    // Usable again.
    QVERIFY(page.runButton()->isEnabled());
    QVERIFY(page.trialsBox()->isEnabled());
    page.trialsBox()->setValue(2);
    const ColdStartRun again = clickRunAndWait(page);
    QVERIFY(!again.cancelled);
    QCOMPARE(again.results.size(), 2);
    QCOMPARE(again.results.at(1).report.okTrials(), 2);
}

void TestColdStartPage::realColdPausesBackground()
{
    QVERIFY(!m_session.backgroundPaused());
    auto page = std::make_unique<ColdStartPage>(&m_session);
    page->show();
    page->trialsBox()->setValue(2);
    page->realColdBox()->setChecked(true);
    QVERIFY(page->coldWaitBox()->isEnabled());
    page->coldWaitBox()->setValue(2);

    QSignalSpy sampled(&m_session, &MonitorSession::sampled);
    QVERIFY(sampled.wait(5000)); // polling (every 250 ms) before the test
    QSignalSpy finished(page.get(), &ColdStartPage::runFinished);
    int sampledAtFinish = -1;
    bool pausedAtFinish = false;
    connect(page.get(), &ColdStartPage::runFinished, this, [&] {
        sampledAtFinish = int(sampled.size());
        pausedAtFinish = m_session.backgroundPaused();
    });
    QTest::mouseClick(page->runButton(), Qt::LeftButton);
    QVERIFY(page->isRunning());
    QVERIFY(m_session.backgroundPaused());
    QTRY_VERIFY_WITH_TIMEOUT(page->statusLabel()->text().contains(QLatin1String("Real cold")),
                             5000);
    // Paused, the sampler closes its connection after the poll it had in flight: once that
    // connection is gone from the server no poll can land any more, and the one that may have
    // landed just before is delivered here, before the count starts.
    const QString admin = withUriParameter(m_session.sandboxEndpoints()->adminUri,
                                           QStringLiteral("passfile"), m_passFile);
    QTRY_COMPARE_WITH_TIMEOUT(
        querySingleValue(admin,
                         QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE "
                                        "application_name = 'poolscope-sampler'")),
        QStringLiteral("0"), 5000);
    QCoreApplication::processEvents();
    sampled.clear();
    QVERIFY(finished.wait(30000));
    QCOMPARE(sampledAtFinish, 0); // no poll during the 2 s wait and the trials
    QVERIFY(!pausedAtFinish);     // resumed before the run is reported
    QVERIFY(!m_session.backgroundPaused());
    QVERIFY(sampled.wait(5000)); // polling again

    // Destroying the page in the middle of a long cold wait resumes polling, without delay.
    page->coldWaitBox()->setValue(600);
    QTest::mouseClick(page->runButton(), Qt::LeftButton);
    QVERIFY(page->isRunning());
    QVERIFY(m_session.backgroundPaused());
    QElapsedTimer timer;
    timer.start();
    page.reset();
    QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
    QVERIFY(!m_session.backgroundPaused());
}

void TestColdStartPage::watchedServerComparedWithSecondString()
{
    // A session watching a server by its string (no embedded sandbox): the watched endpoint and a
    // second string typed in, here the same sandbox's PgBouncer.
    SandboxFixture fixture;
    QVERIFY2(fixture.start(), qPrintable(fixture.errorString()));
    MonitorSession session;
    QSignalSpy watching(&session, &MonitorSession::watching);
    MonitorSession::Options options;
    options.conninfo = fixture.directUri();
    session.start(options);
    QTRY_VERIFY_WITH_TIMEOUT(!watching.isEmpty(), 20000);

    ColdStartPage page(&session);
    page.show();
    QVERIFY(page.targetABox()->isEnabled() && page.targetABox()->isChecked());
    QVERIFY(page.targetABox()->text().contains(QLatin1String("127.0.0.1")));
    QVERIFY(!page.compareEdit()->isHidden());
    QVERIFY(!page.targetBBox()->isChecked());
    QCOMPARE(page.coldWaitBox()->value(), 300); // a real server: Neon's 5 minutes
    QTest::keyClicks(page.compareEdit(), fixture.pooledUri());
    QVERIFY(page.targetBBox()->isChecked()); // typing a string ticks it
    const QString typed = page.compareEdit()->text();
    page.trialsBox()->setValue(3);
    page.warmQueriesBox()->setValue(2);
    page.afterIdleBox()->setValue(1); // then a query and a pool checkout after 1 s idle
    const ColdStartRun run = clickRunAndWait(page);
    QVERIFY2(run.id > 0, qPrintable(page.statusLabel()->text()));
    QCOMPARE(run.results.size(), 2);
    QCOMPARE(run.results.at(0).label, QStringLiteral("watched"));
    QCOMPARE(run.results.at(1).label, QStringLiteral("compare"));
    QCOMPARE(page.compareEdit()->text(), typed); // no password in it: left as typed
    QVERIFY(
        run.results.at(1).displayName.contains(QString::number(fixture.endpoints().bouncerPort)));
    const auto cell = [&page](ColdStartSummary::RowId row, int i) {
        return page.summary()->text(row, i);
    };
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(run.results.at(i).report.okTrials(), 3);
        QCOMPARE(run.results.at(i).report.warmQueryMs.size(), 6);
        QVERIFY(cell(ColdStartSummary::AfterIdle, i).contains(QLatin1String(" after 1 s idle")));
        QVERIFY(cell(ColdStartSummary::PoolCheckout, i).startsWith(QLatin1String("checkout ")));
    }
    QCOMPARE(page.chart()->groups().size(), 2);
    const QStringList secrets = pgpassPasswords(fixture.endpoints().passFile);
    QVERIFY(!secrets.isEmpty());
    for (const QString &text : visibleTexts(page)) {
        for (const QString &secret : secrets)
            QVERIFY2(!text.contains(secret), qPrintable(text));
    }

    // Compared with a closed port: that trial fails in tcp, typed, with its remedy, marked red.
    page.compareEdit()->clear();
    QTest::keyClicks(
        page.compareEdit(),
        QStringLiteral("host=127.0.0.1 port=%1 dbname=app user=app").arg(closedPort()));
    const ColdStartRun failed = clickRunAndWait(page);
    QVERIFY2(failed.id > 0, qPrintable(page.statusLabel()->text()));
    QCOMPARE(failed.results.size(), 2);
    const ColdStartReport &bad = failed.results.at(1).report;
    QCOMPARE(bad.verdict, QStringLiteral("fail"));
    QCOMPARE(bad.trials.size(), 1); // the probe stops at the first failure
    QCOMPARE(bad.trials.constFirst().failedPhase, QStringLiteral("tcp"));
    QVERIFY(bad.error && bad.error->kind == ErrorKind::ConnectionRefused);
    QCOMPARE(page.summary()->text(ColdStartSummary::Verdict, 1), QStringLiteral("FAIL"));
    QCOMPARE(page.summary()->text(ColdStartSummary::Remedy, 1), bad.error->remedy);
    QVERIFY(!bad.error->remedy.isEmpty());
    QVERIFY(!page.summary()->text(ColdStartSummary::Error, 1).isEmpty());
    QCOMPARE(page.summary()->text(ColdStartSummary::Verdict, 0), QStringLiteral("PASS"));
    const double key = page.chart()->keyOf(1, 0);
    const QCPBars *red = page.chart()->bars(ColdStartChart::Failed);
    QVERIFY(red->data()->findBegin(key, false)->value > 0);
    QCOMPARE(page.chart()->bars(ColdStartChart::Tcp)->data()->findBegin(key, false)->value, 0.0);
    auto ticker =
        qSharedPointerDynamicCast<QCPAxisTickerText>(page.chart()->plot()->yAxis->ticker());
    QVERIFY(ticker->ticks().value(key).contains(QLatin1String("tcp")));
    QCOMPARE(page.historyModel()
                 ->index(page.historyModel()->rowCount() - 1, ColdStartHistoryModel::Verdict)
                 .data()
                 .toString(),
             QStringLiteral("fail"));
}

void TestColdStartPage::remoteHostNeedsConfirmation()
{
    MonitorSession idle; // watches nothing
    ColdStartPage page(&idle);
    page.show();
    QVERIFY(!page.targetABox()->isEnabled());
    QStringList asked;
    page.setConfirmFunction([&asked](const QString &, const QString &text) {
        asked << text;
        return false; // the operator says no
    });
    const QString secret = QStringLiteral("N0tShownAnywhere");
    QTest::keyClicks(
        page.compareEdit(),
        QStringLiteral("host=db.example.com user=alice password=%1 dbname=app").arg(secret));
    QSignalSpy finished(&page, &ColdStartPage::runFinished);
    QTest::mouseClick(page.runButton(), Qt::LeftButton);
    QCOMPARE(asked.size(), 1);
    QVERIFY(asked.constFirst().contains(QLatin1String("db.example.com")));
    QVERIFY(!asked.constFirst().contains(secret));
    QVERIFY(!page.isRunning());
    QVERIFY(page.statusLabel()->text().contains(QLatin1String("db.example.com")));
    QVERIFY(!page.compareEdit()->text().contains(secret)); // taken out of the field
    for (const QString &text : visibleTexts(page))
        QVERIFY2(!text.contains(secret), qPrintable(text));
    // Nothing may start later either: no run reports within a second (a refused run never
    // starts, so any report would be a bug, however late).
    QVERIFY(!finished.wait(1000));

    // Nothing chosen: nothing runs, and the page says why.
    page.targetBBox()->setChecked(false);
    QTest::mouseClick(page.runButton(), Qt::LeftButton);
    QVERIFY(!page.isRunning());
    QCOMPARE(asked.size(), 1);
    QVERIFY(page.statusLabel()->text().contains(QLatin1String("at least one")));
}

QTEST_MAIN(TestColdStartPage)
#include "tst_coldstartpage.moc"
