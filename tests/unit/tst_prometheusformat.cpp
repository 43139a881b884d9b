// renderPrometheusMetrics: the text exposition format 0.0.4 as Prometheus and promtool read it.
#include "core/exporter/prometheusformat.h"

#include <QFile>
#include <QMap>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTest>
#include <QTimeZone>

#include <cmath>
#include <limits>

using namespace poolscope;

namespace {

ActivityGroup group(const QString &db, const QString &user, const QString &app,
                    const QString &state, int count, double maxTx = 0)
{
    ActivityGroup g;
    g.database = db;
    g.user = user;
    g.application = app;
    g.state = state;
    g.count = count;
    g.maxTransactionSeconds = maxTx;
    return g;
}

ActivitySample fullSample()
{
    ActivitySample s;
    s.takenAt = QDateTime::fromMSecsSinceEpoch(1'700'000'000'123, QTimeZone::utc());
    s.roundTripMicros = 1500;
    s.serverVersion = QStringLiteral("15.20");
    s.serverVersionNum = 150020;
    s.counts = { 7, 2, 3, 1, 0, 1, 1 };
    s.limits = { 100, 3, 0 };
    s.available = 90;
    s.longestQuerySeconds = 1.25;
    s.longestTransactionSeconds = 4.5;
    s.longestIdleInTransactionSeconds = 3;
    s.groups = { group(QStringLiteral("app"), QStringLiteral("alice"), QStringLiteral("web"),
                       QStringLiteral("active"), 2, 0.5),
                 group(QStringLiteral("app"), QStringLiteral("alice"), QStringLiteral("web"),
                       QStringLiteral("idle"), 3),
                 group(QStringLiteral("app"), QStringLiteral("bob"), QString(),
                       QStringLiteral("idle in transaction"), 1, 4.5) };
    s.counters = { 1000, 10, 50, 1, 2, 3 };
    s.rates.valid = true;
    s.rates.pending = Rates::Pending::No;
    s.rates.transactionsPerSecond = 21;
    return s;
}

PoolerSample poolerSample()
{
    PoolerSample p;
    p.takenAt = QDateTime::currentDateTimeUtc();
    PoolerPool pool;
    pool.database = QStringLiteral("app");
    pool.user = QStringLiteral("alice");
    pool.poolMode = QStringLiteral("transaction");
    pool.clActive = 5;
    pool.clWaiting = 2;
    pool.svActive = 3;
    pool.svIdle = 1;
    pool.maxWaitSeconds = 0.25;
    p.pools = { pool };
    p.stats.totalTransactions = 123;
    p.stats.totalQueries = 456;
    p.stats.totalWaitMicros = 2'500'000;
    PoolerStats app;
    app.database = QStringLiteral("app");
    app.totalTransactions = 100;
    app.totalQueries = 400;
    app.totalWaitMicros = 2'000'000;
    PoolerStats reports;
    reports.database = QStringLiteral("reports");
    reports.totalTransactions = 23;
    reports.totalQueries = 56;
    reports.totalWaitMicros = 500'000;
    p.databaseStats = { app, reports };
    return p;
}

PoolStats poolStats()
{
    PoolStats s;
    s.size = 4;
    s.idle = 1;
    s.inUse = 2;
    s.connecting = 1;
    s.waiting = 3;
    s.minSize = 1;
    s.maxSize = 8;
    s.acquires = 99;
    s.connectsOk = 5;
    s.connectsFailed = 3;
    s.connectsFailedByKind = { { ErrorKind::ConnectionRefused, 2 } };
    s.acquireWait = { 10, 150.0, 100, 400, 900, 1000 };
    return s;
}

MetricsInput everything()
{
    MetricsInput in;
    in.activity = fullSample();
    in.samplerOutages = 2;
    in.poolerConfigured = true;
    in.pooler = poolerSample();
    in.pool = poolStats();
    return in;
}

QStringList lines(const QByteArray &text)
{
    return QString::fromUtf8(text).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

// name -> TYPE, checking that HELP and TYPE come once each, HELP first.
QMap<QString, QString> families(const QByteArray &text)
{
    QMap<QString, QString> types;
    QSet<QString> helps;
    for (const QString &line : lines(text)) {
        const QStringList parts = line.split(QLatin1Char(' '));
        if (line.startsWith(QLatin1String("# HELP "))) {
            [&] {
                QVERIFY2(!helps.contains(parts.at(2)), qPrintable(line));
            }();
            helps.insert(parts.at(2));
        } else if (line.startsWith(QLatin1String("# TYPE "))) {
            [&] {
                QVERIFY2(helps.contains(parts.at(2)), qPrintable(line));
                QVERIFY2(!types.contains(parts.at(2)), qPrintable(line));
            }();
            types.insert(parts.at(2), parts.at(3));
        }
    }
    return types;
}

QString sampleName(const QString &line)
{
    static const QRegularExpression name(QStringLiteral("^([a-zA-Z_:][a-zA-Z0-9_:]*)"));
    return name.match(line).captured(1);
}

} // namespace

class tst_PrometheusFormat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void valuesAsPrometheusReadsThem()
    {
        QCOMPARE(formatPrometheusValue(100), QByteArray("100"));
        QCOMPARE(formatPrometheusValue(1.5), QByteArray("1.5"));
        QCOMPARE(formatPrometheusValue(0.1), QByteArray("0.1"));
        QCOMPARE(formatPrometheusValue(-2), QByteArray("-2"));
        QCOMPARE(formatPrometheusValue(0.0009), QByteArray("0.0009"));
        QCOMPARE(formatPrometheusValue(1700000000.123), QByteArray("1700000000.123"));
        QCOMPARE(formatPrometheusValue(1e20), QByteArray("1e+20"));
        QCOMPARE(formatPrometheusValue(std::numeric_limits<double>::quiet_NaN()),
                 QByteArray("NaN"));
        QCOMPARE(formatPrometheusValue(std::numeric_limits<double>::infinity()),
                 QByteArray("+Inf"));
        QCOMPARE(formatPrometheusValue(-std::numeric_limits<double>::infinity()),
                 QByteArray("-Inf"));
    }

