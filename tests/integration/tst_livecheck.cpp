// Live checks against the sandbox: the direct endpoint is confirmed direct, the PgBouncer endpoint
// is detected as a pooler by behaviour, a closed port is refused quickly, a silent listener costs
// at most the step deadline, a wrong password is typed 28P01 and never echoed, and start() keeps
// the GUI thread free.
#include "core/check/livecheck.h"
#include "core/sandbox/freeport.h"
#include "tests/support/sandboxfixture.h"
#include "tests/support/testprocess.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QtTest>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

namespace {

constexpr auto StepTimeout = 5s;

QStringList stepNames(const LiveCheckReport &report)
{
    QStringList names;
    for (const LiveCheckStep &s : report.steps)
        names << s.name;
    return names;
}

const LiveCheckStep *findStep(const LiveCheckReport &report, const QString &name)
{
    for (const LiveCheckStep &s : report.steps) {
        if (s.name == name)
            return &s;
    }
    return nullptr;
}

QString describe(const LiveCheckReport &report)
{
    QStringList lines;
    for (const LiveCheckStep &s : report.steps)
        lines << QStringLiteral("%1 ok=%2 %3ms %4 %5")
                     .arg(s.name)
                     .arg(s.ok)
                     .arg(s.ms, 0, 'f', 1)
                     .arg(s.detail, s.error ? s.error->summary() : QString());
    return lines.join(QLatin1Char('\n'));
}

// Everything a step shows: detail, error message and remedy.
QString allText(const LiveCheckReport &report)
{
    QString text = report.poolerEvidence;
    for (const LiveCheckStep &s : report.steps) {
        text += s.detail;
        if (s.error)
            text += s.error->message + s.error->remedy + s.error->summary();
    }
    return text;
}

EndpointInfo endpoint(int port, EndpointKind kind, bool pooled)
{
    EndpointInfo info;
    info.host = QStringLiteral("127.0.0.1");
    info.port = port;
    info.dbname = QStringLiteral("app");
    info.user = QStringLiteral("app");
    info.kind = kind;
    info.pooled = pooled;
    return info;
}

} // namespace

class TestLiveCheck : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;

    QString realPasswords() const
    {
        QFile file(m_sandbox.endpoints().passFile);
        if (!file.open(QIODevice::ReadOnly))
            return {};
        return QString::fromUtf8(file.readAll());
    }

