// The latency relay (issue 6, section 2): a sandbox with latencyMs > 0 delays every round trip
// through its URIs, the relay leaves no thread or socket behind, and the default sandbox has none.
#include "core/db/connection.h"
#include "core/db/conninfo.h"
#include "core/sandbox/latencyrelay.h"
#include "core/sandbox/sandbox.h"
#include "tests/support/sandboxfixture.h"

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <type_traits>

namespace {

// The TLS parameters every sandbox URI carries (checked in tst_sandboxtls).
QString sslParameters(const poolscope::sandbox::SandboxEndpoints &e)
{
    return QStringLiteral("?sslmode=verify-full&sslrootcert=") + e.caCertificate;
}

} // namespace

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kLatencyMs = 25;

int entries(const QString &directory)
{
    return int(
        QDir(directory).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System).size());
}

// errno of a blocking connect() to 127.0.0.1:port (0 when it connected).
int connectErrno(int port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(std::uint16_t(port));
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address);
    const int error = rc == 0 ? 0 : errno;
    ::close(fd);
    return error;
}

// QVERIFY2 evaluates its message even when the check passes.
template<typename R>
QString why(const R &result)
{
    if (result.ok())
        return QString();
    if constexpr (std::is_same_v<std::decay_t<decltype(result.error())>, QString>)
        return result.error();
    else
        return result.error().message;
}

qint64 msSince(Clock::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

} // namespace

