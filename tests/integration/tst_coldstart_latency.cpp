// The cold-start probe through the sandbox's latency relay (25 ms each way): each phase takes at
// least the round trips its protocol needs (the relay's known delay), and the trial fits in the
// test's own clock around it. The TCP phase is not delayed: the kernel completes the handshake
// before the relay sees the connection.
#include "core/coldstart/coldstartprobe.h"
#include "tests/support/sandboxfixture.h"

#include <QElapsedTimer>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

namespace {

double msSince(const QElapsedTimer &timer)
{
    return double(timer.nsecsElapsed()) / 1e6;
}

// The slowest of a few plain TCP connects to 127.0.0.1:port, in ms: what a handshake costs on
// this machine right now, to compare the probe's (undelayed) TCP phase with.
double slowestConnectMs(int port)
{
    double slowest = 0;
    for (int i = 0; i < 5; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(std::uint16_t(port));
        QElapsedTimer timer;
        timer.start();
        const int rc = ::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address);
        slowest = std::max(slowest, msSince(timer));
        ::close(fd);
        if (rc != 0)
            return -1;
    }
    return slowest;
}

} // namespace

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
        const QUrl url(options.conninfo);
        const double connectMs = slowestConnectMs(url.port());
        QVERIFY2(connectMs >= 0, "cannot connect to the relay");
        // Each trial (with its warm queries) runs between the previous trial's callback (or the
        // start) and its own.
        QList<double> trialWallMs;
        QElapsedTimer sinceLast;
        sinceLast.start();
        const ColdStartReport report =
            runColdStartProbe(options, nullptr, [&](int, const ColdStartTrial &) {
                trialWallMs << msSince(sinceLast);
                sinceLast.restart();
            });
        QVERIFY2(!report.error, qPrintable(report.error ? report.error->summary() : QString()));
        QCOMPARE(report.okTrials(), 3);
        QCOMPARE(trialWallMs.size(), 3);
        QCOMPARE(report.warmQueryMs.size(), 9);
        for (qsizetype i = 0; i < report.trials.size(); ++i) {
            const ColdStartTrial &t = report.trials.at(i);
            const QString text = QStringLiteral("dns %1 tcp %2 tls %3 auth %4 query %5 total %6; "
                                                "trial %7 ms by the test's clock")
                                     .arg(t.dnsMs)
                                     .arg(t.tcpMs)
                                     .arg(t.tlsMs)
                                     .arg(t.authMs)
                                     .arg(t.firstQueryMs)
                                     .arg(t.totalMs)
                                     .arg(trialWallMs.at(i));
            // The sandbox speaks TLS: the SSLRequest and the TLS 1.3 handshake are a round trip
            // each. SCRAM needs the startup packet plus two exchanges: >= 3 round trips.
            QVERIFY2(t.tls.startsWith(QLatin1String("TLSv1.3")), qPrintable(t.tls));
            QVERIFY2(t.tlsMs >= 2 * kRoundTripMs - 1, qPrintable(text));
            QVERIFY2(t.authMs >= 3 * kRoundTripMs - 1, qPrintable(text));
            QVERIFY2(t.firstQueryMs >= kRoundTripMs - 1, qPrintable(text));
            // Not delayed: within a round trip of what a plain connect costs here right now.
            QVERIFY2(t.tcpMs < kRoundTripMs + 2 * connectMs, qPrintable(text));
            // The phases (the total is their sum) and the warm queries, each at least one round
            // trip, fit in the test's own clock around the trial.
            double warmMs = 0;
            for (qsizetype q = 3 * i; q < 3 * i + 3; ++q) {
                QVERIFY2(report.warmQueryMs.at(q) >= kRoundTripMs - 1, qPrintable(text));
                warmMs += report.warmQueryMs.at(q);
            }
            QVERIFY2(t.totalMs >= 6 * kRoundTripMs - 1, qPrintable(text));
            QVERIFY2(t.totalMs + warmMs <= trialWallMs.at(i), qPrintable(text));
        }
        QVERIFY2(report.warmP50Ms >= kRoundTripMs - 1,
                 qPrintable(QString::number(report.warmP50Ms)));
    }
};

QTEST_GUILESS_MAIN(TestColdStartLatency)
#include "tst_coldstart_latency.moc"
