// The cold-start probe against the sandbox, direct and through PgBouncer: every trial is split
// into phases that fit in the test's own clock around it, warm queries are measured, the deadline
// holds against a
// listener that never answers, a closed port is refused at once; and `poolscope coldstart` as
// scripts use it (JSON keys, exit codes, remote hosts refused, SIGTERM keeps what was measured);
// the pool checkout after the idle period, also when the idle connection was killed meanwhile;
// --compare (direct vs pooled) and --cold-wait.
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

#include <thread>

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

// The probe computes its total as the sum of its phases; what can be checked from outside is that
// they fit in the test's own clock around the trial (`wallMs`, which also holds `alsoInWallMs`,
// e.g. the trial's warm queries).
void verifyPhasesWithin(const ColdStartTrial &t, double wallMs, double alsoInWallMs = 0)
{
    for (double phase : { t.dnsMs, t.tcpMs, t.tlsMs, t.authMs, t.firstQueryMs })
        QVERIFY2(phase >= 0, qPrintable(QString::number(phase)));
    QVERIFY2(t.totalMs > 0, qPrintable(QString::number(t.totalMs)));
    QVERIFY2(t.totalMs + alsoInWallMs <= wallMs,
             qPrintable(QStringLiteral("total %1 + %2 outside the test's clock: %3 ms")
                            .arg(t.totalMs)
                            .arg(alsoInWallMs)
                            .arg(wallMs)));
}