    void labelValuesAreEscaped()
    {
        QCOMPARE(escapePrometheusLabelValue(QStringLiteral("a\"b\\c\nd")),
                 QByteArray("a\\\"b\\\\c\\nd"));
        QCOMPARE(escapePrometheusLabelValue(QStringLiteral("café")),
                 QStringLiteral("café").toUtf8());

        MetricsInput in;
        in.activity = fullSample();
        in.activity->groups = { group(QStringLiteral("d\"b"), QStringLiteral("u\\"),
                                      QStringLiteral("line1\nline2"), QStringLiteral("active"),
                                      1) };
        const QByteArray out = renderPrometheusMetrics(in);
        QVERIFY2(out.contains("pg_stat_activity_count{datname=\"d\\\"b\",state=\"active\","
                              "usename=\"u\\\\\",application_name=\"line1\\nline2\"} 1\n"),
                 out.constData());
        // No raw newline inside a sample line: every line is a comment or a whole sample.
        for (const QString &line : lines(out))
            QVERIFY2(line.startsWith(QLatin1Char('#')) || line.contains(QLatin1Char(' ')),
                     qPrintable(line));
    }

    void noSampleMeansPgUpZeroAndNoDatabaseFamilies()
    {
        const QByteArray out = renderPrometheusMetrics({});
        QVERIFY(out.contains("\npg_up 0\n"));
        QVERIFY(!out.contains("pg_stat_activity_count"));
        QVERIFY(!out.contains("pg_settings_"));
        QVERIFY(!out.contains("poolscope_connections"));
        QVERIFY(!out.contains("poolscope_pgbouncer")); // no console configured
        QVERIFY(!out.contains("poolscope_pool_"));
    }

    void failedTickHidesTheOldSample()
    {
        MetricsInput in = everything();
        in.lastTickFailed = true;
        const QByteArray out = renderPrometheusMetrics(in);
        QVERIFY(out.contains("\npg_up 0\n"));
        QVERIFY(!out.contains("pg_settings_max_connections"));
        QVERIFY(!out.contains("pg_stat_activity"));
        QVERIFY(out.contains("\npoolscope_sampler_outages_total 2\n"));
        // The pooler and the pool are independent of the database connection.
        QVERIFY(out.contains("\npoolscope_pgbouncer_up 1\n"));
        QVERIFY(out.contains("poolscope_pool_connections{"));
    }

    void poolerConfiguredButUnavailable()
    {
        MetricsInput in;
        in.poolerConfigured = true;
        const QByteArray out = renderPrometheusMetrics(in);
        QVERIFY(out.contains("\npoolscope_pgbouncer_up 0\n"));
        QVERIFY(!out.contains("poolscope_pgbouncer_clients"));
    }

