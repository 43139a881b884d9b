// `poolscope exporter` (the real binary) against a server PoolScope did not start, while
// PostgreSQL and then PgBouncer stop and start again: pg_up and poolscope_pgbouncer_up go to 0
// and back to 1, and every scrape meanwhile is answered within the scrape timeout.
#include "tests/support/productionserver.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QThread>
#include <QtTest>

#include <atomic>
#include <memory>
#include <thread>

using namespace poolscope::testing;

namespace {

// Prometheus' default scrape_timeout: a scrape that takes longer counts as the target being down.
constexpr int kScrapeTimeoutMs = 10000;

struct Scrape
{
    int status = 0; // 0: no complete answer within the timeout
    qint64 elapsedMs = 0;
    QByteArray body;
};

Scrape scrape(quint16 port)
{
    QElapsedTimer timer;
    timer.start();
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    Scrape s;
    if (!socket.waitForConnected(kScrapeTimeoutMs))
        return s;
    socket.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QByteArray data;
    // The server closes the connection once the response is written.
    while (socket.state() == QAbstractSocket::ConnectedState
           && !timer.hasExpired(kScrapeTimeoutMs)) {
        socket.waitForReadyRead(100);
        data += socket.readAll();
    }
    data += socket.readAll();
    s.elapsedMs = timer.elapsed();
    const qsizetype headEnd = data.indexOf("\r\n\r\n");
    if (headEnd < 0 || socket.state() == QAbstractSocket::ConnectedState)
        return s;
    s.status = data.left(data.indexOf("\r\n")).split(' ').value(1).toInt();
    s.body = data.mid(headEnd + 4);
    return s;
}

// The value of an unlabelled gauge, or -1 when it is absent.
double metric(const QByteArray &body, const QByteArray &name)
{
    for (const QByteArray &line : body.split('\n')) {
        if (line.startsWith(QByteArray(name + ' ')))
            return line.mid(name.size() + 1).toDouble();
    }
    return -1;
}

// Scrapes on a thread of its own all along, so that scrapes also land while a server is in
// the middle of shutting down or starting, not only between the test's steps.
class BackgroundScraper
{
public:
    explicit BackgroundScraper(quint16 port)
        : m_thread([this, port] { run(port); })
    {
    }
    ~BackgroundScraper()
    {
        m_stop = true;
        m_thread.join();
    }
    int scrapes() const { return m_scrapes; }
    int failures() const { return m_failures; } // not 200, or not within the scrape timeout

private:
    void run(quint16 port)
    {
        while (!m_stop) {
            const Scrape s = scrape(port);
            ++m_scrapes;
            if (s.status != 200 || s.elapsedMs >= kScrapeTimeoutMs)
                ++m_failures;
            QThread::msleep(50); // the pace of a scraper
        }
    }

    std::atomic<bool> m_stop { false };
    std::atomic<int> m_scrapes { 0 };
    std::atomic<int> m_failures { 0 };
    std::thread m_thread;
};

} // namespace

class tst_OperatorExporter : public QObject
{
    Q_OBJECT

    ProductionServer m_server;
    QProcess m_exporter;
    quint16 m_port = 0;
    int m_scrapes = 0;
    std::unique_ptr<BackgroundScraper> m_background;

