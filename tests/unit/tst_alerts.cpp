// Alert evaluation (core/monitor/alertevaluator.cpp): each alert at, below and above its
// threshold, usage against what ordinary roles may open, tracker transitions, and the
// time-to-exhaustion fit.
#include "core/monitor/alertevaluator.h"

#include <QTest>

using namespace poolscope;

Q_DECLARE_METATYPE(poolscope::Alert::Kind)

using Points = QList<QPair<qint64, double>>;

namespace {

// 100 max_connections, 3 superuser + 2 reserved: ordinary roles may open 95.
ActivitySample sampleWith(int total)
{
    ActivitySample s;
    s.takenAt = QDateTime::currentDateTimeUtc();
    s.limits.maxConnections = 100;
    s.limits.superuserReserved = 3;
    s.limits.reservedConnections = 2;
    s.counts.total = total;
    s.available = std::max(0, s.limits.usableByOrdinaryRoles() - total);
    return s;
}

bool hasKind(const QList<Alert> &alerts, Alert::Kind kind)
{
    return std::any_of(alerts.begin(), alerts.end(),
                       [kind](const Alert &a) { return a.kind == kind; });
}

Points series(std::initializer_list<double> values, qint64 stepMs = 1000)
{
    Points points;
    qint64 t = 1'700'000'000'000;
    for (double v : values) {
        points.append({ t, v });
        t += stepMs;
    }
    return points;
}

} // namespace

class tst_Alerts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void thresholds_data();
    void thresholds();
    void usageIsAgainstUsableNotMaxConnections();
    void unknownLimitsRaiseNothing();
    void unreachableSuppressesStaleActivityAlerts();
    void poolerUnreachableSuppressesStalePoolerAlerts();
    void disabledThresholds();
    void detailsCarryFiguresAndRemedy();
    void trackerTransitions();
    void exhaustion_data();
    void exhaustion();
};

// One row per alert and side of its threshold: the value is put exactly at, just below and just
// above the default threshold.
void tst_Alerts::thresholds_data()
{
    QTest::addColumn<Alert::Kind>("kind");
    QTest::addColumn<double>("value");
    QTest::addColumn<bool>("raised");

    const AlertThresholds t;
    const double usableAt80 = 0.8 * 95; // 76 connections = exactly 80 %
    QTest::newRow("usage below") << Alert::Kind::ConnectionUsage << usableAt80 - 1 << false;
    QTest::newRow("usage at") << Alert::Kind::ConnectionUsage << usableAt80 << true;
    QTest::newRow("usage above") << Alert::Kind::ConnectionUsage << usableAt80 + 1 << true;
    QTest::newRow("waiters below")
        << Alert::Kind::PoolWaiters << double(t.poolWaiters - 1) << false;
    QTest::newRow("waiters at") << Alert::Kind::PoolWaiters << double(t.poolWaiters) << true;
    QTest::newRow("waiters above") << Alert::Kind::PoolWaiters << double(t.poolWaiters + 3) << true;
    QTest::newRow("pooler below") << Alert::Kind::PoolerWaiting << t.poolerWaitSeconds - 0.01
                                  << false;
    QTest::newRow("pooler at") << Alert::Kind::PoolerWaiting << t.poolerWaitSeconds << true;
    QTest::newRow("pooler above") << Alert::Kind::PoolerWaiting << t.poolerWaitSeconds + 5 << true;
    QTest::newRow("idle-in-tx below")
        << Alert::Kind::IdleInTransaction << t.idleInTransactionSeconds - 1 << false;
    QTest::newRow("idle-in-tx at")
        << Alert::Kind::IdleInTransaction << t.idleInTransactionSeconds << true;
    QTest::newRow("idle-in-tx above")
        << Alert::Kind::IdleInTransaction << t.idleInTransactionSeconds + 100 << true;
    QTest::newRow("long query below") << Alert::Kind::LongQuery << t.longQuerySeconds - 1 << false;
    QTest::newRow("long query at") << Alert::Kind::LongQuery << t.longQuerySeconds << true;
    QTest::newRow("long query above") << Alert::Kind::LongQuery << t.longQuerySeconds + 1 << true;
    QTest::newRow("unreachable no") << Alert::Kind::ServerUnreachable << 0.0 << false;
    QTest::newRow("unreachable yes") << Alert::Kind::ServerUnreachable << 1.0 << true;
    QTest::newRow("pooler unreachable no") << Alert::Kind::PoolerUnreachable << 0.0 << false;
    QTest::newRow("pooler unreachable yes") << Alert::Kind::PoolerUnreachable << 1.0 << true;
}

