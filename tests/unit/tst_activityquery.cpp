// The sampler's answer parsed without a server (core/sampler/activityquery.cpp): the JSON shape
// buildActivityQuery produces, sessions as positional arrays, "other" entries folded from the
// totals, and the query's column choices (no query text without the session list).
#include "core/sampler/activityquery.h"

#include <QRegularExpression>
#include <QTest>

using namespace poolscope;

class TestActivityQuery : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesASample()
    {
        const QByteArray json = R"({"epoch": 1795717416.5, "version": "15.20",
            "version_num": 150020, "max_connections": 100, "superuser_reserved": 3,
            "reserved": 0,
            "counts": {"total": 12, "active": 3, "idle": 6, "iit": 2, "iita": 0, "waiting": 1,
                       "lq": 1.5, "lx": 30.25, "lit": 20, "hidden": true},
            "db": {"commits": 10, "rollbacks": 2, "sessions": 7, "fatal": 0, "killed": 0,
                   "abandoned": 1},
            "by_db": [{"k": "app", "n": 12, "a": 3, "t": 2}],
            "by_user": [{"k": "alice", "n": 10, "a": 3, "t": 1}],
            "by_app": [], "by_client": [{"k": "local", "n": 12, "a": 3, "t": 2}],
            "groups": [{"d": "app", "u": "alice", "app": "web", "st": "idle", "n": 6, "mx": 0}],
            "sessions": [[101, "alice", "app", "web", "10.0.0.1", "active", "Lock",
                          "transactionid", 1795717400.25, 1795717401, 1795717402.5,
                          1795717402.5, "UPDATE t SET x = 1", [99, 98]],
                         [99, null, null, null, "", "unknown", null, null, null, null, null,
                          null, "<insufficient privilege>", null]]})";
        ActivityQueryOptions options;
        options.includeSessions = true;
        const auto parsed = parseActivityResult(json, options);
        QVERIFY(parsed);
        const ActivitySample &s = parsed.value();
        QCOMPARE(s.takenAt.toMSecsSinceEpoch(), qint64(1795717416500));
        QCOMPARE(s.counts.total, 12);
        QCOMPARE(s.counts.other, 1);
        QCOMPARE(s.counts.waiting, 1);
        QCOMPARE(s.longestTransactionSeconds, 30.25);
        QVERIFY(s.queriesHidden);
        QCOMPARE(s.available, 100 - 3 - 12);
        QCOMPARE(s.counters.sessionsAbandoned, qint64(1));

        QCOMPARE(s.byUser.size(), 2); // alice + other
        QVERIFY(s.byUser.at(1).isOther);
        QCOMPARE(s.byUser.at(1).total, 2);
        QCOMPARE(s.byUser.at(1).idleInTransaction, 1);
        QCOMPARE(s.byApplication.size(), 1); // all "other"
        QCOMPARE(s.byApplication.at(0).total, 12);
        QCOMPARE(s.groups.size(), 2);
        QCOMPARE(s.groups.at(1).state, QStringLiteral("other"));
        QCOMPARE(s.groups.at(1).count, 6);

        QVERIFY(s.sessions.has_value());
        QCOMPARE(s.sessions->size(), 2);
        const SessionRow &a = s.sessions->at(0);
        QCOMPARE(a.pid, 101);
        QCOMPARE(a.user, QStringLiteral("alice"));
        QCOMPARE(a.database, QStringLiteral("app"));
        QCOMPARE(a.application, QStringLiteral("web"));
        QCOMPARE(a.client, QStringLiteral("10.0.0.1"));
        QCOMPARE(a.state, QStringLiteral("active"));
        QCOMPARE(a.waitEventType, QStringLiteral("Lock"));
        QCOMPARE(a.waitEvent, QStringLiteral("transactionid"));
        QCOMPARE(a.backendStart.toMSecsSinceEpoch(), qint64(1795717400250));
        QCOMPARE(a.transactionStart.toMSecsSinceEpoch(), qint64(1795717401000));
        QCOMPARE(a.queryStart.toMSecsSinceEpoch(), qint64(1795717402500));
        QCOMPARE(a.query, QStringLiteral("UPDATE t SET x = 1"));
        QCOMPARE(a.blockingPids, (QList<int> { 99, 98 }));
        const SessionRow &hidden = s.sessions->at(1);
        QVERIFY(hidden.user.isEmpty());
        QCOMPARE(hidden.state, QStringLiteral("unknown"));
        QVERIFY(!hidden.transactionStart.isValid());
        QVERIFY(hidden.blockingPids.isEmpty());
    }

    void queryTextOnlyWithTheSessionList()
    {
        const QRegularExpression queryText(QStringLiteral("\\bquery\\b"));
        ActivityQueryOptions options;
        QVERIFY(!buildActivityQuery(options).contains(queryText));
        QVERIFY(!buildActivityQuery(options).contains(QStringLiteral("'sessions', (")));
        options.includeSessions = true;
        options.queryTextLimit = 123;
        options.maxSessions = 45;
        const QString sql = buildActivityQuery(options);
        QVERIFY(sql.contains(QStringLiteral("left(query, 123)")));
        QVERIFY(sql.contains(QStringLiteral("LIMIT 45")));
    }
};

QTEST_GUILESS_MAIN(TestActivityQuery)
#include "tst_activityquery.moc"