    void fullRenderHasTheDocumentedFamilies()
    {
        const QByteArray out = renderPrometheusMetrics(everything());
        const QStringList expected = {
            QStringLiteral("pg_up 1"),
            QStringLiteral("pg_settings_max_connections 100"),
            QStringLiteral("pg_settings_superuser_reserved_connections 3"),
            QStringLiteral("pg_settings_reserved_connections 0"),
            QStringLiteral(
                "pg_stat_activity_count{datname=\"app\",state=\"idle\",usename=\"alice\","
                "application_name=\"web\"} 3"),
            QStringLiteral("pg_stat_activity_max_tx_duration{datname=\"app\",state=\"idle in "
                           "transaction\",usename=\"bob\",application_name=\"\"} 4.5"),
            QStringLiteral("poolscope_connections_usable 97"),
            QStringLiteral("poolscope_connections_available 90"),
            QStringLiteral("poolscope_connections{state=\"idle in transaction\"} 1"),
            QStringLiteral("poolscope_connections_waiting_on_lock 1"),
            QStringLiteral("poolscope_longest_query_seconds 1.25"),
            QStringLiteral("poolscope_longest_transaction_seconds 4.5"),
            QStringLiteral("poolscope_longest_idle_in_transaction_seconds 3"),
            QStringLiteral("poolscope_xact_commit_total 1000"),
            QStringLiteral("poolscope_xact_rollback_total 10"),
            QStringLiteral("poolscope_sessions_total 50"),
            QStringLiteral(
                "poolscope_pgbouncer_database_transactions_total{database=\"reports\"} 23"),
            QStringLiteral("poolscope_pgbouncer_database_queries_total{database=\"app\"} 400"),
            QStringLiteral(
                "poolscope_pgbouncer_database_client_wait_seconds_total{database=\"app\"} 2"),
            QStringLiteral("poolscope_queries_hidden 0"),
            QStringLiteral("poolscope_sample_round_trip_seconds 0.0015"),
            QStringLiteral("poolscope_sample_timestamp_seconds 1700000000.123"),
            QStringLiteral("poolscope_pgbouncer_up 1"),
            QStringLiteral("poolscope_pgbouncer_clients{database=\"app\",user=\"alice\","
                           "state=\"waiting\"} 2"),
            QStringLiteral("poolscope_pgbouncer_servers{database=\"app\",user=\"alice\","
                           "state=\"login\"} 0"),
            QStringLiteral("poolscope_pgbouncer_max_wait_seconds{database=\"app\",user=\"alice\"} "
                           "0.25"),
            QStringLiteral("poolscope_pgbouncer_client_wait_seconds_total 2.5"),
            QStringLiteral("poolscope_pool_connections{state=\"in_use\"} 2"),
            QStringLiteral("poolscope_pool_waiting 3"),
            QStringLiteral("poolscope_pool_connects_failed_total{kind=\"connection_refused\"} 2"),
            QStringLiteral("poolscope_pool_connects_failed_total{kind=\"unknown\"} 1"),
            QStringLiteral("poolscope_pool_acquire_wait_seconds{quantile=\"0.99\"} 0.0009"),
            QStringLiteral("poolscope_pool_acquire_wait_seconds_sum 0.0015"),
            QStringLiteral("poolscope_pool_acquire_wait_seconds_count 10"),
            QStringLiteral("poolscope_pool_hold_seconds{quantile=\"0.5\"} NaN"), // empty
        };
        const QStringList all = lines(out);
        for (const QString &line : expected)
            QVERIFY2(all.contains(line),
                     qPrintable(line + QStringLiteral("\n---\n") + QString::fromUtf8(out)));
        // Rates are left to rate() over the counters: the server's counters arrive up to 60 s
        // late, so a gauge between two scrapes would be noise.
        QVERIFY(!out.contains("_per_second"));
        // Without PostgreSQL 14 counters, the session families are left out (not -1).
        MetricsInput old = everything();
        old.activity->counters.sessions = -1;
        QVERIFY(!renderPrometheusMetrics(old).contains("poolscope_sessions_total"));
    }