class TestLatencyRelay : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        sandbox::SandboxOptions options;
        options.latencyMs = kLatencyMs;
        QVERIFY2(m_sandbox.start(options), qPrintable(m_sandbox.errorString()));
    }

    void endpointsPointAtTheRelays()
    {
        const sandbox::SandboxEndpoints &e = m_sandbox.endpoints();
        QCOMPARE(e.latencyMs, kLatencyMs);
        QVERIFY(e.postgresPortBehindRelay > 0 && e.bouncerPortBehindRelay > 0);
        QVERIFY(e.postgresPort != e.postgresPortBehindRelay);
        QVERIFY(e.bouncerPort != e.bouncerPortBehindRelay);
        QCOMPARE(e.directUri,
                 QStringLiteral("postgresql://app@127.0.0.1:%1/app").arg(e.postgresPort)
                     + sslParameters(e));
        QCOMPARE(e.pooledUri,
                 QStringLiteral("postgresql://app@127.0.0.1:%1/app").arg(e.bouncerPort)
                     + sslParameters(e));
        QVERIFY(e.adminUri.contains(QStringLiteral(":%1/").arg(e.postgresPort)));
        QVERIFY(e.poolerConsoleUri.contains(QStringLiteral(":%1/").arg(e.bouncerPort)));
    }

    void directPooledAdminAndConsoleWork()
    {
        for (const QString &uri : { m_sandbox.directUri(), m_sandbox.pooledUri() }) {
            QString error;
            QCOMPARE(querySingleValue(uri, QStringLiteral("SELECT current_user"), &error),
                     QStringLiteral("app"));
            QVERIFY2(error.isEmpty(), qPrintable(error));
        }
        QString error;
        QCOMPARE(querySingleValue(m_sandbox.adminUri(), QStringLiteral("SELECT 40 + 2"), &error),
                 QStringLiteral("42"));
        QVERIFY2(connectionError(m_sandbox.consoleUri()).isEmpty(),
                 qPrintable(connectionError(m_sandbox.consoleUri())));
    }

    void queryRoundTripTakesTwoDelays_data()
    {
        QTest::addColumn<bool>("pooled");
        QTest::newRow("direct") << false;
        QTest::newRow("pooled") << true;
    }

    void queryRoundTripTakesTwoDelays()
    {
        QFETCH(bool, pooled);
        const auto info =
            ConnInfo::parse(pooled ? m_sandbox.pooledUri() : m_sandbox.directUri()).value();

        // The first connect needs several round trips: startup -> SASL, SASL initial ->
        // continue, SASL final -> ready (3 with scram-sha-256, so >= 150 ms; check >= 100 ms).
        const auto connectStart = Clock::now();
        auto connection = Connection::open(info, 10s);
        const qint64 connectMs = msSince(connectStart);
        QVERIFY2(connection.ok(), qPrintable(why(connection)));
        QVERIFY2(connectMs >= 4 * kLatencyMs, qPrintable(QString::number(connectMs)));

        for (int i = 0; i < 5; ++i) {
            const auto start = Clock::now();
            const auto result = connection->exec(QStringLiteral("SELECT 1"), 10s);
            const qint64 elapsedMs = msSince(start);
            QVERIFY2(result.ok(), qPrintable(why(result)));
            QCOMPARE(result.value().value(0, 0), QStringLiteral("1"));
            QVERIFY2(elapsedMs >= 2 * kLatencyMs, qPrintable(QString::number(elapsedMs)));
            QVERIFY2(elapsedMs < 2 * kLatencyMs + 1000, qPrintable(QString::number(elapsedMs)));
        }
    }

    // Many links at once, and a result larger than the 1 MiB read bound (back-pressure path).
    void concurrentConnectionsAndLargeResults()
    {
        const auto info = ConnInfo::parse(m_sandbox.directUri()).value();
        std::vector<Connection> connections;
        for (int i = 0; i < 12; ++i) {
            auto connection = Connection::open(info, 10s);
            QVERIFY2(connection.ok(), qPrintable(why(connection)));
            connections.push_back(std::move(connection).value());
        }
        const auto start = Clock::now();
        for (Connection &connection : connections) {
            const auto result =
                connection.exec(QStringLiteral("SELECT length(repeat('x', 3000000))"), 10s);
            QVERIFY2(result.ok(), qPrintable(why(result)));
            QCOMPARE(result.value().value(0, 0), QStringLiteral("3000000"));
        }
        const auto big =
            connections.front().exec(QStringLiteral("SELECT repeat('x', 3000000)"), 30s);
        QVERIFY2(big.ok(), qPrintable(why(big)));
        QCOMPARE(big.value().value(0, 0).size(), 3000000);
        QVERIFY(msSince(start) >= 13 * 2 * kLatencyMs);
    }

    void relayDestructorLeavesNoThreadOrSocket()
    {
        const QString tasks = QStringLiteral("/proc/self/task");
        const QString fds = QStringLiteral("/proc/self/fd");
        const int threadsBefore = entries(tasks);
        const int fdsBefore = entries(fds);

        auto relay = sandbox::LatencyRelay::start(
            QStringLiteral("127.0.0.1"), m_sandbox.endpoints().postgresPortBehindRelay, 10ms);
        QVERIFY2(relay.ok(), qPrintable(why(relay)));
        const int port = relay.value()->port();
        QCOMPARE(entries(tasks), threadsBefore + 1);
        {
            // A raw client (no password needed): SSLRequest, answered 'S' or 'N' through the relay.
            const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            QVERIFY(client >= 0);
            sockaddr_in address {};
            address.sin_family = AF_INET;
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            address.sin_port = htons(std::uint16_t(port));
            QCOMPARE(
                ::connect(client, reinterpret_cast<const sockaddr *>(&address), sizeof address), 0);
            const unsigned char sslRequest[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
            QCOMPARE(::send(client, sslRequest, sizeof sslRequest, MSG_NOSIGNAL),
                     ssize_t(sizeof sslRequest));
            const auto start = Clock::now();
            char answer = 0;
            QCOMPARE(::recv(client, &answer, 1, 0), ssize_t(1));
            QVERIFY(answer == 'S' || answer == 'N');
            QVERIFY(msSince(start) >= 20);
            QTRY_COMPARE(relay.value()->activeConnections(), 1);

            relay.value().reset(); // with a relayed connection open
            QCOMPARE(entries(tasks), threadsBefore);
            QCOMPARE(connectErrno(port), ECONNREFUSED);
            QVERIFY(::recv(client, &answer, 1, 0) <= 0); // closed by the relay
            ::close(client);
        }
        QCOMPARE(entries(fds), fdsBefore);
    }

    void targetMustBeLoopback()
    {
        QVERIFY(!sandbox::LatencyRelay::start(QStringLiteral("10.1.2.3"), 5432, 10ms).ok());
        QVERIFY(!sandbox::LatencyRelay::start(QStringLiteral("localhost"), 5432, 10ms).ok());
        QVERIFY(!sandbox::LatencyRelay::start(QStringLiteral("127.0.0.1"), 0, 10ms).ok());
        QVERIFY(!sandbox::LatencyRelay::start(QStringLiteral("127.0.0.1"), 5432, -1ms).ok());
    }

    void commandRejectsBadLatency_data()
    {
        QTest::addColumn<QString>("value");
        QTest::newRow("too large") << QStringLiteral("1001");
        QTest::newRow("negative") << QStringLiteral("-1");
        QTest::newRow("not a number") << QStringLiteral("fast");
    }

    void commandRejectsBadLatency()
    {
        QFETCH(QString, value);
        QProcess process;
        process.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                      { QStringLiteral("sandbox"), QStringLiteral("--latency-ms"), value });
        QVERIFY(process.waitForFinished(30000));
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(process.exitCode(), 2);
        QVERIFY(process.readAllStandardError().contains("latency-ms"));
    }

    // Last: it replaces PGPASSFILE with the default sandbox's.
    void defaultSandboxHasNoRelay()
    {
        m_sandbox.stop();
        SandboxFixture plain;
        QVERIFY2(plain.start(), qPrintable(plain.errorString()));
        const sandbox::SandboxEndpoints &e = plain.endpoints();
        QCOMPARE(e.latencyMs, 0);
        QCOMPARE(e.postgresPort, e.postgresPortBehindRelay);
        QCOMPARE(e.bouncerPort, e.bouncerPortBehindRelay);
        QCOMPARE(e.directUri,
                 QStringLiteral("postgresql://app@127.0.0.1:%1/app").arg(e.postgresPort)
                     + sslParameters(e));
        QCOMPARE(e.pooledUri,
                 QStringLiteral("postgresql://app@127.0.0.1:%1/app").arg(e.bouncerPort)
                     + sslParameters(e));
        QCOMPARE(querySingleValue(e.directUri, QStringLiteral("SELECT 1")), QStringLiteral("1"));
    }

private:
    SandboxFixture m_sandbox;
};

QTEST_GUILESS_MAIN(TestLatencyRelay)
#include "tst_latencyrelay.moc"
