// The real `poolscope` leaves nothing behind, ten times in a row, ending either way in turn: its
// window closed (--quit-after closes it as the close button does) or SIGTERM, on its embedded
// sandbox (--demo) and watching a server it did not start. "Nothing" is: no PostgreSQL or
// PgBouncer process and no sandbox directory of the child (it gets a private TMPDIR, so other
// tests' sandboxes never count), and no session of PoolScope's left on the watched server.
#include "tests/support/leftovers.h"
#include "tests/support/sandboxfixture.h"
#include "tests/support/testseed.h"

#include <QProcess>
#include <QtTest>

#include <csignal>

using namespace poolscope::testing;

namespace {

enum class Ending { CloseWindow, Sigterm };

// PoolScope's sessions on the watched server: its sampler, its session actions and anything
// else it names poolscope-*. -1 when the query failed.
int poolscopeSessions(const QString &adminUri)
{
    const QString value =
        querySingleValue(adminUri,
                         QStringLiteral("SELECT count(*) FROM pg_stat_activity "
                                        "WHERE application_name LIKE 'poolscope%'"));
    return value.isNull() ? -1 : value.toInt();
}

} // namespace

class TestLeaveNothing : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void demo_data();
    void demo();
    void watching_data();
    void watching();

private:
    // Starts poolscope with a private TMPDIR; the caller ends it.
    void start(QProcess &process, const QStringList &args);
    // Sends SIGTERM (for Ending::Sigterm) and waits for a clean exit.
    void finish(QProcess &process, Ending ending);
    void addRounds();

    SandboxFixture m_server; // the operator's server, started by this test, not by poolscope
    PrivateTempDir m_childTmp;
    QRandomGenerator m_random;
};

void TestLeaveNothing::initTestCase()
{
    QVERIFY(m_childTmp.isValid());
    QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
    m_random = seededRandom();
}

void TestLeaveNothing::addRounds()
{
    QTest::addColumn<int>("ending");
    for (int round = 1; round <= 10; ++round) {
        const Ending ending = round % 2 ? Ending::CloseWindow : Ending::Sigterm;
        QTest::addRow("#%d %s", round, ending == Ending::CloseWindow ? "close window" : "SIGTERM")
            << int(ending);
    }
}

void TestLeaveNothing::start(QProcess &process, const QStringList &args)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("TMPDIR"), m_childTmp.path());
    environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    process.setProcessEnvironment(environment);
    process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    process.start(QStringLiteral(POOLSCOPE_EXECUTABLE), args);
    QVERIFY2(process.waitForStarted(), qPrintable(process.errorString()));
}

void TestLeaveNothing::finish(QProcess &process, Ending ending)
{
    if (ending == Ending::Sigterm)
        ::kill(pid_t(process.processId()), SIGTERM);
    // Stopping is bounded (the sandbox's stop takes about a second); a minute is for a loaded,
    // sanitized build, not an expectation.
    QVERIFY2(process.waitForFinished(60000), "poolscope did not exit");
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 0);
}

void TestLeaveNothing::demo_data()
{
    addRounds();
}

// --demo, ended at a random moment from start-up to full activity.
void TestLeaveNothing::demo()
{
    QFETCH(int, ending);
    const int afterMs = 500 + int(m_random.bounded(5000));
    QProcess poolscope;
    QStringList args { QStringLiteral("--demo"), QStringLiteral("--interval"),
                       QStringLiteral("250ms") };
    if (Ending(ending) == Ending::CloseWindow)
        args << QStringLiteral("--quit-after") << QStringLiteral("%1ms").arg(afterMs);
    start(poolscope, args);
    if (Ending(ending) == Ending::Sigterm)
        QTest::qWait(afterMs); // the random moment itself, not a synchronisation
    finish(poolscope, Ending(ending));
    QTRY_VERIFY2_WITH_TIMEOUT(serverProcessesUnder(m_childTmp.path()).isEmpty(),
                              qPrintable(serverProcessesUnder(m_childTmp.path()).join(u'\n')),
                              15000);
    QVERIFY2(sandboxDirectoriesUnder(m_childTmp.path()).isEmpty(),
             qPrintable(sandboxDirectoriesUnder(m_childTmp.path()).join(u' ')));
}

void TestLeaveNothing::watching_data()
{
    addRounds();
}

// Watching the test's server: once PoolScope's sampler is seen on it, the window is closed or
// the process terminated, and its sessions must be gone from the server.
void TestLeaveNothing::watching()
{
    QFETCH(int, ending);
    QCOMPARE(poolscopeSessions(m_server.adminUri()), 0);
    QProcess poolscope;
    QStringList args { m_server.adminUri(), QStringLiteral("--pooler-console"),
                       m_server.consoleUri(), QStringLiteral("--interval"),
                       QStringLiteral("250ms") };
    // The sampler must be seen on the server before the window closes: a close time with room
    // for a loaded machine and a sanitized build.
    if (Ending(ending) == Ending::CloseWindow)
        args << QStringLiteral("--quit-after") << QStringLiteral("12s");
    start(poolscope, args);
    QTRY_VERIFY_WITH_TIMEOUT(poolscopeSessions(m_server.adminUri()) > 0, 30000);
    if (Ending(ending) == Ending::Sigterm)
        QTest::qWait(int(m_random.bounded(1000))); // the random moment itself
    finish(poolscope, Ending(ending));
    // The server notices a closed connection at once; a backend exiting takes a moment.
    QTRY_COMPARE_WITH_TIMEOUT(poolscopeSessions(m_server.adminUri()), 0, 10000);
    QVERIFY(sandboxDirectoriesUnder(m_childTmp.path()).isEmpty());
}

QTEST_GUILESS_MAIN(TestLeaveNothing)
#include "tst_leavenothing.moc"
