// The Overview's Rates chart against a fixed offered load (pgbench -R through the sandbox's real
// PgBouncer): with the console, transactions/s is PgBouncer's and within 15 % of the offered rate
// in every 5 s window after the first 5 s; from the server alone it is "pending" until its
// trailing window is full and never 0 under the load after that. The same run checks
// `poolscope sample --pooler-console` (keys, sources, null before the first measured rate) and
// that the exporter's counters are counters and increase. One server and one load for all of it.
#include "core/exporter/prometheusformat.h"
#include "core/monitor/monitorsession.h"
#include "core/sampler/samplerseries.h"
#include "core/timeseries/timeseriesstore.h"
#include "tests/support/sandboxfixture.h"
#include "ui/charts/chartspage.h"
#include "ui/charts/ratesnote.h"
#include "ui/charts/timeserieschart.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <cmath>
#include <optional>

using namespace poolscope;
using namespace poolscope::testing;

namespace {

constexpr double kOfferedRate = 300; // transactions/s: Poisson noise in 5 s is about 2.6 %
constexpr int kLoadSeconds = 80;     // the server's 60 s window is full for the last ~20 s
constexpr qint64 kWindowMs = 5000;

// The value of one sample line of a Prometheus rendering, NaN when absent.
double metricValue(const QByteArray &text, const QString &sample)
{
    for (const QByteArray &line : text.split('\n')) {
        const QString l = QString::fromUtf8(line);
        if (l.startsWith(sample + QLatin1Char(' ')))
            return l.mid(sample.size() + 1).toDouble();
    }
    return std::nan("");
}

QList<QJsonObject> jsonLines(const QByteArray &out)
{
    QList<QJsonObject> records;
    for (const QByteArray &line : out.split('\n')) {
        if (!line.trimmed().isEmpty())
            records << QJsonDocument::fromJson(line).object();
    }
    return records;
}

ui::RatesNote *ratesNote(ui::ChartsPage &page)
{
    return page.chart(ui::ChartsPage::ChartId::Rates)->findChild<ui::RatesNote *>();
}

} // namespace

