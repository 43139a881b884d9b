// The incident headline (core/monitor/incidentsummary.cpp): which condition wins when several
// apply, where each threshold lies, who counts as the biggest holder, and that the server is named
// without its password.
#include "core/monitor/incidentsummary.h"

#include <QTest>

using namespace poolscope;

namespace {

const QString kServer = QStringLiteral("db1:5432/app");

// 40 max_connections, 3 superuser-reserved: ordinary roles may open 37.
struct Builder
{
    ActivitySample s;

    Builder()
    {
        s.takenAt = QDateTime(QDate(2026, 12, 7), QTime(21, 4, 5), Qt::UTC);
        s.limits.maxConnections = 40;
        s.limits.superuserReserved = 3;
        s.available = s.limits.usableByOrdinaryRoles();
    }
    // `count` connections of `application` in `state`, oldest transaction `txSeconds`.
    Builder &add(const QString &application, const QString &state, int count, double txSeconds = 0,
                 const QString &user = QStringLiteral("app"))
    {
        s.groups << ActivityGroup {
            QStringLiteral("app"), user, application, state, count, txSeconds
        };
        s.counts.total += count;
        if (state == QLatin1String("active"))
            s.counts.active += count;
        else if (state == QLatin1String("idle"))
            s.counts.idle += count;
        else if (state.startsWith(QLatin1String("idle in transaction"))) {
            s.counts.idleInTransaction += count;
            s.longestIdleInTransactionSeconds =
                std::max(s.longestIdleInTransactionSeconds, txSeconds);
        }
        s.longestTransactionSeconds = std::max(s.longestTransactionSeconds, txSeconds);
        s.available = std::max(0, s.limits.usableByOrdinaryRoles() - s.counts.total);
        return *this;
    }
    // The by-application breakdown's idle age of `application` (its other fields do not matter
    // to the line).
    Builder &idleFor(const QString &application, double seconds)
    {
        BreakdownEntry e;
        e.key = application;
        e.longestIdleInTransactionSeconds = seconds;
        s.byApplication << e;
        return *this;
    }
    IncidentInput input(std::optional<PoolerSample> pooler = std::nullopt) const
    {
        IncidentInput in;
        in.server = kServer;
        in.activity = s;
        in.pooler = std::move(pooler);
        return in;
    }
};

PoolerSample poolerWith(int clWaiting, double maxWaitSeconds)
{
    PoolerSample p;
    p.takenAt = QDateTime::currentDateTimeUtc();
    PoolerPool pool;
    pool.database = QStringLiteral("app");
    pool.user = QStringLiteral("app");
    pool.clActive = 20;
    pool.clWaiting = clWaiting;
    pool.maxWaitSeconds = maxWaitSeconds;
    p.pools << pool;
    return p;
}

DbError errorSaying(const QString &message)
{
    DbError e;
    e.kind = ErrorKind::Unknown;
    e.message = message;
    return e;
}

// The issue's storm: 26 connections of storm-1..storm-4, 16 of them idle in transaction, plus
// 10 of a well-behaved api: 36 of 37.
Builder storm()
{
    Builder b;
    b.add(QStringLiteral("storm-1"), QStringLiteral("idle in transaction"), 8, 14)
        .add(QStringLiteral("storm-2"), QStringLiteral("idle in transaction"), 8, 9)
        .add(QStringLiteral("storm-3"), QStringLiteral("active"), 6)
        .add(QStringLiteral("storm-4"), QStringLiteral("idle"), 4)
        .add(QStringLiteral("api"), QStringLiteral("idle"), 10)
        .idleFor(QStringLiteral("storm-1"), 13.6)
        .idleFor(QStringLiteral("storm-2"), 8)
        .idleFor(QStringLiteral("api"), 40); // not of the holder's family: not its age
    return b;
}

} // namespace

