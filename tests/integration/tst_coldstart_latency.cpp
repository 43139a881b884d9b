// The cold-start probe through the sandbox's latency relay (25 ms each way): each phase takes at
// least the round trips its protocol needs, and the phases still add up to the total. The TCP
// phase is not delayed: the kernel completes the handshake before the relay sees the connection.
#include "core/coldstart/coldstartprobe.h"
#include "tests/support/sandboxfixture.h"

#include <QtTest>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

class TestColdStartLatency : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;
    static constexpr double kOneWayMs = 25;
    static constexpr double kRoundTripMs = 2 * kOneWayMs;

private Q_SLOTS:
    void initTestCase()
    {
        sandbox::SandboxOptions options;
        options.latencyMs = int(kOneWayMs);
        QVERIFY2(m_sandbox.start(options), qPrintable(m_sandbox.errorString()));
    }

    void phasesTakeTheirRoundTrips_data()
    {
        QTest::addColumn<bool>("pooled");
        QTest::newRow("direct") << false;
        QTest::newRow("through PgBouncer") << true;
    }

    void phasesTakeTheirRoundTrips()
    {
        QFETCH(bool, pooled);
        ColdStartOptions options;
        options.conninfo = pooled ? m_sandbox.pooledUri() : m_sandbox.directUri();
        options.trials = 3;
        options.warmQueries = 3;
        options.timeout = 10s;
        const ColdStartReport report = runColdStartProbe(options);
        QVERIFY2(!report.error, qPrintable(report.error ? report.error->summary() : QString()));
        QCOMPARE(report.okTrials(), 3);
        for (const ColdStartTrial &t : report.trials) {
            // The sandbox speaks TLS: the SSLRequest and the TLS 1.3 handshake are a round trip
            // each. SCRAM needs the startup packet plus two exchanges: >= 3 round trips.
            QVERIFY2(t.tls.startsWith(QLatin1String("TLSv1.3")), qPrintable(t.tls));
            QVERIFY2(t.tlsMs >= 2 * kRoundTripMs - 1, qPrintable(QString::number(t.tlsMs)));
            QVERIFY2(t.authMs >= 3 * kRoundTripMs - 1, qPrintable(QString::number(t.authMs)));
            QVERIFY2(t.firstQueryMs >= kRoundTripMs - 1,
                     qPrintable(QString::number(t.firstQueryMs)));
            QVERIFY2(t.tcpMs < kRoundTripMs, qPrintable(QString::number(t.tcpMs))); // not delayed
            const double sum = t.dnsMs + t.tcpMs + t.tlsMs + t.authMs + t.firstQueryMs;
            QVERIFY2(std::abs(sum - t.totalMs) <= 1.0,
                     qPrintable(QStringLiteral("%1 vs %2").arg(sum).arg(t.totalMs)));
        }
        QVERIFY2(report.warmP50Ms >= kRoundTripMs - 1,
                 qPrintable(QString::number(report.warmP50Ms)));
    }
};

QTEST_GUILESS_MAIN(TestColdStartLatency)
#include "tst_coldstart_latency.moc"
