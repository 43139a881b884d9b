// `poolscope exporter` against the sandbox, checked the way it will be used: scraped over HTTP,
// linted by promtool, and scraped by a real Prometheus (Debian's `prometheus` package).
#include "core/sandbox/freeport.h"
#include "tests/support/sandboxfixture.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QUrl>
#include <QtTest>

using namespace poolscope::testing;

namespace {

const QString kPromtool = QStringLiteral("/usr/bin/promtool");
const QString kPrometheus = QStringLiteral("/usr/bin/prometheus");

struct HttpResponse
{
    int status = 0; // 0: no (complete) response
    QByteArray headers;
    QByteArray body;
};

// One raw HTTP/1.1 exchange; the server closes the connection after each response.
HttpResponse httpRequest(quint16 port, const QByteArray &request, int timeoutMs = 10000)
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(timeoutMs))
        return {};
    socket.write(request);
    socket.waitForBytesWritten(timeoutMs);
    QByteArray data;
    QElapsedTimer timer;
    timer.start();
    while (socket.state() == QAbstractSocket::ConnectedState && !timer.hasExpired(timeoutMs)) {
        socket.waitForReadyRead(200);
        data += socket.readAll();
    }
    data += socket.readAll();
    HttpResponse r;
    const qsizetype headEnd = data.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return r;
    r.headers = data.left(headEnd);
    r.body = data.mid(headEnd + 4);
    const QList<QByteArray> statusLine = r.headers.left(r.headers.indexOf("\r\n")).split(' ');
    r.status = statusLine.size() >= 2 ? statusLine.at(1).toInt() : 0;
    return r;
}