void tst_Alerts::thresholds()
{
    QFETCH(Alert::Kind, kind);
    QFETCH(double, value);
    QFETCH(bool, raised);

    std::optional<ActivitySample> activity = sampleWith(10); // 10/95: no usage alert
    std::optional<PoolStats> pool = PoolStats {};
    std::optional<PoolerSample> pooler = PoolerSample {};
    pooler->pools.append(PoolerPool {});
    bool unreachable = false;
    bool poolerUnreachable = false;
    switch (kind) {
    case Alert::Kind::ConnectionUsage:
        activity = sampleWith(int(value));
        break;
    case Alert::Kind::PoolWaiters:
        pool->waiting = int(value);
        break;
    case Alert::Kind::PoolerWaiting:
        pooler->pools[0].maxWaitSeconds = value;
        pooler->pools[0].clWaiting = 2;
        break;
    case Alert::Kind::IdleInTransaction:
        activity->longestIdleInTransactionSeconds = value;
        activity->counts.idleInTransaction = 1;
        break;
    case Alert::Kind::LongQuery:
        activity->longestQuerySeconds = value;
        break;
    case Alert::Kind::ServerUnreachable:
        unreachable = value > 0;
        activity.reset();
        break;
    case Alert::Kind::PoolerUnreachable:
        poolerUnreachable = value > 0;
        break;
    }
    const QList<Alert> alerts =
        evaluateAlerts(AlertThresholds {}, activity, pool, pooler, unreachable, poolerUnreachable);
    QCOMPARE(hasKind(alerts, kind), raised);
    // Nothing else fires on these figures.
    QCOMPARE(alerts.size(), raised ? 1 : 0);
}

void tst_Alerts::usageIsAgainstUsableNotMaxConnections()
{
    // 77 of 100 max_connections is 77 % (no alert at 80 % if measured against max), but 77 of the
    // 95 ordinary roles may open is 81 %.
    const auto alerts = evaluateAlerts(AlertThresholds {}, sampleWith(77), {}, {}, false);
    QVERIFY(hasKind(alerts, Alert::Kind::ConnectionUsage));
    QVERIFY2(alerts[0].title.contains(QLatin1String("81%")), qPrintable(alerts[0].title));
    QVERIFY2(alerts[0].title.contains(QLatin1String("77 of 95")), qPrintable(alerts[0].title));
}

void tst_Alerts::unknownLimitsRaiseNothing()
{
    // Before the first limits are known (all zero) there is no percentage to speak of.
    ActivitySample s;
    s.counts.total = 50;
    QVERIFY(evaluateAlerts(AlertThresholds {}, s, {}, {}, false).isEmpty());
}

void tst_Alerts::unreachableSuppressesStaleActivityAlerts()
{
    ActivitySample s = sampleWith(94);
    s.longestQuerySeconds = 1000;
    const auto alerts = evaluateAlerts(AlertThresholds {}, s, {}, {}, true);
    QCOMPARE(alerts.size(), 1);
    QCOMPARE(alerts[0].kind, Alert::Kind::ServerUnreachable);
}

void tst_Alerts::poolerUnreachableSuppressesStalePoolerAlerts()
{
    PoolerSample pooler;
    pooler.pools.append(PoolerPool {});
    pooler.pools[0].maxWaitSeconds = 100;
    const auto alerts = evaluateAlerts(AlertThresholds {}, sampleWith(10), {}, pooler, false, true);
    QCOMPARE(alerts.size(), 1);
    QCOMPARE(alerts[0].kind, Alert::Kind::PoolerUnreachable);
    QVERIFY(!alerts[0].detail.isEmpty());
    // Without the loss, the same figures raise the waiting alert.
    QCOMPARE(evaluateAlerts(AlertThresholds {}, sampleWith(10), {}, pooler, false).value(0).kind,
             Alert::Kind::PoolerWaiting);
}

void tst_Alerts::disabledThresholds()
{
    AlertThresholds off;
    off.usagePercent = 0;
    off.poolWaiters = 0;
    off.poolerWaitSeconds = 0;
    off.idleInTransactionSeconds = 0;
    off.longQuerySeconds = 0;
    ActivitySample s = sampleWith(95);
    s.longestQuerySeconds = 1e6;
    s.longestIdleInTransactionSeconds = 1e6;
    PoolStats pool;
    pool.waiting = 10;
    PoolerSample pooler;
    pooler.pools.append(PoolerPool {});
    pooler.pools[0].maxWaitSeconds = 100;
    QVERIFY(evaluateAlerts(off, s, pool, pooler, false).isEmpty());
}

void tst_Alerts::detailsCarryFiguresAndRemedy()
{
    const auto alerts = evaluateAlerts(AlertThresholds {}, sampleWith(90), {}, {}, false);
    QCOMPARE(alerts.size(), 1);
    const QString &d = alerts[0].detail;
    QVERIFY2(d.contains(QLatin1String("90 client connections")), qPrintable(d));
    QVERIFY2(d.contains(QLatin1String("max_connections 100")), qPrintable(d));
    // The guide's facts, corrected: limits follow the compute size; the pooled host is -pooler.
    QVERIFY2(d.contains(QLatin1String("compute size, not the plan")), qPrintable(d));
    QVERIFY2(d.contains(QLatin1String("-pooler")), qPrintable(d));
    QVERIFY2(!d.contains(QLatin1String("Upgrade")), qPrintable(d));
}

