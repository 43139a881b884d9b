// Closing the dashboard at any moment leaves nothing behind and never crashes. The window and its
// session are built as `poolscope --demo` builds them (embedded sandbox, demo workload, real
// pages) and closed the way the app closes them (window closed, session stopped, window then
// session destroyed) at a random moment: during start-up, while sampling, while a load demo runs
// on the session's sandbox, while a cold-start run is in flight. Run under the asan preset this
// is where a use-after-free on close (a thread still reading an object already destroyed) or a
// leak shows; in every build it checks that no server process and no sandbox directory of this
// process survives a close.
//
// The moments are drawn from a seed printed at the start; POOLSCOPE_TEST_SEED=N replays a run.
#include "core/monitor/monitorsession.h"
#include "tests/support/leftovers.h"
#include "tests/support/testseed.h"
#include "ui/coldstart/coldstartpage.h"
#include "ui/loaddemo/loaddemoknobs.h"
#include "ui/loaddemo/loaddemopage.h"
#include "ui/mainwindow.h"

#include <QComboBox>
#include <QDir>
#include <QPushButton>
#include <QSpinBox>
#include <QtTest>

#include <chrono>

using namespace poolscope;
using namespace poolscope::testing;
using namespace poolscope::ui;
using namespace std::chrono_literals;

namespace {

enum class Moment { StartingUp, Sampling, LoadDemoRunning, ColdStartRunning };

QString momentName(Moment moment)
{
    switch (moment) {
    case Moment::StartingUp:
        return QStringLiteral("starting up");
    case Moment::Sampling:
        return QStringLiteral("sampling");
    case Moment::LoadDemoRunning:
        return QStringLiteral("load demo running");
    case Moment::ColdStartRunning:
        return QStringLiteral("cold start running");
    }
    return {};
}

} // namespace

class TestShutdown : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void closeAtARandomMoment_data();
    void closeAtARandomMoment();

private:
    void reach(Moment moment, MonitorSession &session, MainWindow &window);

    PrivateTempDir m_tmp;
    QRandomGenerator m_random;
};

void TestShutdown::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("poolscope-test-shutdown"));
    // This process's sandboxes go into a private temp directory, so "left behind" means ours.
    QVERIFY(m_tmp.isValid());
    qputenv("TMPDIR", QFile::encodeName(m_tmp.path()));
    QCOMPARE(QDir::tempPath(), m_tmp.path());

    m_random = seededRandom();
}

void TestShutdown::closeAtARandomMoment_data()
{
    QTest::addColumn<int>("moment");
    const Moment moments[] = { Moment::StartingUp, Moment::Sampling, Moment::LoadDemoRunning,
                               Moment::ColdStartRunning };
    for (int round = 1; round <= 5; ++round) {
        for (Moment m : moments) {
            QTest::addRow("%s #%d", qPrintable(momentName(m)), round) << int(m);
        }
    }
}

// Brings the session to `moment`; returns with it reached (or a failed check).
void TestShutdown::reach(Moment moment, MonitorSession &session, MainWindow &window)
{
    if (moment == Moment::StartingUp)
        return;
    QTRY_VERIFY_WITH_TIMEOUT(session.lastSample().has_value(), 60000);
    if (moment == Moment::LoadDemoRunning) {
        QVERIFY(window.showPage(QStringLiteral("loaddemo")));
        auto *page = window.findChild<LoadDemoPage *>();
        QVERIFY(page);
        QComboBox *scenario = page->knobs()->scenarioBox();
        scenario->setCurrentIndex(scenario->findData(QStringLiteral("local-dev")));
        page->knobs()->durationBox()->setValue(60);
        QTest::mouseClick(page->startButton(), Qt::LeftButton);
        QCOMPARE(page->phase(), LoadDemoPage::Phase::Running);
    } else if (moment == Moment::ColdStartRunning) {
        QVERIFY(window.showPage(QStringLiteral("coldstart")));
        auto *page = window.findChild<ColdStartPage *>();
        QVERIFY(page);
        page->trialsBox()->setValue(page->trialsBox()->maximum());
        QTest::mouseClick(page->runButton(), Qt::LeftButton);
        QVERIFY(page->isRunning());
    }
}

void TestShutdown::closeAtARandomMoment()
{
    QFETCH(int, moment);
    // Start-up (initdb, certificates, both servers) takes a few seconds: closing within 3 s lands
    // anywhere in it; later moments get up to 1.5 s more of their activity.
    const int extraMs = int(m_random.bounded(Moment(moment) == Moment::StartingUp ? 3000 : 1500));
    qInfo("closing %d ms after: %s", extraMs, qPrintable(momentName(Moment(moment))));
    QString sandboxDirectory;
    {
        MonitorSession session;
        MainWindow window(&session);
        window.show();
        MonitorSession::Options options;
        options.startSandbox = true;
        options.demoWorkload = true;
        options.interval = 250ms;
        session.start(options);
        reach(Moment(moment), session, window);
        if (QTest::currentTestFailed())
            return;
        // The random moment itself: time passes with the event loop running, so samples, load
        // and probes go on exactly as they would before an operator's click on Close.
        QTest::qWait(extraMs);
        if (session.sandboxEndpoints())
            sandboxDirectory = session.sandboxEndpoints()->directory;
        window.close();
        session.stop(); // as `poolscope` does once its event loop has returned
    }
    // Stopped servers may take a moment to be reaped; an orphan never goes.
    QTRY_VERIFY2_WITH_TIMEOUT(serverProcessesUnder(m_tmp.path()).isEmpty(),
                              qPrintable(serverProcessesUnder(m_tmp.path()).join(u'\n')), 15000);
    QVERIFY2(sandboxDirectoriesUnder(m_tmp.path()).isEmpty(),
             qPrintable(sandboxDirectoriesUnder(m_tmp.path()).join(u' ')));
    if (!sandboxDirectory.isEmpty())
        QVERIFY(!QFileInfo::exists(sandboxDirectory));
}

QTEST_MAIN(TestShutdown)
#include "tst_shutdown.moc"
