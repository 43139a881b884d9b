#pragma once

#include "core/pool/poolstats.h"
#include "core/sampler/activitysample.h"

#include <QList>
#include <QString>

#include <optional>

namespace poolscope {

struct AlertThresholds
{
    double usagePercent = 80.0;     // of what ordinary roles may open (limits.usable)
    int poolWaiters = 1;            // callers waiting in the app's own pool
    double poolerWaitSeconds = 1.0; // PgBouncer maxwait
    double idleInTransactionSeconds = 300.0;
    double longQuerySeconds = 60.0;
};

struct Alert
{
    enum class Kind {
        ConnectionUsage,
        PoolWaiters,
        PoolerWaiting,
        IdleInTransaction,
        LongQuery,
        ServerUnreachable,
        PoolerUnreachable
    };
    Kind kind;
    QString title;  // short: for the banner
    QString detail; // the figures and what to do
};

// Pure logic: which alerts hold for the latest figures. The UI shows them as a banner, a tray
// notification and events; raised/cleared transitions are computed by AlertTracker.
QList<Alert> evaluateAlerts(const AlertThresholds &thresholds,
                            const std::optional<ActivitySample> &activity,
                            const std::optional<PoolStats> &pool,
                            const std::optional<PoolerSample> &pooler, bool serverUnreachable,
                            bool poolerUnreachable = false);

// Remembers which alerts are active and reports transitions.
class AlertTracker
{
public:
    struct Change
    {
        QList<Alert> raised;
        QList<Alert> cleared;
    };
    Change update(const QList<Alert> &current);
    const QList<Alert> &active() const { return m_active; }

private:
    QList<Alert> m_active;
};

// Linear fit of the recent total connection count: seconds until it reaches `limit`, when it is
// rising; nullopt when flat or falling or with too few points. `points` are (ms, value).
std::optional<double> secondsToExhaustion(const QList<QPair<qint64, double>> &points, double limit);

} // namespace poolscope