void tst_Alerts::trackerTransitions()
{
    AlertTracker tracker;
    const Alert usage { Alert::Kind::ConnectionUsage, QStringLiteral("usage 85%"), {} };
    const Alert usage90 { Alert::Kind::ConnectionUsage, QStringLiteral("usage 90%"), {} };
    const Alert waiters { Alert::Kind::PoolWaiters, QStringLiteral("waiters"), {} };

    auto change = tracker.update({ usage });
    QCOMPARE(change.raised.size(), 1);
    QCOMPARE(change.cleared.size(), 0);

    // Still active with new figures: no second "raised", but the active copy is updated.
    change = tracker.update({ usage90 });
    QVERIFY(change.raised.isEmpty());
    QVERIFY(change.cleared.isEmpty());
    QCOMPARE(tracker.active().size(), 1);
    QCOMPARE(tracker.active()[0].title, usage90.title);

    change = tracker.update({ usage90, waiters });
    QCOMPARE(change.raised.size(), 1);
    QCOMPARE(change.raised[0].kind, Alert::Kind::PoolWaiters);

    change = tracker.update({ waiters });
    QCOMPARE(change.cleared.size(), 1);
    QCOMPARE(change.cleared[0].kind, Alert::Kind::ConnectionUsage);
    QCOMPARE(change.cleared[0].title, usage90.title); // cleared with its last figures

    change = tracker.update({});
    QCOMPARE(change.cleared.size(), 1);
    change = tracker.update({});
    QVERIFY(change.raised.isEmpty());
    QVERIFY(change.cleared.isEmpty()); // cleared once only
    QVERIFY(tracker.active().isEmpty());
}

void tst_Alerts::exhaustion_data()
{
    QTest::addColumn<Points>("points");
    QTest::addColumn<double>("limit");
    QTest::addColumn<bool>("hasValue");
    QTest::addColumn<double>("expected"); // seconds, when hasValue

    // +2 per second, last value 20 at t=5 s: (100 - 20) / 2 = 40 s.
    QTest::newRow("rising") << series({ 10, 12, 14, 16, 18, 20 }) << 100.0 << true << 40.0;
    QTest::newRow("flat") << series({ 50, 50, 50, 50 }) << 100.0 << false << 0.0;
    QTest::newRow("falling") << series({ 60, 55, 50, 45 }) << 100.0 << false << 0.0;
    // Noise around a slope of 1 per second: the fit, not the last two points, decides.
    QTest::newRow("noisy rising") << series({ 10, 12, 11, 14, 13, 16, 15, 18, 17, 20 }) << 100.0
                                  << true << 80.4;
    // Drifting down with noise; the last point jumps up, but one spike is not a trend.
    QTest::newRow("noisy falling, last jump up")
        << series({ 34, 32, 33, 31, 32, 30, 31, 29, 30, 28, 29, 27, 33 }) << 100.0 << false << 0.0;
    // Rose by 5 a second, then flat at 35 under a limit of 40: the fit is at 40.1 now, but 5 are
    // still free; (40 - 35) / 4.24 per second.
    QTest::newRow("levelled off under the limit")
        << series({ 0, 5, 10, 15, 20, 25, 30, 35, 35, 35 }) << 40.0 << true << 1.18;
    QTest::newRow("two points") << series({ 10, 20 }) << 100.0 << false << 0.0;
    QTest::newRow("at the limit") << series({ 80, 90, 100 }) << 100.0 << true << 0.0;
    QTest::newRow("over the limit") << series({ 90, 101 }) << 100.0 << true << 0.0;
    QTest::newRow("same instant") << series({ 10, 20, 30 }, 0) << 100.0 << false << 0.0;
    QTest::newRow("no limit") << series({ 10, 20, 30 }) << 0.0 << false << 0.0;
}

void tst_Alerts::exhaustion()
{
    QFETCH(Points, points);
    QFETCH(double, limit);
    QFETCH(bool, hasValue);
    QFETCH(double, expected);

    const auto seconds = secondsToExhaustion(points, limit);
    QCOMPARE(seconds.has_value(), hasValue);
    if (hasValue)
        QVERIFY2(std::abs(*seconds - expected) < 0.5,
                 qPrintable(QStringLiteral("%1 s, expected %2 s").arg(*seconds).arg(expected)));
}

QTEST_GUILESS_MAIN(tst_Alerts)
#include "tst_alerts.moc"
