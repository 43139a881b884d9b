// The sampler's answer parsed without a server (core/sampler/activityquery.cpp): the JSON shape
// buildActivityQuery produces, sessions as positional arrays, the breakdowns with their "other"
// row folded by the query, and the query's column choices (no query text without the session
// list).
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
            "by_db": [{"k": "app", "o": false, "n": 12, "a": 3, "i": 6, "t": 2, "oc": 90.5,
                       "ox": 20, "r": 1}],
            "by_user": [{"k": "alice", "o": false, "n": 10, "a": 3, "i": 6, "t": 1, "oc": 90.5,
                         "ox": 0, "r": 1},
                        {"k": null, "o": true, "n": 2, "a": 0, "i": 0, "t": 1, "oc": 12.25,
                         "ox": 20, "r": 2}],
            "by_app": [{"k": "", "o": false, "n": 7, "a": 1, "i": 5, "t": 1, "oc": 0, "ox": -0.5,
                        "r": 1},
                       {"k": null, "o": true, "n": 5, "a": 2, "i": 1, "t": 1, "oc": 3, "ox": 4,
                        "r": 2}],
            "by_client": [{"k": "local", "o": false, "n": 12, "a": 3, "i": 6, "t": 2, "oc": 90.5,
                           "ox": 20, "r": 1}],
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
        const BreakdownEntry &alice = s.byUser.at(0);
        QVERIFY(!alice.isOther);
        QCOMPARE(alice.key, QStringLiteral("alice"));
        QCOMPARE(alice.total, 10);
        QCOMPARE(alice.active, 3);
        QCOMPARE(alice.idle, 6);
        QCOMPARE(alice.idleInTransaction, 1);
        QCOMPARE(alice.oldestConnectionSeconds, 90.5);
        QCOMPARE(alice.longestIdleInTransactionSeconds, 0.0);
        const BreakdownEntry &rest = s.byUser.at(1);
        QVERIFY(rest.isOther);
        QCOMPARE(rest.key, QStringLiteral("other")); // the JSON key is null
        QCOMPARE(rest.total, 2);
        QCOMPARE(rest.idleInTransaction, 1);
        QCOMPARE(rest.oldestConnectionSeconds, 12.25);
        QCOMPARE(rest.longestIdleInTransactionSeconds, 20.0);
        // "" is a real application_name, not "other"; an age a skewed clock made negative is 0.
        QCOMPARE(s.byApplication.size(), 2);
        QVERIFY(!s.byApplication.at(0).isOther);
        QCOMPARE(s.byApplication.at(0).key, QString());
        QCOMPARE(s.byApplication.at(0).longestIdleInTransactionSeconds, 0.0);
        QVERIFY(s.byApplication.at(1).isOther);
        QCOMPARE(s.byApplication.at(1).total, 5);
        QCOMPARE(s.byClient.at(0).key, QStringLiteral("local"));
        QCOMPARE(s.byClient.at(0).idle, 6);
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
