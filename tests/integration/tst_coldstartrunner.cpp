// ColdStartRunner against the sandbox: direct and pooled side by side, every signal on the
// runner's thread, start() never blocking (a cold wait is running while it has long returned),
// cancel mid-run keeping what was measured, the destructor joining a running worker; and the
// real-cold pause of MonitorSession (sampler asleep, demo workload silent, then both back).
#include "core/coldstart/coldstartrunner.h"
#include "core/monitor/monitorsession.h"
#include "tests/support/sandboxfixture.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QThread>
#include <QtTest>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

class TestColdStartRunner : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;

    ColdStartRequest request(int trials, int warmQueries) const
    {
        ColdStartRequest r;
        r.targets = { { QStringLiteral("direct"), m_sandbox.directUri() },
                      { QStringLiteral("pooled"), m_sandbox.pooledUri() } };
        r.options.trials = trials;
        r.options.warmQueries = warmQueries;
        r.options.timeout = 10s;
        return r;
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString())); }

    void directAndPooledSideBySide()
    {
        ColdStartRunner runner;
        QSignalSpy finished(&runner, &ColdStartRunner::finished);
        QSignalSpy targets(&runner, &ColdStartRunner::targetFinished);
        QSignalSpy progress(&runner, &ColdStartRunner::progress);
        QStringList trialLabels;
        bool offThread = false;
        connect(&runner, &ColdStartRunner::trialFinished, this,
                [&](const QString &label, int index, const ColdStartTrial &trial) {
                    offThread = offThread || QThread::currentThread() != runner.thread();
                    QVERIFY(trial.ok());
                    trialLabels << QStringLiteral("%1 %2").arg(label).arg(index);
                });
        QVERIFY(runner.start(request(3, 2)));
        QVERIFY(runner.isRunning());
        QVERIFY(!runner.start(request(1, 0))); // one run at a time
        QVERIFY(finished.wait(30000));
        QVERIFY(!runner.isRunning());
        QVERIFY(!offThread);
        QCOMPARE(trialLabels,
                 QStringList({ QStringLiteral("direct 0"), QStringLiteral("direct 1"),
                               QStringLiteral("direct 2"), QStringLiteral("pooled 0"),
                               QStringLiteral("pooled 1"), QStringLiteral("pooled 2") }));
        QCOMPARE(targets.size(), 2);
        QCOMPARE(progress.constLast().at(0).toInt(), 6);
        QCOMPARE(progress.constLast().at(1).toInt(), 6);

        const auto run = finished.first().at(0).value<ColdStartRun>();
        QCOMPARE(run.id, 1);
        QVERIFY(!run.cancelled);
        QVERIFY(run.options.conninfo.isEmpty()); // no secrets kept
        QCOMPARE(run.options.trials, 3);
        QVERIFY(run.startedAt.isValid() && run.startedAt <= run.finishedAt);
        QCOMPARE(run.results.size(), 2);
        const int ports[] = { m_sandbox.endpoints().postgresPort,
                              m_sandbox.endpoints().bouncerPort };
        for (int i = 0; i < 2; ++i) {
            const ColdStartTargetResult &result = run.results.at(i);
            QCOMPARE(result.label, i == 0 ? QStringLiteral("direct") : QStringLiteral("pooled"));
            QCOMPARE(result.displayName, QStringLiteral("127.0.0.1:%1/app").arg(ports[i]));
            QCOMPARE(result.report.trials.size(), 3);
            QCOMPARE(result.report.okTrials(), 3);
            QCOMPARE(result.report.warmQueryMs.size(), 6);
            QCOMPARE(result.report.verdict, QStringLiteral("pass"));
        }
        // Each endpoint's own server: PostgreSQL's backend pids differ from PgBouncer's keys.
        QVERIFY(run.results.at(0).report.trials.at(0).backendPid
                != run.results.at(1).report.trials.at(0).backendPid);

        // A second run on the same runner.
        ColdStartRequest single = request(1, 0);
        single.targets.removeLast();
        QVERIFY(runner.start(single));
        QVERIFY(finished.wait(30000));
        const auto second = finished.at(1).at(0).value<ColdStartRun>();
        QCOMPARE(second.id, 2);
        QCOMPARE(second.results.size(), 1);
    }

    void startReturnsWhileTheColdWaitRuns()
    {
        // A start() that did the work itself would return only after the 2 s cold wait.
        ColdStartRunner runner;
        QSignalSpy coldWait(&runner, &ColdStartRunner::coldWaitStarted);
        QSignalSpy trials(&runner, &ColdStartRunner::trialFinished);
        QSignalSpy finished(&runner, &ColdStartRunner::finished);
        ColdStartRequest r = request(1, 0);
        r.coldWait = 2s;
        QElapsedTimer timer;
        timer.start();
        QVERIFY(runner.start(r));
        const qint64 startCall = timer.elapsed();
        QVERIFY2(startCall < 1000, qPrintable(QString::number(startCall)));
        QCOMPARE(trials.size(), 0);
        QVERIFY(coldWait.wait(5000));
        QCOMPARE(coldWait.first().at(0).toLongLong(), 2000);
        QVERIFY(finished.wait(30000));
        QVERIFY(timer.elapsed() >= 2000);
        const auto run = finished.first().at(0).value<ColdStartRun>();
        QCOMPARE(run.coldWait, 2000ms);
        QCOMPARE(run.results.size(), 2);
        QCOMPARE(trials.size(), 2);
    }

    void cancelDuringTheColdWait()
    {
        ColdStartRunner runner;
        QSignalSpy finished(&runner, &ColdStartRunner::finished);
        QSignalSpy trials(&runner, &ColdStartRunner::trialFinished);
        QSignalSpy coldWait(&runner, &ColdStartRunner::coldWaitStarted);
        ColdStartRequest r = request(3, 0);
        r.coldWait = 60s;
        QVERIFY(runner.start(r));
        QVERIFY(coldWait.wait(5000));
        QElapsedTimer timer;
        timer.start();
        runner.cancel();
        QVERIFY(finished.wait(5000));
        QVERIFY2(timer.elapsed() < 1000, qPrintable(QString::number(timer.elapsed())));
        const auto run = finished.first().at(0).value<ColdStartRun>();
        QVERIFY(run.cancelled);
        QVERIFY(run.results.isEmpty());
        QCOMPARE(trials.size(), 0);
    }

    void cancelMidRunKeepsWhatWasMeasured()
    {
        ColdStartRunner runner;
        QSignalSpy finished(&runner, &ColdStartRunner::finished);
        QSignalSpy targets(&runner, &ColdStartRunner::targetFinished);
        int seen = 0;
        QElapsedTimer sinceCancel;
        connect(&runner, &ColdStartRunner::trialFinished, this, [&] {
            if (++seen == 3) {
                sinceCancel.start();
                runner.cancel();
            }
        });
        QVERIFY(runner.start(request(200, 1)));
        QVERIFY(finished.wait(30000));
        QVERIFY2(sinceCancel.elapsed() < 2000, qPrintable(QString::number(sinceCancel.elapsed())));
        const auto run = finished.first().at(0).value<ColdStartRun>();
        QVERIFY(run.cancelled);
        QCOMPARE(run.results.size(), 1); // the pooled endpoint never started
        const ColdStartReport &report = run.results.constFirst().report;
        QVERIFY(report.cancelled);
        QVERIFY2(report.trials.size() >= 3 && report.trials.size() < 200,
                 qPrintable(QString::number(report.trials.size())));
        QCOMPARE(report.okTrials(), report.trials.size());
        QCOMPARE(seen, report.trials.size()); // every measured trial was reported
        QCOMPARE(targets.size(), 1);
    }

    void destructorDuringARunJoins()
    {
        // An application_name of this test's own (the probe keeps one given in the conninfo):
        // backends of the earlier tests (PgBouncer's server connections, a cancelled probe's
        // connection still exiting) cannot move the count. Only the direct endpoint.
        const QString name = QStringLiteral("tst-coldstartrunner-destructor");
        const QString probeConnections =
            QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE application_name = '%1'")
                .arg(name);
        QCOMPARE(querySingleValue(m_sandbox.adminUri(), probeConnections), QStringLiteral("0"));
        auto runner = std::make_unique<ColdStartRunner>();
        QSignalSpy trials(runner.get(), &ColdStartRunner::trialFinished);
        ColdStartRequest r = request(1000, 5);
        r.targets.removeLast();
        r.targets.first().conninfo =
            withUriParameter(m_sandbox.directUri(), QStringLiteral("application_name"), name);
        QVERIFY(runner->start(r));
        QVERIFY(trials.wait(10000));
        // The probe's connection is there while it runs: the query below can see it.
        QTRY_VERIFY_WITH_TIMEOUT(
            querySingleValue(m_sandbox.adminUri(), probeConnections) != QStringLiteral("0"), 5000);
        QElapsedTimer timer;
        timer.start();
        runner.reset();
        QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
        // Signals the dead runner had posted are dropped, not delivered (to a freed object).
        QCoreApplication::sendPostedEvents();
        // The probe's connections are closed: none is left behind.
        QTRY_COMPARE_WITH_TIMEOUT(querySingleValue(m_sandbox.adminUri(), probeConnections),
                                  QStringLiteral("0"), 5000);
    }

    // Last: the session's own sandbox changes PGPASSFILE for this process (restored at the end).
    void backgroundPauseSilencesSamplerAndWorkload()
    {
        const QByteArray passFile = qgetenv("PGPASSFILE");
        {
            MonitorSession session;
            QSignalSpy sampled(&session, &MonitorSession::sampled);
            MonitorSession::Options options;
            options.startSandbox = true;
            options.demoWorkload = true;
            options.interval = 250ms;
            session.start(options);
            QVERIFY(sampled.wait(60000));
            QVERIFY(session.sandboxEndpoints());
            const QString admin = session.sandboxEndpoints()->adminUri;
            const QString samplerCount =
                QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                               "'poolscope-sampler'");
            // The newest query of the demo workload (direct pool and through PgBouncer, which
            // passes the client's application_name on to its server connections).
            const QString demoLast = QStringLiteral(
                "SELECT max(query_start) FROM pg_stat_activity WHERE application_name IN "
                "('demo-api', 'demo-functions')");
            const QString demoConnections =
                QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE application_name IN "
                               "('demo-api', 'demo-functions')");
            QCOMPARE(querySingleValue(admin, samplerCount), QStringLiteral("1"));
            QTRY_VERIFY_WITH_TIMEOUT(!querySingleValue(admin, demoLast).isEmpty(), 10000);

            const quint64 before = session.events().lastSequence();
            session.setBackgroundPaused(true);
            QVERIFY(session.backgroundPaused());
            // Log lines of every subsystem land in the same log: only the actions count here.
            auto actions = [&] {
                QList<Event> result;
                for (const Event &e : session.events().eventsSince(before))
                    if (e.category == Event::Category::Action)
                        result << e;
                return result;
            };
            const QList<Event> events = actions();
            QCOMPARE(events.size(), 1);
            QVERIFY(events.first().message.contains(QLatin1String("real-cold test")));
            QVERIFY(events.first().message.contains(QLatin1String("keep a scale-to-zero")));

            // Asleep closes the sampler's connection; the workers finish what they had in
            // flight (an idle-in-transaction one holds for up to 3 s), then nothing.
            QTRY_COMPARE_WITH_TIMEOUT(querySingleValue(admin, samplerCount), QStringLiteral("0"),
                                      5000);
            QTRY_COMPARE_WITH_TIMEOUT(
                querySingleValue(admin, demoConnections + QStringLiteral(" AND state <> 'idle'")),
                QStringLiteral("0"), 10000);
            QCoreApplication::processEvents(); // a sample that landed before is not counted
            sampled.clear();
            const QString lastQuery = querySingleValue(admin, demoLast);
            const int connections = querySingleValue(admin, demoConnections).toInt();
            session.setSamplerPace(SamplerPace::Live); // the pause wins over the wanted pace
            // Proving that nothing happens takes time: eight sampling intervals.
            QTest::qWait(int(8 * options.interval.count()));
            QCOMPARE(sampled.size(), 0);
            QCOMPARE(querySingleValue(admin, demoLast), lastQuery);
            QVERIFY(querySingleValue(admin, demoConnections).toInt() <= connections);
            QCOMPARE(querySingleValue(admin, samplerCount), QStringLiteral("0"));

            session.setBackgroundPaused(false);
            QVERIFY(!session.backgroundPaused());
            QCOMPARE(session.samplerPace(), SamplerPace::Live);
            QVERIFY(sampled.wait(5000));
            QCOMPARE(querySingleValue(admin, samplerCount), QStringLiteral("1"));
            QTRY_VERIFY_WITH_TIMEOUT(querySingleValue(admin, demoLast) != lastQuery, 10000);
            QCOMPARE(actions().size(), 2);
            QVERIFY(actions().constLast().message.contains(QLatin1String("resumed")));
        }
        qputenv("PGPASSFILE", passFile);
    }
};

QTEST_GUILESS_MAIN(TestColdStartRunner)
#include "tst_coldstartrunner.moc"