class TestRates : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString()));
        QVERIFY(m_dir.isValid());
        // The load reads a table: a backend whose transactions touch no table may keep its
        // pg_stat_database counters for a long time (see TrailingRates), which would test
        // PostgreSQL's flushing rather than PoolScope.
        QString error;
        querySingleValue(m_sandbox.directUri(),
                         QStringLiteral("CREATE TABLE rates_probe (id int); "
                                        "INSERT INTO rates_probe VALUES (1)"),
                         &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void ratesFollowAnOfferedLoad()
    {
        // A: the database and PgBouncer's console. B: the database alone.
        MonitorSession withConsole;
        MonitorSession serverOnly;
        ui::ChartsPage pageA(&withConsole);
        ui::ChartsPage pageB(&serverOnly);
        QSignalSpy sampledA(&withConsole, &MonitorSession::sampled);
        QSignalSpy poolerA(&withConsole, &MonitorSession::poolerSampled);
        QSignalSpy sampledB(&serverOnly, &MonitorSession::sampled);
        MonitorSession::Options options;
        options.conninfo = m_sandbox.directUri();
        options.interval = std::chrono::milliseconds(1000);
        serverOnly.start(options);
        options.poolerConsoleConninfo = m_sandbox.consoleUri();
        withConsole.start(options);
        QVERIFY(sampledB.wait(20000));
        QTRY_VERIFY_WITH_TIMEOUT(!poolerA.isEmpty(), 20000);
        const qint64 firstB =
            sampledB.first().at(0).value<ActivitySample>().takenAt.toMSecsSinceEpoch();

        // From the server alone, before its window is full: "pending", not a number.
        ui::RatesNote *noteB = ratesNote(pageB);
        QVERIFY(noteB);
        QVERIFY(!noteB->fromPooler());
        QVERIFY(noteB->pending());
        QVERIFY2(noteB->text().contains(QLatin1String("pending")), qPrintable(noteB->text()));
        QVERIFY2(noteB->text().contains(QLatin1String("trailing average")),
                 qPrintable(noteB->text()));

        QFile script(m_dir.filePath(QStringLiteral("probe.sql")));
        QVERIFY(script.open(QIODevice::WriteOnly));
        script.write("SELECT id FROM rates_probe;\n");
        script.close();
        QProcess pgbench;
        pgbench.setProgram(QStringLiteral("/usr/lib/postgresql/15/bin/pgbench"));
        pgbench.setArguments({ QStringLiteral("-n"), QStringLiteral("-f"), script.fileName(),
                               QStringLiteral("-R"), QString::number(kOfferedRate),
                               QStringLiteral("-c"), QStringLiteral("4"), QStringLiteral("-j"),
                               QStringLiteral("2"), QStringLiteral("-T"),
                               QString::number(kLoadSeconds), QStringLiteral("-P"),
                               QStringLiteral("5"), m_sandbox.pooledUri() });
        const qint64 loadStart = QDateTime::currentMSecsSinceEpoch();
        pgbench.start();
        QVERIFY(pgbench.waitForStarted(10000));

        // `poolscope sample` while the load runs, with and without the console.
        QProcess sampleConsole;
        QProcess sampleServer;
        std::optional<PoolerSample> poolerEarly;
        std::optional<ActivitySample> activityEarly;
        QTimer startSamples; // owned here: nothing fires into this function's locals after it
        startSamples.setSingleShot(true);
        connect(&startSamples, &QTimer::timeout, this, [&] {
            sampleConsole.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                                { QStringLiteral("sample"), m_sandbox.directUri(),
                                  QStringLiteral("--pooler-console"), m_sandbox.consoleUri(),
                                  QStringLiteral("--count"), QStringLiteral("5") });
            sampleServer.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                               { QStringLiteral("sample"), m_sandbox.directUri(),
                                 QStringLiteral("--count"), QStringLiteral("2") });
            poolerEarly = poolerA.last().at(0).value<PoolerSample>();
            activityEarly = sampledB.last().at(0).value<ActivitySample>();
        });
        startSamples.start(8000);

        // Every tick of B once its window is full, while the load runs: a value, never 0.
        QList<Rates> fullWindowB;
        QObject receiver;
        connect(&serverOnly, &MonitorSession::sampled, &receiver, [&](const ActivitySample &s) {
            const qint64 t = s.takenAt.toMSecsSinceEpoch();
            if (t > firstB + 61000 && pgbench.state() == QProcess::Running)
                fullWindowB << s.rates;
        });
        QTRY_VERIFY_WITH_TIMEOUT(pgbench.state() == QProcess::NotRunning,
                                 (kLoadSeconds + 60) * 1000);
        const qint64 loadEnd = QDateTime::currentMSecsSinceEpoch();
        const QString pgbenchOut = QString::fromUtf8(pgbench.readAllStandardOutput())
            + QString::fromUtf8(pgbench.readAllStandardError());
        QCOMPARE(pgbench.exitCode(), 0);
        const QRegularExpressionMatch tpsMatch =
            QRegularExpression(QStringLiteral("tps = ([0-9.]+)")).match(pgbenchOut);
        QVERIFY2(tpsMatch.hasMatch(), qPrintable(pgbenchOut));
        const double achieved = tpsMatch.captured(1).toDouble();
        // On a machine too loaded for pgbench to keep its schedule, what it did is the truth.
        const bool keptUp = std::abs(achieved - kOfferedRate) <= 0.05 * kOfferedRate;
        const double reference = keptUp ? kOfferedRate : achieved;
        qInfo("pgbench: offered %.0f/s, achieved %.1f/s; reference %.1f/s", kOfferedRate, achieved,
              reference);

        // With the console: the chart plots PgBouncer's transactions/s.
        ui::RatesNote *noteA = ratesNote(pageA);
        QVERIFY(noteA);
        QVERIFY(noteA->fromPooler());
        QVERIFY2(noteA->text().contains(QLatin1String("PgBouncer SHOW STATS, exact")),
                 qPrintable(noteA->text()));
        QVERIFY(pageA.chart(ui::ChartsPage::ChartId::Rates)
                    ->spec()
                    .seriesNames()
                    .contains(series::PoolerTransactionsPerSecond));
        const QList<TimePoint> points = withConsole.store().raw(series::PoolerTransactionsPerSecond,
                                                                loadStart - 2000, loadEnd + 2000);
        // Each point is the rate over the interval that ends at it; a window's rate is their
        // time-weighted mean.
        int windows = 0;
        double worst = 0;
        QStringList table;
        for (qint64 from = loadStart + kWindowMs; from + kWindowMs <= loadEnd - 1500;
             from += kWindowMs) {
            double weighted = 0;
            double span = 0;
            qint64 previous = -1;
            for (const TimePoint &p : points) {
                if (!p.isGap() && p.tMs > from && p.tMs <= from + kWindowMs && previous > 0) {
                    weighted += p.value * double(p.tMs - previous);
                    span += double(p.tMs - previous);
                }
                previous = p.tMs;
            }
            QVERIFY2(span > 0.5 * kWindowMs,
                     qPrintable(QStringLiteral("window at +%1 s: %2 ms")
                                    .arg((from - loadStart) / 1000)
                                    .arg(span)));
            const double rate = weighted / span;
            const double error = (rate - reference) / reference;
            worst = std::max(worst, std::abs(error));
            table << QStringLiteral("+%1s %2/s (%3%)")
                         .arg((from - loadStart) / 1000)
                         .arg(rate, 0, 'f', 1)
                         .arg(100 * error, 0, 'f', 1);
            ++windows;
        }
        qInfo("PgBouncer transactions/s per 5 s window: %s", qPrintable(table.join(u", ")));
        QVERIFY2(windows >= 12, qPrintable(QString::number(windows)));
        QVERIFY2(worst <= 0.15, qPrintable(table.join(u", ")));

        // From the server alone: a value on every tick once the window was full, never 0.
        QVERIFY2(fullWindowB.size() >= 8, qPrintable(QString::number(fullWindowB.size())));
        double sum = 0;
        for (const Rates &r : std::as_const(fullWindowB)) {
            QVERIFY2(r.valid && r.transactionsPerSecond > 0,
                     qPrintable(QStringLiteral("pending %1, %2/s")
                                    .arg(int(r.pending))
                                    .arg(r.transactionsPerSecond)));
            QVERIFY(r.intervalSeconds >= 60);
            sum += r.transactionsPerSecond;
        }
        const double serverMean = sum / double(fullWindowB.size());
        qInfo("server trailing average once full: mean %.1f/s over %lld ticks (%.1f%%)", serverMean,
              qlonglong(fullWindowB.size()), 100 * (serverMean - reference) / reference);
        // The window still holds a little time before the load began, and flushes are late.
        QVERIFY2(std::abs(serverMean - reference) <= 0.3 * reference,
                 qPrintable(QString::number(serverMean)));
        // Nothing stored while the window filled: no line, no 0.
        for (const TimePoint &p :
             serverOnly.store().raw(series::TransactionsPerSecond, firstB, firstB + 59000))
            QVERIFY2(p.isGap(), qPrintable(QString::number(p.value)));

        // `poolscope sample --pooler-console`: PgBouncer's rate, null before the first one.
        // (waitForFinished() is false for a process that has finished already.)
        for (QProcess *p : { &sampleConsole, &sampleServer })
            QVERIFY(p->state() == QProcess::NotRunning || p->waitForFinished(30000));
        QCOMPARE(sampleConsole.exitStatus(), QProcess::NormalExit);
        QCOMPARE(sampleConsole.exitCode(), 0);
        const QList<QJsonObject> withPooler = jsonLines(sampleConsole.readAllStandardOutput());
        QCOMPARE(withPooler.size(), 5);
        QVERIFY(withPooler.first().value(QLatin1String("transactions_per_s")).isNull());
        for (qsizetype i = 0; i < withPooler.size(); ++i) {
            const QJsonObject &o = withPooler.at(i);
            QCOMPARE(o.value(QLatin1String("transactions_per_s_source")).toString(),
                     QStringLiteral("pgbouncer"));
            const QJsonObject pooler = o.value(QLatin1String("pooler")).toObject();
            for (const char *key :
                 { "transactions_per_s", "queries_per_s", "avg_wait_ms", "cl_active", "cl_waiting",
                   "sv_active", "sv_idle", "maxwait_s" })
                QVERIFY2(pooler.contains(QLatin1String(key)), key);
            if (i == 0)
                continue;
            const double tps = o.value(QLatin1String("transactions_per_s")).toDouble(-1);
            QVERIFY2(std::abs(tps - reference) <= 0.3 * reference,
                     qPrintable(QString::number(tps)));
            QCOMPARE(pooler.value(QLatin1String("transactions_per_s")).toDouble(), tps);
            QVERIFY(pooler.value(QLatin1String("queries_per_s")).toDouble() >= tps);
            QVERIFY(pooler.value(QLatin1String("avg_wait_ms")).toDouble(-1) >= 0);
        }
        QCOMPARE(sampleServer.exitCode(), 0);
        const QList<QJsonObject> serverRecords = jsonLines(sampleServer.readAllStandardOutput());
        QCOMPARE(serverRecords.size(), 2);
        for (const QJsonObject &o : serverRecords) {
            QCOMPARE(o.value(QLatin1String("transactions_per_s_source")).toString(),
                     QStringLiteral("server"));
            QVERIFY(o.contains(QLatin1String("transactions_per_s")));
            QVERIFY(o.value(QLatin1String("transactions_per_s")).isNull()); // window filling
            QVERIFY(!o.contains(QLatin1String("pooler")));
        }

        // The exporter: counters, and they increase with the load.
        QVERIFY(poolerEarly && activityEarly);
        MetricsInput early;
        early.activity = activityEarly;
        early.poolerConfigured = true;
        early.pooler = poolerEarly;
        MetricsInput late = early;
        late.activity = sampledB.last().at(0).value<ActivitySample>();
        late.pooler = poolerA.last().at(0).value<PoolerSample>();
        const QByteArray before = renderPrometheusMetrics(early);
        const QByteArray after = renderPrometheusMetrics(late);
        const double elapsed = double(poolerEarly->takenAt.msecsTo(late.pooler->takenAt)) / 1000.0;
        for (const QString &name :
             { QStringLiteral("poolscope_pgbouncer_transactions_total"),
               QStringLiteral("poolscope_pgbouncer_database_transactions_total{database=\"app\"}"),
               QStringLiteral("poolscope_pgbouncer_queries_total") }) {
            const double a = metricValue(before, name);
            const double b = metricValue(after, name);
            QVERIFY2(
                b - a >= 0.8 * reference * (elapsed - 2),
                qPrintable(
                    QStringLiteral("%1: %2 -> %3 in %4 s").arg(name).arg(a).arg(b).arg(elapsed)));
        }
        QVERIFY(after.contains("# TYPE poolscope_pgbouncer_database_transactions_total counter"));
        QVERIFY(after.contains("# TYPE poolscope_xact_commit_total counter"));
        QVERIFY(metricValue(after, QStringLiteral("poolscope_xact_commit_total"))
                > metricValue(before, QStringLiteral("poolscope_xact_commit_total")));
    }
};

QTEST_MAIN(TestRates)
#include "tst_rates.moc"
