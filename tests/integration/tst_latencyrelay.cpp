// The latency relay: a sandbox with latencyMs > 0 delays every round trip
// through its URIs, the relay leaves no thread or socket behind, and the default sandbox has none.
#include "core/db/connection.h"
#include "core/db/conninfo.h"
#include "core/sandbox/latencyrelay.h"
#include "core/sandbox/sandbox.h"
#include "tests/support/sandboxfixture.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QMap>
#include <QProcess>
#include <QTest>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
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

// This process's open descriptors: number -> what /proc/self/fd links to ("socket:[inode]",
// "anon_inode:[eventfd]", a path). The directory stream's own descriptor is left out.
using Descriptors = QMap<int, QString>;

Descriptors openDescriptors()
{
    Descriptors result;
    DIR *directory = ::opendir("/proc/self/fd");
    if (!directory)
        return result;
    while (const dirent *entry = ::readdir(directory)) {
        bool numeric = false;
        const int fd = QByteArray(entry->d_name).toInt(&numeric);
        if (!numeric || fd == ::dirfd(directory))
            continue;
        char target[PATH_MAX] = {};
        const QByteArray path = "/proc/self/fd/" + QByteArray::number(fd);
        const ssize_t n = ::readlink(path.constData(), target, sizeof target - 1);
        if (n > 0)
            result.insert(fd, QString::fromLocal8Bit(target, n));
    }
    ::closedir(directory);
    return result;
}

QString describe(const Descriptors &descriptors)
{
    QStringList lines;
    for (const auto &[fd, target] : descriptors.asKeyValueRange())
        lines << QStringLiteral("%1 -> %2").arg(fd).arg(target);
    return QStringLiteral("new descriptors: ") + lines.join(QStringLiteral(", "));
}

QString socketTarget(qulonglong inode)
{
    return QStringLiteral("socket:[%1]").arg(inode);
}

// Threads of this process with the given name (/proc/self/task/*/comm).
int threadsNamed(const QString &name)
{
    int count = 0;
    const QStringList tasks =
        QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &task : tasks) {
        QFile comm(QStringLiteral("/proc/self/task/%1/comm").arg(task));
        if (comm.open(QIODevice::ReadOnly)
            && QString::fromLocal8Bit(comm.readAll().trimmed()) == name)
            ++count;
    }
    return count;
}

constexpr int kTcpListen = 0x0A;

struct TcpSocket
{
    int localPort = 0;
    int remotePort = 0;
    int state = 0;
    qulonglong inode = 0;
};

// IPv4 TCP sockets of the network namespace (/proc/net/tcp: "sl local rem st ... uid timeout
// inode ..."; addresses as hex IP:port).
QList<TcpSocket> tcpSockets()
{
    QList<TcpSocket> sockets;
    QFile file(QStringLiteral("/proc/net/tcp"));
    if (!file.open(QIODevice::ReadOnly))
        return sockets;
    file.readLine(); // header
    while (!file.atEnd()) {
        const QList<QByteArray> fields = file.readLine().simplified().split(' ');
        if (fields.size() < 10)
            continue;
        TcpSocket socket;
        socket.localPort = fields.at(1).split(':').value(1).toInt(nullptr, 16);
        socket.remotePort = fields.at(2).split(':').value(1).toInt(nullptr, 16);
        socket.state = fields.at(3).toInt(nullptr, 16);
        socket.inode = fields.at(9).toULongLong();
        sockets << socket;
    }
    return sockets;
}

int localPortOf(int fd)
{
    sockaddr_in address {};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return -1;
    return ntohs(address.sin_port);
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

    // Only what this relay owns is counted: its thread by name, and the descriptors that appeared
    // while it started and accepted. Counting every thread or descriptor of the process is not
    // evidence either way: the sandbox's own relays close the links of earlier tests meanwhile.
    void relayDestructorLeavesNoThreadOrSocket()
    {
        const Descriptors before = openDescriptors();

        auto relay = sandbox::LatencyRelay::start(
            QStringLiteral("127.0.0.1"), m_sandbox.endpoints().postgresPortBehindRelay, 10ms);
        QVERIFY2(relay.ok(), qPrintable(why(relay)));
        const int port = relay.value()->port();
        const int targetPort = relay.value()->targetPort();
        const QString threadName = QStringLiteral("relay:%1").arg(port);
        QCOMPARE(threadsNamed(threadName), 1);

        // A raw client (no password needed): SSLRequest, answered 'S' or 'N' through the relay.
        const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        QVERIFY(client >= 0);
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(std::uint16_t(port));
        QCOMPARE(::connect(client, reinterpret_cast<const sockaddr *>(&address), sizeof address),
                 0);
        const unsigned char sslRequest[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
        QCOMPARE(::send(client, sslRequest, sizeof sslRequest, MSG_NOSIGNAL),
                 ssize_t(sizeof sslRequest));
        const auto start = Clock::now();
        char answer = 0;
        QCOMPARE(::recv(client, &answer, 1, 0), ssize_t(1));
        QVERIFY(answer == 'S' || answer == 'N');
        QVERIFY(msSince(start) >= 20);
        QTRY_COMPARE(relay.value()->activeConnections(), 1);

        // The relay's descriptors: new since it started, the test's client excepted. They must
        // include the listening socket, the accepted one, the one to the target and the wake
        // eventfd - otherwise the check below would prove nothing.
        const Descriptors during = openDescriptors();
        Descriptors owned;
        for (const auto &[fd, target] : during.asKeyValueRange()) {
            if (fd != client && before.value(fd) != target)
                owned.insert(fd, target);
        }
        const QList<TcpSocket> sockets = tcpSockets();
        const auto socketOf = [&](auto predicate) {
            for (const TcpSocket &socket : sockets) {
                if (predicate(socket))
                    return socketTarget(socket.inode);
            }
            return QString();
        };
        const QString listening = socketOf(
            [&](const TcpSocket &s) { return s.localPort == port && s.state == kTcpListen; });
        const QString accepted = socketOf([&](const TcpSocket &s) {
            return s.localPort == port && s.remotePort == localPortOf(client);
        });
        const QString toTarget = socketOf([&](const TcpSocket &s) {
            return s.remotePort == targetPort && owned.values().contains(socketTarget(s.inode));
        });
        const QString description = describe(owned);
        QVERIFY2(!listening.isEmpty() && owned.values().contains(listening),
                 qPrintable(description));
        QVERIFY2(!accepted.isEmpty() && owned.values().contains(accepted), qPrintable(description));
        QVERIFY2(!toTarget.isEmpty(), qPrintable(description));
        QVERIFY2(owned.values().contains(QStringLiteral("anon_inode:[eventfd]")),
                 qPrintable(description));

        relay.value().reset(); // with a relayed connection open
        QCOMPARE(threadsNamed(threadName), 0);
        QCOMPARE(connectErrno(port), ECONNREFUSED);
        QVERIFY(::recv(client, &answer, 1, 0) <= 0); // closed by the relay
        ::close(client);
        const Descriptors after = openDescriptors();
        QStringList left;
        for (const auto &[fd, target] : owned.asKeyValueRange()) {
            if (after.value(fd) == target)
                left << QStringLiteral("%1 -> %2").arg(fd).arg(target);
        }
        QVERIFY2(left.isEmpty(), qPrintable(left.join(QStringLiteral(", "))));
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