class TestIncidentSummary : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void theIssuesStormReadsAsTheIssueWroteIt()
    {
        const IncidentSummary sum = summarizeIncident(storm().input(poolerWith(20, 13)));
        QCOMPARE(sum.condition, QStringLiteral("pooler_waiting"));
        QCOMPARE(sum.severity, IncidentSeverity::Critical);
        QCOMPARE(sum.text,
                 QStringLiteral("36 of 37 usable connections in use \u2014 26 held by storm-*, 16 "
                                "of them idle in transaction for up to 14 s; PgBouncer: 20 "
                                "clients waiting up to 13 s"));
    }

    void aShortPoolerQueueIsSaidInMilliseconds()
    {
        const IncidentSummary sum = summarizeIncident(storm().input(poolerWith(2, 0.0042)));
        QVERIFY2(sum.text.endsWith(QStringLiteral("PgBouncer: 2 clients waiting up to 4 ms")),
                 qPrintable(sum.text));
    }

    void idleAgeFallsBackToTheTransactionsAge()
    {
        // Without the breakdown's idle ages (the family folded into its "other"), the line says
        // how long the transactions have been open, and says that it is that.
        Builder b = storm();
        b.s.byApplication.clear();
        QVERIFY2(summarizeIncident(b.input()).text.contains(
                     QStringLiteral("16 of them idle in transaction (open up to 14 s);")),
                 qPrintable(summarizeIncident(b.input()).text));
    }

    void priorities_data()
    {
        QTest::addColumn<int>("extraIdle");   // api connections added to the storm (36 + n)
        QTest::addColumn<int>("poolerWaits"); // -1: no pooler sample
        QTest::addColumn<bool>("poolerDown");
        QTest::addColumn<QString>("condition");
        QTest::newRow("pooler waiting beats nearly exhausted")
            << 0 << 20 << false << "pooler_waiting";
        QTest::newRow("exhausted beats pooler waiting") << 1 << 20 << false << "exhausted";
        QTest::newRow("pooler down beats exhausted") << 1 << -1 << true << "pooler_unreachable";
        QTest::newRow("nearly exhausted beats idle in transaction")
            << 0 << 0 << false << "nearly_exhausted";
        QTest::newRow("nearly exhausted without a pooler")
            << 0 << -1 << false << "nearly_exhausted";
    }
    void priorities()
    {
        QFETCH(int, extraIdle);
        QFETCH(int, poolerWaits);
        QFETCH(bool, poolerDown);
        QFETCH(QString, condition);
        Builder b = storm();
        if (extraIdle > 0)
            b.add(QStringLiteral("api"), QStringLiteral("idle"), extraIdle);
        IncidentInput in =
            b.input(poolerWaits >= 0 ? std::optional(poolerWith(poolerWaits, 3)) : std::nullopt);
        if (poolerDown)
            in.poolerError = errorSaying(QStringLiteral("connection refused"));
        QCOMPARE(summarizeIncident(in).condition, condition);
    }

    void exhaustedSaysSo()
    {
        Builder b = storm();
        b.add(QStringLiteral("api"), QStringLiteral("idle"), 3); // 39 > 37: available stays 0
        const IncidentSummary sum = summarizeIncident(b.input());
        QCOMPARE(sum.severity, IncidentSeverity::Critical);
        QVERIFY2(sum.text.startsWith(QStringLiteral("37 of 37 usable connections in use")),
                 qPrintable(sum.text));
        QVERIFY2(sum.text.endsWith(QStringLiteral("; no connections left for ordinary roles")),
                 qPrintable(sum.text));
    }

    void nearlyExhaustedStartsAtNinetyPercent()
    {
        // ceil(0.9 x 37) = 34: 33 in use is calm, 34 is not.
        Builder calm;
        calm.add(QStringLiteral("api"), QStringLiteral("idle"), 33);
        QCOMPARE(summarizeIncident(calm.input()).condition, QStringLiteral("calm"));
        Builder near;
        near.add(QStringLiteral("api"), QStringLiteral("idle"), 34);
        const IncidentSummary sum = summarizeIncident(near.input());
        QCOMPARE(sum.condition, QStringLiteral("nearly_exhausted"));
        QVERIFY2(sum.text.endsWith(QStringLiteral("; only 3 connections left")),
                 qPrintable(sum.text));
        near.add(QStringLiteral("api"), QStringLiteral("idle"), 2);
        QVERIFY(summarizeIncident(near.input())
                    .text.endsWith(QStringLiteral("; only 1 connection left")));
    }

    void lockWaitsBeatIdleInTransaction()
    {
        Builder b;
        b.add(QStringLiteral("batch"), QStringLiteral("idle in transaction"), 2, 120)
            .add(QStringLiteral("web"), QStringLiteral("active"), 5);
        b.s.counts.waiting = 5;
        const IncidentSummary sum = summarizeIncident(b.input());
        QCOMPARE(sum.condition, QStringLiteral("lock_waits"));
        QVERIFY(sum.text.endsWith(QStringLiteral("; 5 sessions waiting on locks")));
        b.s.counts.waiting = 1;
        QVERIFY(summarizeIncident(b.input()).text.endsWith(
            QStringLiteral("; 1 session waiting on a lock")));
        b.s.counts.waiting = 0;
        QCOMPARE(summarizeIncident(b.input()).condition, QStringLiteral("idle_in_transaction"));
    }

    void idleInTransactionFromTenSeconds()
    {
        Builder b;
        b.add(QStringLiteral("web"), QStringLiteral("idle in transaction"), 3, 9.9);
        QCOMPARE(summarizeIncident(b.input()).condition, QStringLiteral("calm"));
        b.s.longestIdleInTransactionSeconds = 10;
        const IncidentSummary sum = summarizeIncident(b.input());
        QCOMPARE(sum.condition, QStringLiteral("idle_in_transaction"));
        QCOMPARE(sum.severity, IncidentSeverity::Warning);
        QVERIFY2(sum.text.endsWith(
                     QStringLiteral("; 3 sessions idle in transaction, the longest for 10 s")),
                 qPrintable(sum.text));
    }

    void longTransactionFromFiveMinutes()
    {
        Builder b;
        b.add(QStringLiteral("report"), QStringLiteral("active"), 1, 299);
        QCOMPARE(summarizeIncident(b.input()).condition, QStringLiteral("calm"));
        b.s.longestTransactionSeconds = 12 * 60;
        const IncidentSummary sum = summarizeIncident(b.input());
        QCOMPARE(sum.condition, QStringLiteral("long_transaction"));
        QVERIFY2(sum.text.endsWith(QStringLiteral("; a transaction open for 12 min")),
                 qPrintable(sum.text));
    }

    void calmLine()
    {
        Builder b;
        b.add(QStringLiteral("web"), QStringLiteral("idle"), 8)
            .add(QStringLiteral("web"), QStringLiteral("active"), 2)
            .add(QStringLiteral("cron"), QStringLiteral("idle"), 1);
        const IncidentSummary sum = summarizeIncident(b.input(poolerWith(0, 0)));
        QCOMPARE(sum.severity, IncidentSeverity::Calm);
        QCOMPARE(sum.text,
                 QStringLiteral("11 of 37 usable connections in use \u2014 10 held by web; "
                                "nothing waiting, no long transactions"));
        Builder empty;
        QCOMPARE(summarizeIncident(empty.input()).text,
                 QStringLiteral("0 of 37 usable connections in use; nothing waiting, no long "
                                "transactions"));
    }

    void unreachableServerIsHonest()
    {
        IncidentInput in = storm().input(poolerWith(20, 13));
        in.serverError = errorSaying(QStringLiteral("connection refused"));
        const IncidentSummary sum = summarizeIncident(in);
        QCOMPARE(sum.condition, QStringLiteral("unreachable"));
        QCOMPARE(sum.severity, IncidentSeverity::Critical);
        // The stale sample's figures are not presented as current.
        QVERIFY2(!sum.text.contains(QStringLiteral("36")), qPrintable(sum.text));
        QCOMPARE(sum.text,
                 QStringLiteral("Server unreachable: db1:5432/app does not answer (connection "
                                "refused); last sample at 21:04:05 UTC"));
        in.activity.reset();
        QVERIFY(summarizeIncident(in).text.endsWith(QStringLiteral("; no sample yet")));
    }

    void pendingBeforeTheFirstSample()
    {
        IncidentInput in;
        in.server = kServer;
        const IncidentSummary sum = summarizeIncident(in);
        QCOMPARE(sum.condition, QStringLiteral("pending"));
        QCOMPARE(sum.text, QStringLiteral("Waiting for the first sample of db1:5432/app"));
        in.server.clear(); // the sandbox is still starting: nothing to name yet
        QCOMPARE(summarizeIncident(in).text, QStringLiteral("Waiting for the first sample"));
    }

    void biggestHolderGroupsInstancesOnly()
    {
        // 3 x storm-N (2 each) = 6 beat api's 5; neither "api" nor the single "cron-7" is merged.
        Builder b;
        for (int i = 1; i <= 3; ++i)
            b.add(QStringLiteral("storm-%1").arg(i), QStringLiteral("idle"), 2);
        b.add(QStringLiteral("api"), QStringLiteral("idle"), 5)
            .add(QStringLiteral("cron-7"), QStringLiteral("idle"), 1);
        QVERIFY2(summarizeIncident(b.input()).text.contains(QStringLiteral("6 held by storm-*;")),
                 qPrintable(summarizeIncident(b.input()).text));

        Builder single;
        single.add(QStringLiteral("cron-7"), QStringLiteral("idle"), 4)
            .add(QStringLiteral("api"), QStringLiteral("idle"), 3);
        QVERIFY(
            summarizeIncident(single.input()).text.contains(QStringLiteral("4 held by cron-7;")));

        Builder anonymous;
        anonymous.add(QString(), QStringLiteral("active"), 4)
            .add(QStringLiteral("api"), QStringLiteral("idle"), 3);
        QVERIFY(
            summarizeIncident(anonymous.input())
                .text.contains(QStringLiteral("4 held by clients without an application name")));

        // The fold of the groups past the sampler's bound is nobody's, however big.
        Builder folded;
        folded.add(QStringLiteral("api"), QStringLiteral("idle"), 3);
        folded.s.groups << ActivityGroup { QStringLiteral("other"),
                                           QStringLiteral("other"),
                                           QStringLiteral("other"),
                                           QStringLiteral("other"),
                                           20,
                                           0 };
        QVERIFY(summarizeIncident(folded.input()).text.contains(QStringLiteral("3 held by api;")));
    }

    void holderFromTheBreakdownWithoutGroups()
    {
        Builder b;
        b.s.counts.total = 14;
        b.s.available = 23;
        BreakdownEntry web;
        web.key = QStringLiteral("web");
        web.total = 6;
        web.idleInTransaction = 2;
        BreakdownEntry rest; // bigger, but the fold of the rest names nobody
        rest.key = QStringLiteral("other");
        rest.total = 8;
        rest.isOther = true;
        b.s.byApplication = { web, rest };
        QVERIFY2(summarizeIncident(b.input()).text.contains(
                     QStringLiteral("6 held by web, 2 of them idle in transaction;")),
                 qPrintable(summarizeIncident(b.input()).text));
    }

    void holderFamily_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("family");
        QTest::newRow("dash") << "storm-1"
                              << "storm-*";
        QTest::newRow("two digits") << "storm-12"
                                    << "storm-*";
        QTest::newRow("underscore") << "worker_3"
                                    << "worker_*";
        QTest::newRow("dot") << "pod.3"
                             << "pod.*";
        QTest::newRow("glued") << "web7"
                               << "web*";
        QTest::newRow("no number") << "psql"
                                   << "psql";
        QTest::newRow("number inside") << "v2-api"
                                       << "v2-api";
        QTest::newRow("only digits") << "12345"
                                     << "12345";
        QTest::newRow("empty") << ""
                               << "";
    }
    void holderFamily()
    {
        QFETCH(QString, name);
        QFETCH(QString, family);
        QCOMPARE(poolscope::holderFamily(name), family);
    }

    void serverLabelNeverCarriesThePassword()
    {
        QCOMPARE(serverLabel(QStringLiteral("postgresql://monitor:s3cretpw@db1.example:6432/app")),
                 QStringLiteral("db1.example:6432/app"));
        QCOMPARE(serverLabel(QStringLiteral("host=10.0.0.5 dbname=orders user=monitor "
                                            "password=s3cretpw")),
                 QStringLiteral("10.0.0.5:5432/orders"));
        QCOMPARE(serverLabel(QStringLiteral("postgresql://monitor@db1")),
                 QStringLiteral("db1:5432"));
        const QString broken = serverLabel(QStringLiteral("host=db1 password=s3cretpw bogus"));
        QVERIFY2(!broken.contains(QStringLiteral("s3cretpw")), qPrintable(broken));
    }

    void clipboardTextHasTimeAndServer()
    {
        const IncidentSummary sum = summarizeIncident(storm().input());
        QCOMPARE(incidentClipboardText(sum, kServer),
                 QStringLiteral("2026-12-07T21:04:05Z db1:5432/app: ") + sum.text);
    }
};

QTEST_GUILESS_MAIN(TestIncidentSummary)
#include "tst_incidentsummary.moc"