    void helpAndTypeOncePerFamilyAndCountersEndInTotal()
    {
        const QByteArray out = renderPrometheusMetrics(everything());
        const QMap<QString, QString> types = families(out);
        QVERIFY(types.size() > 40);
        QString currentFamily;
        for (const QString &line : lines(out)) {
            if (line.startsWith(QLatin1String("# TYPE "))) {
                currentFamily = line.split(QLatin1Char(' ')).at(2);
                continue;
            }
            if (line.startsWith(QLatin1Char('#')))
                continue;
            // Every sample belongs to the family declared just before it (summaries add
            // _sum/_count), so a family's samples are contiguous.
            QString name = sampleName(line);
            if (types.value(currentFamily) == QLatin1String("summary"))
                name.remove(QRegularExpression(QStringLiteral("_(sum|count)$")));
            QCOMPARE(name, currentFamily);
        }
        for (auto it = types.cbegin(); it != types.cend(); ++it) {
            QVERIFY2(QStringList({ QStringLiteral("gauge"), QStringLiteral("counter"),
                                   QStringLiteral("summary") })
                         .contains(it.value()),
                     qPrintable(it.key()));
            QCOMPARE(it.key().endsWith(QLatin1String("_total")),
                     it.value() == QLatin1String("counter"));
        }
    }

    void orderingIsStable()
    {
        MetricsInput a = everything();
        MetricsInput b = everything();
        std::reverse(b.activity->groups.begin(), b.activity->groups.end());
        const QByteArray out = renderPrometheusMetrics(a);
        QCOMPARE(renderPrometheusMetrics(b), out);
        QCOMPARE(renderPrometheusMetrics(a), out);
        // Series sorted by labels: bob's group after alice's.
        QVERIFY(out.indexOf("usename=\"alice\"") < out.indexOf("usename=\"bob\""));
    }

    void equalLabelSetsAreMerged()
    {
        MetricsInput in;
        in.activity = fullSample();
        const ActivityGroup other = group(QStringLiteral("other"), QStringLiteral("other"),
                                          QStringLiteral("other"), QStringLiteral("other"), 2, 1);
        ActivityGroup again = other;
        again.count = 3;
        again.maxTransactionSeconds = 7;
        in.activity->groups = { other, again };
        const QByteArray out = renderPrometheusMetrics(in);
        QCOMPARE(out.count("pg_stat_activity_count{"), 1);
        QVERIFY(out.contains("application_name=\"other\"} 5\n"));
        QVERIFY(out.contains("application_name=\"other\"} 7\n"));
    }

    void noPasswordInOutput()
    {
        MetricsInput in = everything();
        in.activity->groups << group(QStringLiteral("app"), QStringLiteral("carol"),
                                     QStringLiteral("job host=db password=hunter2secret"),
                                     QStringLiteral("active"), 1);
        in.activity->groups << group(QStringLiteral("app"), QStringLiteral("carol"),
                                     QStringLiteral("postgresql://carol:s3cretpw@db/app"),
                                     QStringLiteral("idle"), 1);
        const QByteArray out = renderPrometheusMetrics(in);
        QVERIFY(!out.contains("hunter2secret"));
        QVERIFY(!out.contains("s3cretpw"));
        QVERIFY(!out.toLower().contains("password=h"));
        QVERIFY(out.contains("carol")); // the rest of the data is still there
    }

    // promtool is the reference linter; the unit suite runs it when it is installed (Debian's
    // `prometheus` package, see packaging/deps.sh); the integration test always does.
    void promtoolAcceptsTheFullRender()
    {
        const QString promtool = QStringLiteral("/usr/bin/promtool");
        if (!QFile::exists(promtool))
            QSKIP("promtool not installed");
        QProcess p;
        p.start(promtool, { QStringLiteral("check"), QStringLiteral("metrics") });
        QVERIFY(p.waitForStarted());
        p.write(renderPrometheusMetrics(everything()));
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(30000));
        const QString output =
            QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        // The one known lint: postgres_exporter's name pg_stat_activity_count ends in _count,
        // which promlint reserves for histograms and summaries. We keep the name so existing
        // dashboards and alerts work; Prometheus itself accepts it.
        QStringList problems;
        for (const QString &line : output.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
            if (!line.startsWith(QLatin1String("pg_stat_activity_count ")))
                problems << line;
        }
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    }
};

QTEST_GUILESS_MAIN(tst_PrometheusFormat)
#include "tst_prometheusformat.moc"