HttpResponse httpGet(quint16 port, const QByteArray &target, const QByteArray &method = "GET")
{
    return httpRequest(
        port, method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

bool stopProcess(QProcess &p)
{
    if (p.state() == QProcess::NotRunning)
        return true;
    p.terminate();
    if (!p.waitForFinished(10000)) {
        p.kill();
        p.waitForFinished(5000);
        return false;
    }
    return true;
}

} // namespace

class TestExporter : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;
    QProcess m_exporter;
    quint16 m_port = 0;
    QProcess m_prometheus;
    QTemporaryDir m_prometheusDir;

    QByteArray metrics()
    {
        const HttpResponse r = httpGet(m_port, "/metrics");
        return r.status == 200 ? r.body : QByteArray();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFile::exists(kPromtool) && QFile::exists(kPrometheus),
                 "install Debian's prometheus package (packaging/deps.sh)");
        QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString()));

        m_exporter.setProcessChannelMode(QProcess::SeparateChannels);
        m_exporter.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                         { QStringLiteral("exporter"), m_sandbox.directUri(),
                           QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                           QStringLiteral("--interval"), QStringLiteral("250ms"),
                           QStringLiteral("--pooler-console"), m_sandbox.consoleUri() });
        QVERIFY(m_exporter.waitForStarted());
        QElapsedTimer timer;
        timer.start();
        while (!m_exporter.canReadLine() && !timer.hasExpired(15000)
               && m_exporter.state() == QProcess::Running)
            m_exporter.waitForReadyRead(200);
        const QByteArray line = m_exporter.readLine().trimmed();
        QVERIFY2(line.startsWith("listening=http://127.0.0.1:"),
                 QByteArray(line + m_exporter.readAllStandardError()).constData());
        const QUrl url(QString::fromUtf8(line.mid(int(qstrlen("listening=")))));
        QCOMPARE(url.path(), QStringLiteral("/metrics"));
        m_port = quint16(url.port());
        QVERIFY(m_port > 0);
    }

    void cleanupTestCase()
    {
        QVERIFY(stopProcess(m_prometheus));
        // SIGTERM is the documented way to stop the exporter: exit code 0.
        QVERIFY(stopProcess(m_exporter));
        QCOMPARE(m_exporter.exitStatus(), QProcess::NormalExit);
        QCOMPARE(m_exporter.exitCode(), 0);
    }

    void metricsFromTheSandbox()
    {
        // One transaction through PgBouncer leaves a server connection idle in its pool: a
        // client backend for pg_stat_activity_count (the sampler's own is excluded).
        QString error;
        QCOMPARE(querySingleValue(m_sandbox.pooledUri(), QStringLiteral("SELECT 1"), &error),
                 QStringLiteral("1"));
        QByteArray body;
        QElapsedTimer timer;
        timer.start();
        // The first ticks of both sources land within a second or two.
        while (!timer.hasExpired(20000)) {
            body = metrics();
            if (body.contains("\npg_up 1\n") && body.contains("poolscope_pgbouncer_clients{")
                && body.contains("pg_stat_activity_count{"))
                break;
            QThread::msleep(200);
        }
        QVERIFY2(body.contains("\npg_up 1\n"), body.constData());
        QVERIFY2(body.contains("\npg_settings_max_connections 100\n"), body.constData());
        QVERIFY(body.contains("\npoolscope_connections_usable "));
        QVERIFY(body.contains("\npoolscope_xact_commit_total "));
        QVERIFY2(body.contains("pg_stat_activity_count{datname=\"app\",state=\"idle\""),
                 body.constData());
        QVERIFY(body.contains("\npoolscope_pgbouncer_up 1\n"));
        QVERIFY(body.contains("poolscope_pgbouncer_clients{"));
        QVERIFY(body.contains("poolscope_pgbouncer_servers{"));
        QVERIFY(body.contains("\npoolscope_pgbouncer_transactions_total "));
        // Label values are data; the connection strings are not.
        QVERIFY(!body.contains(m_sandbox.directUri().toUtf8()));
        QVERIFY(!body.toLower().contains("password"));

        const HttpResponse r = httpGet(m_port, "/metrics");
        QVERIFY2(r.headers.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
                 r.headers.constData());
        QVERIFY(r.headers.contains("Connection: close"));
    }

    void promtoolAcceptsTheScrape()
    {
        const QByteArray body = metrics();
        QVERIFY(body.contains("\npg_up 1\n"));
        QProcess promtool;
        promtool.start(kPromtool, { QStringLiteral("check"), QStringLiteral("metrics") });
        QVERIFY(promtool.waitForStarted());
        promtool.write(body);
        promtool.closeWriteChannel();
        QVERIFY(promtool.waitForFinished(30000));
        const QString output =
            QString::fromUtf8(promtool.readAllStandardOutput() + promtool.readAllStandardError());
        // promtool prints one line per lint problem (and exits 3 when there are any). The only
        // known one is harmless: pg_stat_activity_count keeps postgres_exporter's name, and
        // promlint reserves the _count suffix for histograms and summaries. Prometheus itself
        // ingests it (see prometheusScrapesTheExporter); renaming it would break the existing
        // dashboards and alerts written for postgres_exporter. Anything else fails the test.
        QStringList problems;
        for (const QString &line : output.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
            if (!line.startsWith(QLatin1String("pg_stat_activity_count non-histogram")))
                problems << line;
        }
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        QVERIFY2(promtool.exitCode() == 0 || promtool.exitCode() == 3, qPrintable(output));
    }

    void httpSurface()
    {
        QCOMPARE(httpGet(m_port, "/nonexistent").status, 404);
        const HttpResponse index = httpGet(m_port, "/");
        QCOMPARE(index.status, 200);
        QVERIFY(index.body.contains("href=\"/metrics\""));
        const HttpResponse head = httpGet(m_port, "/metrics", "HEAD");
        QCOMPARE(head.status, 200);
        QVERIFY(head.body.isEmpty());
        QVERIFY(head.headers.contains("Content-Length: "));
        QCOMPARE(httpGet(m_port, "/metrics", "POST").status, 405);
        QCOMPARE(httpRequest(m_port, "garbage\r\n\r\n").status, 400);
        // A request head over 8 KiB is refused, and the connection closed.
        const QByteArray huge = "GET /metrics HTTP/1.1\r\nX-Filler: " + QByteArray(10000, 'x');
        QCOMPARE(httpRequest(m_port, huge).status, 431);
        // Query strings are ignored.
        QCOMPARE(httpGet(m_port, "/metrics?name[]=pg_up").status, 200);
    }

    void idleClientIsDropped()
    {
        // Connects and sends nothing: the server closes the socket after its 10 s timeout.
        QTcpSocket socket;
        socket.connectToHost(QStringLiteral("127.0.0.1"), m_port);
        QVERIFY(socket.waitForConnected(5000));
        QElapsedTimer timer;
        timer.start();
        while (socket.state() == QAbstractSocket::ConnectedState && !timer.hasExpired(20000))
            socket.waitForDisconnected(500);
        QCOMPARE(socket.state(), QAbstractSocket::UnconnectedState);
        QVERIFY2(timer.elapsed() >= 8000, qPrintable(QString::number(timer.elapsed())));
        // And it still serves.
        QCOMPARE(httpGet(m_port, "/metrics").status, 200);
    }

    void prometheusScrapesTheExporter()
    {
        QVERIFY(m_prometheusDir.isValid());
        QString error;
        const std::vector<int> ports = poolscope::sandbox::findFreePorts(1, &error);
        QVERIFY2(ports.size() == 1, qPrintable(error));
        const quint16 webPort = quint16(ports.front());
        const QString config = m_prometheusDir.filePath(QStringLiteral("prometheus.yml"));
        QFile file(config);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                   "scrape_configs:\n  - job_name: poolscope\n    static_configs:\n"
                   "      - targets: ['127.0.0.1:"
                   + QByteArray::number(m_port) + "']\n");
        file.close();
        m_prometheus.setProcessChannelMode(QProcess::MergedChannels);
        m_prometheus.setWorkingDirectory(m_prometheusDir.path());
        m_prometheus.start(kPrometheus,
                           { QStringLiteral("--config.file=") + config,
                             QStringLiteral("--storage.tsdb.path=")
                                 + m_prometheusDir.filePath(QStringLiteral("data")),
                             QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(webPort) });
        QVERIFY(m_prometheus.waitForStarted());

        // Prometheus' own view: up{job="poolscope"} == 1 once it has scraped successfully.
        auto query = [webPort](const QByteArray &promql) {
            const HttpResponse r = httpGet(
                webPort,
                "/api/v1/query?query=" + QUrl::toPercentEncoding(QString::fromUtf8(promql)));
            const QJsonArray result = QJsonDocument::fromJson(r.body)
                                          .object()
                                          .value(QStringLiteral("data"))
                                          .toObject()
                                          .value(QStringLiteral("result"))
                                          .toArray();
            return result.isEmpty()
                ? QString()
                : result.at(0).toObject().value(QStringLiteral("value")).toArray().at(1).toString();
        };
        QString up;
        QElapsedTimer timer;
        timer.start();
        while (!timer.hasExpired(30000) && m_prometheus.state() == QProcess::Running) {
            up = query("up{job=\"poolscope\"}");
            if (up == QLatin1String("1"))
                break;
            QThread::msleep(500);
        }
        QVERIFY2(up == QLatin1String("1"),
                 qPrintable(QStringLiteral("up=%1\n").arg(up)
                            + QString::fromUtf8(m_prometheus.readAll().right(4000))));
        // A database metric, through Prometheus.
        QString maxConnections;
        timer.restart();
        while (!timer.hasExpired(10000) && maxConnections.isEmpty()) {
            maxConnections = query("pg_settings_max_connections");
            if (maxConnections.isEmpty())
                QThread::msleep(500);
        }
        QCOMPARE(maxConnections, QStringLiteral("100"));
        QVERIFY(stopProcess(m_prometheus));
    }

    void refusesRemoteListenWithoutAllowRemote()
    {
        // Refused while parsing: nothing binds, nothing connects.
        QProcess p;
        p.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                { QStringLiteral("exporter"), m_sandbox.directUri(), QStringLiteral("--listen"),
                  QStringLiteral("10.0.0.1:9187") });
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 2);
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.contains("--allow-remote"), err.constData());
    }
};

QTEST_GUILESS_MAIN(TestExporter)
#include "tst_exporter.moc"