    // Scrapes until `pg_up` and `poolscope_pgbouncer_up` read `pg` and `bouncer`; every scrape on
    // the way must be answered (200) within the scrape timeout. False after `deadlineMs`.
    bool scrapeUntil(double pg, double bouncer, int deadlineMs = 30000)
    {
        QElapsedTimer timer;
        timer.start();
        while (!timer.hasExpired(deadlineMs)) {
            const Scrape s = scrape(m_port);
            ++m_scrapes;
            if (s.status != 200 || s.elapsedMs >= kScrapeTimeoutMs) {
                qWarning("scrape %d: status %d after %lld ms", m_scrapes, s.status, s.elapsedMs);
                return false;
            }
            for (const QString &password : m_server.passwords()) {
                if (s.body.contains(password.toUtf8()))
                    return false;
            }
            if (metric(s.body, "pg_up") == pg
                && metric(s.body, "poolscope_pgbouncer_up") == bouncer)
                return true;
            QThread::msleep(100); // the pace of scraping (the exporter is another process)
        }
        qWarning("pg_up %g and poolscope_pgbouncer_up %g not seen in time", pg, bouncer);
        return false;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
        qputenv("PGPASSFILE", QFile::encodeName(m_server.passFile()));
        qunsetenv("PGPASSWORD");

        m_exporter.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                         { QStringLiteral("exporter"),
                           m_server.directUri(QLatin1String(ProductionServer::kMonitorRole)),
                           QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                           QStringLiteral("--interval"), QStringLiteral("500ms"),
                           QStringLiteral("--pooler-console"), m_server.consoleConninfo() });
        QVERIFY(m_exporter.waitForStarted());
        static const QRegularExpression listening(
            QStringLiteral(R"(listening=http://[^:]+:(\d+)/)"));
        QByteArray out;
        const auto announced = [&] {
            out += m_exporter.readAllStandardOutput();
            return listening.match(QString::fromUtf8(out)).hasMatch();
        };
        QTRY_VERIFY_WITH_TIMEOUT(announced(), 20000);
        m_port = quint16(listening.match(QString::fromUtf8(out)).captured(1).toUInt());
        QVERIFY(m_port > 0);
        m_background = std::make_unique<BackgroundScraper>(m_port);
    }

    void upWhileEverythingRuns() { QVERIFY(scrapeUntil(1, 1)); }

    void postgresStopsAndStartsAgain()
    {
        QVERIFY(m_server.stopPostgres());
        QVERIFY(scrapeUntil(0, 1)); // PgBouncer's console answers without PostgreSQL
        QVERIFY2(m_server.startPostgres(), qPrintable(m_server.errorString()));
        QVERIFY(scrapeUntil(1, 1));
    }

    void pgBouncerStopsAndStartsAgain()
    {
        QVERIFY(m_server.stopPgBouncer());
        QVERIFY(scrapeUntil(1, 0)); // the database is watched directly
        QVERIFY2(m_server.startPgBouncer(), qPrintable(m_server.errorString()));
        QVERIFY(scrapeUntil(1, 1));
    }

    void bothStopAndStartAgain()
    {
        QVERIFY(m_server.stopPgBouncer());
        QVERIFY(m_server.stopPostgres());
        QVERIFY(scrapeUntil(0, 0));
        QVERIFY2(m_server.startPostgres(), qPrintable(m_server.errorString()));
        QVERIFY2(m_server.startPgBouncer(), qPrintable(m_server.errorString()));
        QVERIFY(scrapeUntil(1, 1));
        const int background = m_background->scrapes();
        QCOMPARE(m_background->failures(), 0);
        QVERIFY(background > 0);
        qInfo("%d + %d scrapes, every one answered within %d ms", m_scrapes, background,
              kScrapeTimeoutMs);
    }

    void cleanupTestCase()
    {
        m_background.reset();
        m_exporter.terminate();
        QVERIFY(m_exporter.waitForFinished(15000));
        QCOMPARE(m_exporter.exitStatus(), QProcess::NormalExit);
        QCOMPARE(m_exporter.exitCode(), 0);
        const QByteArray output =
            m_exporter.readAllStandardOutput() + m_exporter.readAllStandardError();
        QVERIFY2(output.contains("database connection lost"), output.constData());
        QVERIFY2(output.contains("database connection restored"), output.constData());
        for (const QString &password : m_server.passwords())
            QVERIFY2(!output.contains(password.toUtf8()), "a password leaked into the output");
    }
};

QTEST_MAIN(tst_OperatorExporter)
#include "tst_operator_exporter.moc"
