// The cold-start probe against the sandbox, direct and through PgBouncer: every trial is split
// into phases that add up to its total, warm queries are measured, the deadline holds against a
// listener that never answers, a closed port is refused at once; and `poolscope coldstart` as
// scripts use it (JSON keys, exit codes, remote hosts refused, SIGTERM keeps what was measured).
#include "core/coldstart/coldstartprobe.h"
#include "core/sandbox/freeport.h"
#include "tests/support/sandboxfixture.h"
#include "tests/support/testprocess.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

namespace {

ProcessRun runPoolscope(const QStringList &args, int timeoutMs = 60000)
{
    return runProgram(QStringLiteral(POOLSCOPE_EXECUTABLE), args, timeoutMs);
}

QString describe(const ColdStartReport &r)
{
    QStringList lines;
    for (const ColdStartTrial &t : r.trials)
        lines << QStringLiteral("dns %1 tcp %2 tls %3 auth %4 q %5 total %6 %7 %8")
                     .arg(t.dnsMs)
                     .arg(t.tcpMs)
                     .arg(t.tlsMs)
                     .arg(t.authMs)
                     .arg(t.firstQueryMs)
                     .arg(t.totalMs)
                     .arg(t.failedPhase, t.error ? t.error->summary() : QString());
    lines << r.verdict + QStringLiteral(": ") + r.reason;
    return lines.join(QLatin1Char('\n'));
}

void verifyPhasesAddUp(const ColdStartTrial &t)
{
    for (double phase : { t.dnsMs, t.tcpMs, t.tlsMs, t.authMs, t.firstQueryMs })
        QVERIFY2(phase >= 0, qPrintable(QString::number(phase)));
    const double sum = t.dnsMs + t.tcpMs + t.tlsMs + t.authMs + t.firstQueryMs;
    QVERIFY2(std::abs(sum - t.totalMs) < 1.0,
             qPrintable(QStringLiteral("sum %1 total %2").arg(sum).arg(t.totalMs)));
}

int freePort()
{
    QString error;
    const std::vector<int> ports = sandbox::findFreePorts(1, &error);
    return ports.empty() ? 0 : ports.front();
}

} // namespace

