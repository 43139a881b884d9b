// SessionActions against the sandbox: cancel a running query (57014, the connection survives),
// terminate a session idle in transaction (it leaves pg_stat_activity), unknown pids, an
// unreachable server, and the GUI thread never waiting for any of it.
#include "core/db/connection.h"
#include "core/monitor/sessionactions.h"
#include "core/sandbox/freeport.h"
#include "tests/support/sandboxfixture.h"
#include "tests/support/testprocess.h"
#include "tests/support/testsession.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

#include <optional>
#include <thread>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

namespace {

SessionActionResult takeResult(QSignalSpy &spy)
{
    return spy.takeFirst().at(0).value<SessionActionResult>();
}

} // namespace

class TestSessionActions : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;

    QString stateOf(int pid) const
    {
        return querySingleValue(
            m_sandbox.adminUri(),
            QStringLiteral("SELECT coalesce(state, '') || '|' || query FROM pg_stat_activity "
                           "WHERE pid = %1")
                .arg(pid));
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString())); }

    void cancelsARunningQuery()
    {
        TestSession sleeper(m_sandbox.directUri(), QStringLiteral("tst-sleeper"));
        sleeper.execInBackground(QStringLiteral("SELECT pg_sleep(30)"));
        QTRY_VERIFY_WITH_TIMEOUT(
            stateOf(sleeper.pid()).startsWith(QLatin1String("active|SELECT pg_sleep")), 10000);

        SessionActions actions(m_sandbox.adminUri());
        QSignalSpy finished(&actions, &SessionActions::finished);
        actions.cancel({ sleeper.pid() });
        QCOMPARE(finished.count(), 0); // delivered through the event loop, never from the call

        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
        const SessionActionResult result = takeResult(finished);
        QCOMPARE(result.action, SessionActionResult::Action::Cancel);
        QVERIFY2(!result.error, qPrintable(result.error ? result.error->summary() : QString()));
        QCOMPARE(result.requested, QList<int> { sleeper.pid() });
        QCOMPARE(result.succeeded, QList<int> { sleeper.pid() });
        QVERIFY(result.failed.isEmpty());

        const std::optional<DbError> error = sleeper.wait();
        QVERIFY(error);
        QCOMPARE(error->sqlstate, QStringLiteral("57014"));
        QCOMPARE(error->kind, ErrorKind::QueryCanceled);
        QVERIFY(sleeper.exec(QStringLiteral("SELECT 1"))); // cancel leaves the session alive

        // The actions' own connection is short-lived and named.
        QTRY_COMPARE_WITH_TIMEOUT(
            querySingleValue(m_sandbox.adminUri(),
                             QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE "
                                            "application_name = 'poolscope-actions'")),
            QStringLiteral("0"), 5000);
    }

    void terminatesAnIdleTransaction()
    {
        TestSession idle(m_sandbox.directUri(), QStringLiteral("tst-idle-in-tx"));
        QVERIFY(idle.exec(QStringLiteral("BEGIN; SELECT 1")));
        QTRY_VERIFY_WITH_TIMEOUT(
            stateOf(idle.pid()).startsWith(QLatin1String("idle in transaction|")), 10000);

        SessionActions actions(m_sandbox.adminUri());
        QSignalSpy finished(&actions, &SessionActions::finished);
        actions.terminate({ idle.pid() });
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
        const SessionActionResult result = takeResult(finished);
        QCOMPARE(result.action, SessionActionResult::Action::Terminate);
        QVERIFY(!result.error);
        QCOMPARE(result.succeeded, QList<int> { idle.pid() });
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(idle.pid()).isNull(), 10000);
        QVERIFY(!idle.exec(QStringLiteral("SELECT 1"))); // its connection is gone
    }

    // The call only queues the request: the connect and the query happen on the worker. Against a
    // listener that never answers, a call that connected on the calling thread would hold it for
    // the whole connect deadline (5 s); it must return in a fraction of that. The facade's
    // destructor then waits for that deadline.
    void callsReturnAtOnceAgainstAServerThatNeverAnswers()
    {
        SilentListener silent;
        QVERIFY(silent.port() > 0);
        SessionActions actions(QStringLiteral("host=127.0.0.1 port=%1 dbname=postgres user=nobody")
                                   .arg(silent.port()));
        QSignalSpy finished(&actions, &SessionActions::finished);
        QElapsedTimer timer;
        timer.start();
        actions.terminate({ 4242 });
        QVERIFY2(timer.elapsed() < 1000, qPrintable(QString::number(timer.elapsed())));
        QCOMPARE(finished.count(), 0);
    }

    void unknownPidFails()
    {
        TestSession alive(m_sandbox.directUri(), QStringLiteral("tst-alive"));
        // Far above any pid the sandbox hands out (pid_max is at most 4194304).
        const int missing = 4194304 + 17;
        SessionActions actions(m_sandbox.adminUri());
        QSignalSpy finished(&actions, &SessionActions::finished);
        actions.cancel({ alive.pid(), missing });
        actions.terminate({ missing });
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 10000);

        const SessionActionResult cancel = takeResult(finished);
        QVERIFY(!cancel.error);
        QCOMPARE(cancel.succeeded, QList<int> { alive.pid() }); // nothing running: still true
        QCOMPARE(cancel.failed, QList<int> { missing });
        const SessionActionResult terminate = takeResult(finished);
        QCOMPARE(terminate.action, SessionActionResult::Action::Terminate);
        QVERIFY(!terminate.error);
        QVERIFY(terminate.succeeded.isEmpty());
        QCOMPARE(terminate.failed, QList<int> { missing });
        QVERIFY(alive.exec(QStringLiteral("SELECT 1")));
    }

    void unreachableServerIsATypedError()
    {
        QString portError;
        const std::vector<int> ports = sandbox::findFreePorts(1, &portError);
        QVERIFY2(!ports.empty(), qPrintable(portError));
        SessionActions actions(QStringLiteral("host=127.0.0.1 port=%1 dbname=postgres user=nobody")
                                   .arg(ports.front()));
        QSignalSpy finished(&actions, &SessionActions::finished);
        actions.terminate({ 4242 });
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
        const SessionActionResult result = takeResult(finished);
        QVERIFY(result.error);
        QCOMPARE(result.error->kind, ErrorKind::ConnectionRefused);
        QVERIFY(result.succeeded.isEmpty());
        QCOMPARE(result.failed, QList<int> { 4242 });

        // A bad conninfo is typed too, and nothing is attempted.
        SessionActions broken(QStringLiteral("host='unterminated"));
        QSignalSpy brokenFinished(&broken, &SessionActions::finished);
        broken.cancel({ 1 });
        QTRY_COMPARE_WITH_TIMEOUT(brokenFinished.count(), 1, 5000);
        const SessionActionResult invalid = takeResult(brokenFinished);
        QVERIFY(invalid.error);
        QCOMPARE(invalid.error->kind, ErrorKind::InvalidConfiguration);
    }

    void destructorWaitsForARequestInFlight()
    {
        // Destroying the facade right after a request must neither crash nor deliver late: a
        // result is never emitted from the worker's thread while the destructor waits (the spy
        // would see it), nor posted to a receiver after the facade is gone (the queued
        // connection would deliver it below); and the request's connection is closed.
        auto actions = std::make_unique<SessionActions>(m_sandbox.adminUri());
        QSignalSpy finished(actions.get(), &SessionActions::finished);
        int deliveredLate = 0;
        connect(
            actions.get(), &SessionActions::finished, this, [&deliveredLate] { ++deliveredLate; },
            Qt::QueuedConnection);
        actions->cancel({ 4194304 + 18 });
        actions.reset();
        QCoreApplication::sendPostedEvents();
        QCOMPARE(finished.count(), 0);
        QCOMPARE(deliveredLate, 0);
        QTRY_COMPARE_WITH_TIMEOUT(
            querySingleValue(m_sandbox.adminUri(),
                             QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE "
                                            "application_name = 'poolscope-actions'")),
            QStringLiteral("0"), 5000);
    }
};

QTEST_GUILESS_MAIN(TestSessionActions)
#include "tst_sessionactions.moc"