private Q_SLOTS:
    void initTestCase()
    {
        sandbox::SandboxOptions options;
        options.poolSize = 4; // several server connections per pool: the pid can change
        QVERIFY2(m_sandbox.start(options), qPrintable(m_sandbox.errorString()));
    }

    void directEndpointIsConfirmedDirect()
    {
        const auto &e = m_sandbox.endpoints();
        const LiveCheckReport report = LiveChecker::runBlocking(
            m_sandbox.directUri(), endpoint(e.postgresPort, EndpointKind::Local, false),
            StepTimeout);
        const QString text = describe(report);
        QCOMPARE(stepNames(report),
                 QStringList({ QStringLiteral("dns"), QStringLiteral("tcp"), QStringLiteral("tls"),
                               QStringLiteral("auth"), QStringLiteral("server_version"),
                               QStringLiteral("limits"), QStringLiteral("pooler") }));
        for (const LiveCheckStep &s : report.steps) {
            QVERIFY2(s.ok, qPrintable(text));
            QVERIFY2(!s.error, qPrintable(text));
        }
        QVERIFY(findStep(report, QStringLiteral("dns"))->skipped); // an IP literal
        // The sandbox speaks TLS (its URIs ask for verify-full): protocol and cipher are shown.
        const QString tls = findStep(report, QStringLiteral("tls"))->detail;
        QVERIFY2(tls.startsWith(QLatin1String("TLSv1.")), qPrintable(tls));
        QVERIFY2(report.serverVersion.startsWith(QLatin1String("15.")), qPrintable(text));
        QCOMPARE(findStep(report, QStringLiteral("server_version"))->detail, report.serverVersion);
        QCOMPARE(report.maxConnections, 100);
        QVERIFY(report.reservedConnections >= 3);
        QVERIFY2(report.poolerDetected.has_value(), qPrintable(text));
        QVERIFY2(*report.poolerDetected == false, qPrintable(text));
        QVERIFY(!report.poolerEvidence.isEmpty());
        QVERIFY(!report.contradictsHostName);
        qInfo().noquote() << text;
    }

    void pgbouncerEndpointIsDetectedAsAPooler()
    {
        const auto &e = m_sandbox.endpoints();
        // The sandbox's PgBouncer listens on a random port, so the host name claims "local": by
        // the documented rule a detected pooler contradicts it.
        LiveCheckReport report = LiveChecker::runBlocking(
            m_sandbox.pooledUri(), endpoint(e.bouncerPort, EndpointKind::Local, false),
            StepTimeout);
        QString text = describe(report);
        for (const LiveCheckStep &s : report.steps)
            QVERIFY2(s.ok, qPrintable(text));
        QVERIFY2(report.poolerDetected.value_or(false), qPrintable(text));
        QVERIFY2(report.poolerEvidence.contains(QLatin1String("pg_backend_pid() changed"))
                     || report.poolerEvidence.contains(QLatin1String("not seen")),
                 qPrintable(report.poolerEvidence));
        QVERIFY(report.contradictsHostName);
        QVERIFY(findStep(report, QStringLiteral("pooler"))
                    ->detail.contains(QLatin1String("contradicted")));
        QCOMPARE(report.maxConnections, 100); // the server's value, through the pooler
        qInfo().noquote() << text;

        // The same endpoint described as PgBouncer (port 6432 style): confirmed, no contradiction.
        report = LiveChecker::runBlocking(m_sandbox.pooledUri(),
                                          endpoint(e.bouncerPort, EndpointKind::PgBouncer, true),
                                          StepTimeout);
        text = describe(report);
        QVERIFY2(report.poolerDetected.value_or(false), qPrintable(text));
        QVERIFY2(!report.contradictsHostName, qPrintable(text));
    }

    void closedPortIsRefusedQuickly()
    {
        QString error;
        const std::vector<int> ports = sandbox::findFreePorts(1, &error);
        QVERIFY2(!ports.empty(), qPrintable(error));
        const QString conninfo =
            QStringLiteral("host=127.0.0.1 port=%1 user=app dbname=app").arg(ports.front());
        QElapsedTimer timer;
        timer.start();
        const LiveCheckReport report = LiveChecker::runBlocking(
            conninfo, endpoint(ports.front(), EndpointKind::Local, false), StepTimeout);
        QVERIFY2(timer.elapsed() < 1000, qPrintable(QString::number(timer.elapsed())));
        QCOMPARE(stepNames(report), QStringList({ QStringLiteral("dns"), QStringLiteral("tcp") }));
        const LiveCheckStep *tcp = findStep(report, QStringLiteral("tcp"));
        QVERIFY(!tcp->ok);
        QVERIFY(tcp->error);
        QCOMPARE(tcp->error->kind, ErrorKind::ConnectionRefused);
        QVERIFY(!report.poolerDetected.has_value());
    }

    void silentListenerCostsAtMostTheDeadline_data()
    {
        QTest::addColumn<QString>("sslmode");
        QTest::addColumn<QString>("failingStep");
        QTest::newRow("prefer: stuck in TLS negotiation")
            << QStringLiteral("prefer") << QStringLiteral("tls");
        QTest::newRow("disable: stuck waiting for authentication")
            << QStringLiteral("disable") << QStringLiteral("auth");
    }

    void silentListenerCostsAtMostTheDeadline()
    {
        QFETCH(QString, sslmode);
        QFETCH(QString, failingStep);
        SilentListener listener;
        QVERIFY(listener.port() > 0);
        constexpr auto timeout = 700ms;
        const QString conninfo = QStringLiteral("host=127.0.0.1 port=%1 user=app dbname=app "
                                                "sslmode=%2")
                                     .arg(listener.port())
                                     .arg(sslmode);
        QElapsedTimer timer;
        timer.start();
        const LiveCheckReport report = LiveChecker::runBlocking(
            conninfo, endpoint(listener.port(), EndpointKind::Local, false), timeout);
        const qint64 elapsed = timer.elapsed();
        const QString text = describe(report);
        QVERIFY2(elapsed >= 650 && elapsed < 700 + 500, qPrintable(QString::number(elapsed)));
        QVERIFY2(findStep(report, QStringLiteral("tcp"))->ok, qPrintable(text));
        const LiveCheckStep *failed = &report.steps.constLast();
        QCOMPARE(failed->name, failingStep);
        QVERIFY(!failed->ok);
        QVERIFY(failed->error);
        QCOMPARE(failed->error->kind, ErrorKind::ConnectionTimeout);
        QVERIFY2(failed->ms < 700 + 300, qPrintable(text));
    }

    void wrongPasswordIsTypedAndNeverShown()
    {
        const auto &e = m_sandbox.endpoints();
        const QString password = QStringLiteral("NotThePassword-4711");
        const QString conninfo =
            QStringLiteral("host=127.0.0.1 port=%1 user=app dbname=app password=%2")
                .arg(e.postgresPort)
                .arg(password);
        const LiveCheckReport report = LiveChecker::runBlocking(
            conninfo, endpoint(e.postgresPort, EndpointKind::Local, false), StepTimeout);
        const QString text = describe(report);
        const LiveCheckStep *auth = findStep(report, QStringLiteral("auth"));
        QVERIFY2(auth, qPrintable(text));
        QVERIFY(!auth->ok);
        QVERIFY(auth->error);
        QCOMPARE(auth->error->sqlstate, QStringLiteral("28P01"));
        QCOMPARE(auth->error->kind, ErrorKind::InvalidPassword);
        QVERIFY2(!allText(report).contains(password), qPrintable(allText(report)));
        QVERIFY2(!text.contains(password), qPrintable(text));

        // A successful run shows none of the sandbox's real passwords either.
        const LiveCheckReport ok = LiveChecker::runBlocking(
            m_sandbox.pooledUri(), endpoint(e.bouncerPort, EndpointKind::PgBouncer, true),
            StepTimeout);
        const QString shown = allText(ok);
        for (const QString &line : realPasswords().split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
            const QString secret = line.section(QLatin1Char(':'), 4);
            QVERIFY(!secret.isEmpty());
            QVERIFY2(!shown.contains(secret), "a password appears in the live check output");
        }
    }

    void startReturnsAtOnceAndStepsArriveQueued()
    {
        {
            // Against a listener that never answers, a check run on the calling thread would hold
            // it for at least a step's deadline (2 s): start() must return in a fraction of it.
            SilentListener silent;
            QVERIFY(silent.port() > 0);
            LiveChecker stalled;
            QElapsedTimer timer;
            timer.start();
            stalled.start(
                QStringLiteral("host=127.0.0.1 port=%1 user=app dbname=app").arg(silent.port()),
                endpoint(silent.port(), EndpointKind::Local, false), 2s);
            QVERIFY2(timer.elapsed() < 500, qPrintable(QString::number(timer.elapsed())));
        }
        const auto &e = m_sandbox.endpoints();
        LiveChecker checker;
        QSignalSpy steps(&checker, &LiveChecker::stepFinished);
        QSignalSpy finished(&checker, &LiveChecker::finished);
        checker.start(m_sandbox.directUri(), endpoint(e.postgresPort, EndpointKind::Local, false),
                      StepTimeout);
        QCOMPARE(steps.count(), 0); // queued: nothing is delivered before the event loop runs
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QCOMPARE(steps.count(), 7);
        QCOMPARE(steps.at(0).at(0).value<LiveCheckStep>().name, QStringLiteral("dns"));
        QCOMPARE(steps.at(6).at(0).value<LiveCheckStep>().name, QStringLiteral("pooler"));
        const auto report = finished.at(0).at(0).value<LiveCheckReport>();
        QCOMPARE(report.steps.size(), 7);
        QCOMPARE(report.poolerDetected, std::optional<bool>(false));

        // Cancelled: no further signals from that run; a new run replaces it. The new run is the
        // same check, so had the cancelled one gone on, its signals would be counted by the time
        // the new one finishes: 7 steps and 1 report, no more.
        steps.clear();
        finished.clear();
        checker.start(m_sandbox.pooledUri(), endpoint(e.bouncerPort, EndpointKind::PgBouncer, true),
                      StepTimeout);
        checker.cancel();
        QCoreApplication::sendPostedEvents();
        QCOMPARE(steps.count(), 0);
        QCOMPARE(finished.count(), 0);
        checker.start(m_sandbox.pooledUri(), endpoint(e.bouncerPort, EndpointKind::PgBouncer, true),
                      StepTimeout);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QCoreApplication::sendPostedEvents();
        QCOMPARE(finished.count(), 1);
        QCOMPARE(steps.count(), 7);
        QCOMPARE(finished.at(0).at(0).value<LiveCheckReport>().poolerDetected,
                 std::optional<bool>(true));
    }

    void destroyingARunningCheckerWaitsBriefly()
    {
        SilentListener listener;
        QElapsedTimer timer;
        timer.start();
        {
            LiveChecker checker;
            checker.start(
                QStringLiteral("host=127.0.0.1 port=%1 user=app dbname=app").arg(listener.port()),
                endpoint(listener.port(), EndpointKind::Local, false), 500ms);
        }
        QVERIFY2(timer.elapsed() < 500 + 500, qPrintable(QString::number(timer.elapsed())));
    }
};

QTEST_GUILESS_MAIN(TestLiveCheck)
#include "tst_livecheck.moc"