class TestColdStart : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;

    void verifySuccessfulRun(const QString &conninfo)
    {
        ColdStartOptions options;
        options.conninfo = conninfo;
        options.trials = 5;
        options.warmQueries = 3;
        options.timeout = 10s;
        int calls = 0;
        const ColdStartReport r =
            runColdStartProbe(options, nullptr, [&](int, const ColdStartTrial &) { ++calls; });
        const QString text = describe(r);
        QCOMPARE(calls, 5);
        QCOMPARE(r.trials.size(), 5);
        QCOMPARE(r.okTrials(), 5);
        QVERIFY2(!r.error, qPrintable(text));
        for (const ColdStartTrial &t : r.trials) {
            QVERIFY2(t.ok(), qPrintable(text));
            verifyPhasesAddUp(t);
            QVERIFY2(t.authMs > 0, qPrintable(text));
            QVERIFY2(t.firstQueryMs > 0, qPrintable(text));
            QCOMPARE(t.tlsMs, 0.0); // the sandbox has no TLS (yet): not encrypted
            QCOMPARE(t.tls, QStringLiteral("not encrypted"));
            QCOMPARE(t.address, QStringLiteral("127.0.0.1"));
            QVERIFY(t.backendPid != 0);
        }
        QCOMPARE(r.warmQueryMs.size(), 15);
        QVERIFY(r.warmP50Ms > 0 && r.warmP50Ms <= r.warmP95Ms);
        QVERIFY(r.p50TotalMs > 0 && r.p50TotalMs <= r.p95TotalMs && r.p95TotalMs <= r.maxTotalMs);
        QCOMPARE(r.verdict, QStringLiteral("pass"));
        QVERIFY(!r.cancelled);
        qInfo().noquote() << text;
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString())); }

    void percentiles()
    {
        QCOMPARE(coldStartPercentile({}, 50), 0.0);
        QCOMPARE(coldStartPercentile({ 3, 1, 2 }, 50), 2.0);
        QCOMPARE(coldStartPercentile({ 5, 1, 4, 2, 3, 6, 7, 8, 9, 10 }, 95), 10.0);
        QCOMPARE(coldStartPercentile({ 5, 1, 4, 2, 3, 6, 7, 8, 9, 10 }, 50), 5.0);
    }

    void directTrialsAddUp() { verifySuccessfulRun(m_sandbox.directUri()); }
    void pooledTrialsAddUp() { verifySuccessfulRun(m_sandbox.pooledUri()); }

    void afterIdleQueryRuns()
    {
        ColdStartOptions options;
        options.conninfo = m_sandbox.pooledUri();
        options.trials = 1;
        options.warmQueries = 0;
        options.idleBefore = 300ms;
        QElapsedTimer timer;
        timer.start();
        const ColdStartReport r = runColdStartProbe(options);
        QVERIFY(timer.elapsed() >= 300);
        QVERIFY2(r.afterIdleMs.has_value(), qPrintable(describe(r)));
        QVERIFY(!r.afterIdleError);
        QVERIFY(r.warmQueryMs.isEmpty());
        QCOMPARE(r.verdict, QStringLiteral("pass"));
    }

    void cancelStopsBetweenTrials()
    {
        std::atomic<bool> cancel { false };
        ColdStartOptions options;
        options.conninfo = m_sandbox.directUri();
        options.trials = 10;
        options.idleBefore = 60s; // skipped once cancelled
        QElapsedTimer timer;
        timer.start();
        const ColdStartReport r =
            runColdStartProbe(options, &cancel, [&](int i, const ColdStartTrial &) {
                if (i == 1)
                    cancel.store(true);
            });
        QVERIFY(timer.elapsed() < 5000);
        QVERIFY(r.cancelled);
        QCOMPARE(r.trials.size(), 2);
        QCOMPARE(r.okTrials(), 2);
        QVERIFY(r.maxTotalMs > 0);
        QVERIFY(!r.afterIdleMs);
        QCOMPARE(r.verdict, QStringLiteral("pass"));
        QVERIFY(r.reason.contains(QLatin1String("cancelled")));
    }

    void silentListenerHonoursTheDeadline_data()
    {
        QTest::addColumn<QString>("sslmode");
        QTest::addColumn<QString>("phase");
        QTest::newRow("prefer: stuck in the SSLRequest")
            << QStringLiteral("prefer") << QStringLiteral("tls");
        QTest::newRow("disable: stuck in startup")
            << QStringLiteral("disable") << QStringLiteral("auth");
    }

    void silentListenerHonoursTheDeadline()
    {
        QFETCH(QString, sslmode);
        QFETCH(QString, phase);
        SilentListener listener;
        QVERIFY(listener.port() > 0);
        ColdStartOptions options;
        options.conninfo = QStringLiteral("host=127.0.0.1 port=%1 user=app dbname=app sslmode=%2")
                               .arg(listener.port())
                               .arg(sslmode);
        options.trials = 3; // the run stops at the first failure
        options.timeout = 700ms;
        QElapsedTimer timer;
        timer.start();
        const ColdStartReport r = runColdStartProbe(options);
        const qint64 elapsed = timer.elapsed();
        const QString text = describe(r);
        QVERIFY2(elapsed >= 650 && elapsed < 700 + 500, qPrintable(QString::number(elapsed)));
        QCOMPARE(r.trials.size(), 1);
        const ColdStartTrial &t = r.trials.constFirst();
        QVERIFY(!t.ok());
        QCOMPARE(t.error->kind, ErrorKind::ConnectionTimeout);
        QCOMPARE(t.failedPhase, phase);
        verifyPhasesAddUp(t);
        QCOMPARE(r.verdict, QStringLiteral("fail"));
        QVERIFY(r.error && !r.error->remedy.isEmpty());
        qInfo().noquote() << text;
    }

    void closedPortIsRefusedFast()
    {
        const int port = freePort();
        QVERIFY(port > 0);
        ColdStartOptions options;
        options.conninfo = QStringLiteral("host=127.0.0.1 port=%1 user=app dbname=app").arg(port);
        QElapsedTimer timer;
        timer.start();
        const ColdStartReport r = runColdStartProbe(options);
        QVERIFY2(timer.elapsed() < 1000, qPrintable(QString::number(timer.elapsed())));
        QCOMPARE(r.trials.size(), 1);
        QCOMPARE(r.trials.constFirst().error->kind, ErrorKind::ConnectionRefused);
        QCOMPARE(r.trials.constFirst().failedPhase, QStringLiteral("tcp"));
        verifyPhasesAddUp(r.trials.constFirst());
        QCOMPARE(r.verdict, QStringLiteral("fail"));
    }

    void commandPrintsTheJsonKeys()
    {
        const ProcessRun run = runPoolscope(
            { QStringLiteral("coldstart"), m_sandbox.pooledUri(), QStringLiteral("--trials"),
              QStringLiteral("3"), QStringLiteral("--warm-queries"), QStringLiteral("2"),
              QStringLiteral("--idle-before"), QStringLiteral("0.2"), QStringLiteral("--json") });
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject o = QJsonDocument::fromJson(run.out).object();
        QVERIFY2(!o.isEmpty(), run.out.constData());
        const QJsonArray trials = o.value(QStringLiteral("trials")).toArray();
        QCOMPARE(trials.size(), 3);
        for (const QJsonValue &v : trials) {
            const QJsonObject t = v.toObject();
            double sum = 0;
            for (const char *key : { "dns_ms", "tcp_ms", "tls_ms", "auth_ms", "first_query_ms" }) {
                QVERIFY2(t.value(QLatin1String(key)).isDouble(), key);
                sum += t.value(QLatin1String(key)).toDouble();
            }
            QVERIFY(std::abs(sum - t.value(QStringLiteral("total_ms")).toDouble()) < 1.0);
        }
        const QJsonObject summary = o.value(QStringLiteral("summary")).toObject();
        for (const char *key : { "p50_total_ms", "p95_total_ms", "max_total_ms" })
            QVERIFY2(summary.value(QLatin1String(key)).toDouble() > 0, key);
        const QJsonObject warm = o.value(QStringLiteral("warm_query_ms")).toObject();
        QVERIFY(warm.value(QStringLiteral("p50")).toDouble() > 0);
        QVERIFY(warm.value(QStringLiteral("p95")).toDouble() > 0);
        QCOMPARE(warm.value(QStringLiteral("count")).toInt(), 6);
        QVERIFY(o.value(QStringLiteral("after_idle"))
                    .toObject()
                    .value(QStringLiteral("query_ms"))
                    .isDouble());
        QCOMPARE(o.value(QStringLiteral("verdict")).toString(), QStringLiteral("pass"));
    }

    void commandExitCodes()
    {
        // A refused trial: 1, with the typed error in the JSON.
        const ProcessRun refused =
            runPoolscope({ QStringLiteral("coldstart"),
                           QStringLiteral("host=127.0.0.1 port=%1 user=app").arg(freePort()),
                           QStringLiteral("--json") });
        QCOMPARE(refused.exitCode, 1);
        const QJsonObject o = QJsonDocument::fromJson(refused.out).object();
        QCOMPARE(o.value(QStringLiteral("verdict")).toString(), QStringLiteral("fail"));
        QCOMPARE(o.value(QStringLiteral("error")).toObject().value(QStringLiteral("kind")),
                 QStringLiteral("connection_refused"));

        // Usage errors: 2.
        const QList<QStringList> usage = {
            { QStringLiteral("coldstart") },
            { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--trials"),
              QStringLiteral("0") },
            { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--timeout"),
              QStringLiteral("10") },
            { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--idle-before"),
              QStringLiteral("-1") },
            { QStringLiteral("coldstart"), QStringLiteral("postgresql://a@127.0.0.1:x/app") },
        };
        for (const QStringList &args : usage) {
            const ProcessRun r = runPoolscope(args);
            QVERIFY2(r.exitCode == 2, qPrintable(args.join(QLatin1Char(' '))));
            QVERIFY(r.out.isEmpty());
        }
    }

    void remoteHostIsRefusedWithoutAllowRemote()
    {
        // .invalid never resolves: were anything sent, this would fail as DNS (exit 1), not 2.
        QElapsedTimer timer;
        timer.start();
        const ProcessRun r = runPoolscope({ QStringLiteral("coldstart"),
                                            QStringLiteral("host=db.example.invalid dbname=app"),
                                            QStringLiteral("--json") });
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.out.isEmpty());
        QVERIFY(r.err.contains("--allow-remote"));
        QVERIFY(timer.elapsed() < 5000);
        const ProcessRun allowed = runPoolscope(
            { QStringLiteral("coldstart"), QStringLiteral("host=db.example.invalid dbname=app"),
              QStringLiteral("--allow-remote"), QStringLiteral("--timeout"), QStringLiteral("3s"),
              QStringLiteral("--json") });
        QCOMPARE(allowed.exitCode, 1);
        const QJsonObject o = QJsonDocument::fromJson(allowed.out).object();
        const QString kind =
            o.value(QStringLiteral("error")).toObject().value(QStringLiteral("kind")).toString();
        QVERIFY2(kind == QLatin1String("dns_failure")
                     || kind == QLatin1String("connection_timeout"),
                 qPrintable(kind));
    }

    void terminationKeepsWhatWasMeasured()
    {
        QProcess p;
        p.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--trials"),
                  QStringLiteral("2"), QStringLiteral("--idle-before"), QStringLiteral("60"),
                  QStringLiteral("--json") });
        QVERIFY(p.waitForStarted());
        QTest::qWait(1500); // the trials are done; the idle wait has begun
        QElapsedTimer timer;
        timer.start();
        p.terminate(); // SIGTERM, handled like Ctrl-C
        QVERIFY(p.waitForFinished(5000));
        QVERIFY(timer.elapsed() < 2000);
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 0);
        const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QCOMPARE(o.value(QStringLiteral("trials")).toArray().size(), 2);
        QVERIFY(o.value(QStringLiteral("cancelled")).toBool());
        QVERIFY(o.value(QStringLiteral("after_idle"))
                    .toObject()
                    .value(QStringLiteral("query_ms"))
                    .isNull());
    }
};

QTEST_GUILESS_MAIN(TestColdStart)
#include "tst_coldstart.moc"