double msSince(const QElapsedTimer &timer)
{
    return double(timer.nsecsElapsed()) / 1e6;
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
        // The test's own clock: each trial (with its warm queries) runs between the previous
        // trial's callback (or the start) and its own.
        int calls = 0;
        QList<double> trialWallMs;
        QElapsedTimer sinceLast;
        sinceLast.start();
        const ColdStartReport r =
            runColdStartProbe(options, nullptr, [&](int, const ColdStartTrial &) {
                ++calls;
                trialWallMs << msSince(sinceLast);
                sinceLast.restart();
            });
        const QString text = describe(r);
        QCOMPARE(calls, 5);
        QCOMPARE(r.trials.size(), 5);
        QCOMPARE(r.okTrials(), 5);
        QVERIFY2(!r.error, qPrintable(text));
        QCOMPARE(r.warmQueryMs.size(), 15);
        for (qsizetype i = 0; i < r.trials.size(); ++i) {
            const ColdStartTrial &t = r.trials.at(i);
            QVERIFY2(t.ok(), qPrintable(text));
            double warm = 0;
            for (qsizetype q = 3 * i; q < 3 * i + 3; ++q)
                warm += r.warmQueryMs.at(q);
            verifyPhasesWithin(t, trialWallMs.at(i), warm);
            QVERIFY2(t.authMs > 0, qPrintable(text));
            QVERIFY2(t.firstQueryMs > 0, qPrintable(text));
            if (conninfo.contains(QLatin1String("sslmode=verify-full"))) {
                // The sandbox with its own CA: the handshake is a real phase.
                QVERIFY2(t.tlsMs > 0, qPrintable(text));
                QVERIFY2(t.tls.startsWith(QLatin1String("TLSv")), qPrintable(t.tls));
            } else {
                QCOMPARE(t.tlsMs, 0.0);
                QCOMPARE(t.tls, QStringLiteral("not encrypted"));
            }
            QCOMPARE(t.address, QStringLiteral("127.0.0.1"));
            QVERIFY(t.backendPid != 0);
        }
        QVERIFY(r.warmP50Ms > 0 && r.warmP50Ms <= r.warmP95Ms);
        QVERIFY(r.p50TotalMs > 0 && r.p50TotalMs <= r.p95TotalMs && r.p95TotalMs <= r.maxTotalMs);
        QCOMPARE(r.verdict, QStringLiteral("pass"));
        QVERIFY(!r.cancelled);
        qInfo().noquote() << text;
    }

    // The pool's connections are told apart by application_name. PgBouncer keeps a server
    // connection of an earlier pooled run idle under that name too: start from none.
    void terminatePoolBackends()
    {
        const QString pool = QStringLiteral(
            "FROM pg_stat_activity WHERE application_name = 'poolscope-coldstart-pool'");
        querySingleValue(m_sandbox.adminUri(),
                         QStringLiteral("SELECT count(pg_terminate_backend(pid)) ") + pool);
        QTRY_COMPARE_WITH_TIMEOUT(
            querySingleValue(m_sandbox.adminUri(), QStringLiteral("SELECT count(*) ") + pool),
            QStringLiteral("0"), 5000);
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

    void directTrialsFitTheClock() { verifySuccessfulRun(m_sandbox.directUri()); }
    void pooledTrialsFitTheClock() { verifySuccessfulRun(m_sandbox.pooledUri()); }

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

    void poolCheckoutAfterIdle()
    {
        terminatePoolBackends();
        const QString countIdle =
            QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                           "'poolscope-coldstart-pool' AND state = 'idle'");
        ColdStartOptions options;
        options.conninfo = m_sandbox.directUri();
        options.trials = 1;
        options.warmQueries = 0;
        options.idleBefore = 1s;
        QString idleDuringWait;
        QElapsedTimer timer;
        timer.start();
        const ColdStartReport r = runColdStartProbe(options, nullptr, {}, [&] {
            idleDuringWait = querySingleValue(m_sandbox.adminUri(), countIdle);
        });
        const QString text = describe(r);
        QVERIFY(timer.elapsed() >= 1000);
        QCOMPARE(idleDuringWait, QStringLiteral("1")); // one connection sat idle in the pool
        QVERIFY2(r.poolCheckoutAfterIdleMs && r.poolQueryAfterIdleMs, qPrintable(text));
        QVERIFY(*r.poolCheckoutAfterIdleMs > 0 && *r.poolQueryAfterIdleMs > 0);
        QVERIFY(!r.poolAfterIdleError);
        QVERIFY(!r.poolReconnected);
        QVERIFY(r.afterIdleMs.has_value());
        QCOMPARE(r.verdict, QStringLiteral("pass"));
        // The pool is closed with the probe.
        QTRY_COMPARE_WITH_TIMEOUT(querySingleValue(m_sandbox.adminUri(), countIdle),
                                  QStringLiteral("0"), 5000);
        qInfo().noquote() << text << "pool checkout" << *r.poolCheckoutAfterIdleMs << "ms, query"
                          << *r.poolQueryAfterIdleMs << "ms";
    }

    void poolReplacesAKilledIdleConnection()
    {
        // During the idle wait the test terminates the pool's idle server connection, as a
        // suspended compute or a restarted server would: the checkout after the wait must still
        // succeed, on a new connection.
        ColdStartOptions options;
        options.conninfo = m_sandbox.directUri();
        options.trials = 1;
        options.warmQueries = 0;
        options.idleBefore = 1500ms;
        terminatePoolBackends();
        QString terminated;
        const ColdStartReport r = runColdStartProbe(options, nullptr, {}, [&] {
            terminated = querySingleValue(
                m_sandbox.adminUri(),
                QStringLiteral("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE application_name = 'poolscope-coldstart-pool'"));
        });
        const QString text = describe(r);
        QCOMPARE(terminated, QStringLiteral("1"));
        QVERIFY2(!r.poolAfterIdleError, qPrintable(text));
        QVERIFY2(r.poolCheckoutAfterIdleMs && r.poolQueryAfterIdleMs, qPrintable(text));
        QVERIFY2(r.poolReconnected, qPrintable(text));
        QVERIFY(r.afterIdleMs.has_value()); // the probe's own connection was left alone
        QCOMPARE(r.verdict, QStringLiteral("pass"));
        QVERIFY2(r.reason.contains(QLatin1String("replaced")), qPrintable(r.reason));
    }

    void cancelDuringTheIdleWaitSkipsThePoolCheckout()
    {
        std::atomic<bool> cancel { false };
        ColdStartOptions options;
        options.conninfo = m_sandbox.directUri();
        options.trials = 1;
        options.warmQueries = 0;
        options.idleBefore = 60s;
        QElapsedTimer timer;
        timer.start();
        std::thread canceller;
        const ColdStartReport r = runColdStartProbe(options, &cancel, {}, [&] {
            canceller = std::thread([&] {
                std::this_thread::sleep_for(300ms);
                cancel = true;
            });
        });
        canceller.join();
        // A third of the 60 s idle wait: an ignored cancel would sit it out.
        QVERIFY2(timer.elapsed() < 20000, qPrintable(QString::number(timer.elapsed())));
        QVERIFY(r.cancelled);
        QVERIFY(!r.poolCheckoutAfterIdleMs && !r.poolAfterIdleError);
        QVERIFY(!r.afterIdleMs);
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
        // The listener never answers: without the deadline the probe would wait for good. The
        // upper bound leaves a loaded machine 1.3 s past the deadline.
        QVERIFY2(elapsed >= 650 && elapsed < 2000, qPrintable(QString::number(elapsed)));
        QCOMPARE(r.trials.size(), 1);
        const ColdStartTrial &t = r.trials.constFirst();
        QVERIFY(!t.ok());
        QCOMPARE(t.error->kind, ErrorKind::ConnectionTimeout);
        QCOMPARE(t.failedPhase, phase);
        verifyPhasesWithin(t, double(elapsed) + 1);
        // The phase it was stuck in holds the deadline's time (700 ms less DNS and TCP, which
        // take a moment on loopback): the time went to the phase that failed.
        const double stuck = phase == QLatin1String("tls") ? t.tlsMs : t.authMs;
        QVERIFY2(stuck >= 600, qPrintable(text));
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
        const double wallMs = msSince(timer);
        QVERIFY2(timer.elapsed() < 1000, qPrintable(QString::number(timer.elapsed())));
        QCOMPARE(r.trials.size(), 1);
        QCOMPARE(r.trials.constFirst().error->kind, ErrorKind::ConnectionRefused);
        QCOMPARE(r.trials.constFirst().failedPhase, QStringLiteral("tcp"));
        verifyPhasesWithin(r.trials.constFirst(), wallMs);
        QCOMPARE(r.verdict, QStringLiteral("fail"));
    }

    void commandPrintsTheJsonKeys()
    {
        QElapsedTimer timer;
        timer.start();
        const ProcessRun run = runPoolscope(
            { QStringLiteral("coldstart"), m_sandbox.pooledUri(), QStringLiteral("--trials"),
              QStringLiteral("3"), QStringLiteral("--warm-queries"), QStringLiteral("2"),
              QStringLiteral("--idle-before"), QStringLiteral("0.2"), QStringLiteral("--json") });
        const double wallMs = msSince(timer);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject o = QJsonDocument::fromJson(run.out).object();
        QVERIFY2(!o.isEmpty(), run.out.constData());
        const QJsonArray trials = o.value(QStringLiteral("trials")).toArray();
        QCOMPARE(trials.size(), 3);
        // The trials ran one after another inside the process the test timed: their totals
        // (and the 200 ms idle wait) fit in its run time.
        double totals = 200;
        for (const QJsonValue &v : trials) {
            const QJsonObject t = v.toObject();
            for (const char *key : { "dns_ms", "tcp_ms", "tls_ms", "auth_ms", "first_query_ms" }) {
                QVERIFY2(t.value(QLatin1String(key)).isDouble(), key);
                QVERIFY2(t.value(QLatin1String(key)).toDouble() >= 0, key);
            }
            QVERIFY(t.value(QStringLiteral("total_ms")).toDouble() > 0);
            totals += t.value(QStringLiteral("total_ms")).toDouble();
        }
        QVERIFY2(totals <= wallMs, qPrintable(QStringLiteral("%1 > %2").arg(totals).arg(wallMs)));
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
        const QJsonObject pool = o.value(QStringLiteral("pool_after_idle")).toObject();
        QCOMPARE(pool.value(QStringLiteral("idle_s")).toDouble(), 0.2);
        QVERIFY(pool.value(QStringLiteral("checkout_ms")).toDouble() > 0);
        QVERIFY(pool.value(QStringLiteral("query_ms")).toDouble() > 0);
        QCOMPARE(pool.value(QStringLiteral("reconnected")), QJsonValue(false));
        QVERIFY(pool.value(QStringLiteral("error")).isNull());
        QVERIFY(!o.contains(QStringLiteral("compare")));
        QCOMPARE(o.value(QStringLiteral("verdict")).toString(), QStringLiteral("pass"));
    }

    void commandComparesDirectAndPooled()
    {
        const int bouncerPort = m_sandbox.endpoints().bouncerPort;
        const ProcessRun run = runPoolscope(
            { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--compare"),
              m_sandbox.pooledUri(), QStringLiteral("--trials"), QStringLiteral("2"),
              QStringLiteral("--warm-queries"), QStringLiteral("1"), QStringLiteral("--cold-wait"),
              QStringLiteral("0.3"), QStringLiteral("--json") });
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject o = QJsonDocument::fromJson(run.out).object();
        QVERIFY2(!o.isEmpty(), run.out.constData());
        QCOMPARE(o.value(QStringLiteral("cold_wait_s")).toDouble(), 0.3);
        QVERIFY(!o.contains(QStringLiteral("pool_after_idle"))); // no --idle-before
        const QJsonObject second = o.value(QStringLiteral("compare")).toObject();
        for (const QJsonObject &endpoint : { o, second }) {
            QCOMPARE(endpoint.value(QStringLiteral("trials")).toArray().size(), 2);
            QCOMPARE(endpoint.value(QStringLiteral("verdict")).toString(), QStringLiteral("pass"));
            QVERIFY(endpoint.value(QStringLiteral("summary"))
                        .toObject()
                        .value(QStringLiteral("p95_total_ms"))
                        .toDouble()
                    > 0);
            QCOMPARE(endpoint.value(QStringLiteral("warm_query_ms"))
                         .toObject()
                         .value(QStringLiteral("count"))
                         .toInt(),
                     2);
        }
        // The same keys for both endpoints, plus the target of the second.
        QStringList keys = second.keys();
        keys.removeOne(QStringLiteral("target"));
        QStringList topKeys = o.keys();
        topKeys.removeOne(QStringLiteral("compare"));
        topKeys.removeOne(QStringLiteral("cold_wait_s"));
        QCOMPARE(keys, topKeys);
        const QString target = second.value(QStringLiteral("target")).toString();
        QVERIFY2(target.contains(QString::number(bouncerPort)), qPrintable(target));

        // Text: the cold wait says what keeps an endpoint awake; both endpoints are reported.
        const ProcessRun text = runPoolscope(
            { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--compare"),
              m_sandbox.pooledUri(), QStringLiteral("--trials"), QStringLiteral("1"),
              QStringLiteral("--cold-wait"), QStringLiteral("0.1") });
        QVERIFY2(text.exitCode == 0, text.err.constData());
        const QString out = QString::fromUtf8(text.out);
        QVERIFY2(out.contains(QLatin1String("keeps a scale-to-zero compute awake")),
                 qPrintable(out));
        QCOMPARE(out.count(QLatin1String("verdict     PASS")), 2);
        QVERIFY2(out.contains(QString::number(bouncerPort)), qPrintable(out));
    }

    void compareToARemoteHostIsRefused()
    {
        // The second endpoint is checked before anything is sent to the first.
        const ProcessRun r = runPoolscope(
            { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--compare"),
              QStringLiteral("host=db.example.invalid dbname=app"), QStringLiteral("--json") });
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.out.isEmpty());
        QVERIFY(r.err.contains("--allow-remote"));
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
            { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--cold-wait"),
              QStringLiteral("-1") },
            { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--compare"),
              QStringLiteral("postgresql://a@127.0.0.1:x/app") },
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
        terminatePoolBackends();
        QProcess p;
        p.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                { QStringLiteral("coldstart"), m_sandbox.directUri(), QStringLiteral("--trials"),
                  QStringLiteral("2"), QStringLiteral("--idle-before"), QStringLiteral("60"),
                  QStringLiteral("--json") });
        QVERIFY(p.waitForStarted());
        // The trials are done and the idle wait has begun once the idle check's pool (opened
        // after the last trial, just before the wait) has its connection on the server.
        QTRY_VERIFY_WITH_TIMEOUT(querySingleValue(m_sandbox.adminUri(),
                                                  QStringLiteral("SELECT count(*) FROM "
                                                                 "pg_stat_activity WHERE "
                                                                 "application_name = "
                                                                 "'poolscope-coldstart-pool'"))
                                     == QStringLiteral("1"),
                                 20000);
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
