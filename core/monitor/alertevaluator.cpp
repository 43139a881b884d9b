// Which alerts hold for the latest figures, and what the operator should do about each. The
// advice follows the guide's troubleshooting section with its facts corrected: connection limits
// follow the compute size, not the plan, and the pooled Neon host is the one whose endpoint id
// ends in "-pooler". A threshold of 0 or less switches its alert off.
#include "core/monitor/alertevaluator.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace poolscope {
namespace {

QString number(double value, int decimals = 0)
{
    return QString::number(value, 'f', decimals);
}

// "42 s", "5 min 03 s", "1 h 02 min": how long something has been going on.
QString duration(double seconds)
{
    const qint64 s = qint64(std::llround(std::max(0.0, seconds)));
    if (s < 60)
        return QStringLiteral("%1 s").arg(s);
    if (s < 3600)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 h %2 min")
        .arg(s / 3600)
        .arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
}

Alert connectionUsage(const ActivitySample &a, double percent)
{
    const ConnectionLimits &l = a.limits;
    const int usable = l.usableByOrdinaryRoles();
    QString reserves = QStringLiteral("%1 reserved for superusers").arg(l.superuserReserved);
    if (l.reservedConnections > 0)
        reserves += QStringLiteral(", %1 by reserved_connections").arg(l.reservedConnections);
    return Alert {
        Alert::Kind::ConnectionUsage,
        QStringLiteral("Connections at %1% of the usable limit (%2 of %3)")
            .arg(number(percent))
            .arg(a.counts.total)
            .arg(usable),
        QStringLiteral("%1 client connections are open; ordinary roles may open %2 "
                       "(max_connections %3 minus %4), so %5 remain. New connections fail with "
                       "53300 \"too many clients\" at the limit. Reduce the pool size per instance "
                       "so that instances x pool max fits, connect through the pooled endpoint "
                       "(on Neon the host whose endpoint id ends in -pooler), or raise the compute "
                       "size: the limit follows the compute size, not the plan.")
            .arg(a.counts.total)
            .arg(usable)
            .arg(l.maxConnections)
            .arg(reserves)
            .arg(std::max(0, usable - a.counts.total)),
    };
}

Alert poolWaiters(const PoolStats &p)
{
    return Alert {
        Alert::Kind::PoolWaiters,
        QStringLiteral("%1 caller(s) waiting for a pooled connection").arg(p.waiting),
        QStringLiteral("%1 caller(s) wait in acquire(); the pool has %2 of max %3 connections, "
                       "%4 in use, %5 connecting. The pool is too small for the load or "
                       "connections are held too long: look for flagged leaks (%6 so far), keep "
                       "transactions short, or raise the pool's max size if the server has free "
                       "slots.")
            .arg(p.waiting)
            .arg(p.size)
            .arg(p.maxSize)
            .arg(p.inUse)
            .arg(p.connecting)
            .arg(p.leaksFlagged),
    };
}

Alert poolerWaiting(const PoolerSample &s)
{
    return Alert {
        Alert::Kind::PoolerWaiting,
        QStringLiteral("Pooler clients waiting %1 for a server connection")
            .arg(duration(s.maxWaitSeconds())),
        QStringLiteral("PgBouncer: %1 client(s) waiting, the oldest for %2 (%3 server "
                       "connections active, %4 idle). Every server connection of the pool is "
                       "busy: shorten transactions, or raise the pooler's pool size if the server "
                       "has room; clients fail with query_wait_timeout otherwise.")
            .arg(s.clWaiting())
            .arg(duration(s.maxWaitSeconds()))
            .arg(s.svActive())
            .arg(s.svIdle()),
    };
}

Alert idleInTransaction(const ActivitySample &a)
{
    return Alert {
        Alert::Kind::IdleInTransaction,
        QStringLiteral("A session is idle in transaction for %1")
            .arg(duration(a.longestIdleInTransactionSeconds)),
        QStringLiteral("%1 session(s) idle in transaction, the oldest for %2. Each holds a "
                       "connection slot and its locks (and blocks vacuum). Find it on the "
                       "Sessions page, fix the application to commit or roll back promptly, "
                       "terminate it if needed, and consider "
                       "idle_in_transaction_session_timeout.")
            .arg(a.counts.idleInTransaction + a.counts.idleInTransactionAborted)
            .arg(duration(a.longestIdleInTransactionSeconds)),
    };
}

Alert longQuery(const ActivitySample &a)
{
    return Alert {
        Alert::Kind::LongQuery,
        QStringLiteral("A query has been running for %1").arg(duration(a.longestQuerySeconds)),
        QStringLiteral("The longest active query has run for %1 (%2 active, %3 waiting on a "
                       "lock). Cancel it from the Sessions page if it is runaway; make it faster "
                       "(indexes, smaller result sets) or bound it with statement_timeout.")
            .arg(duration(a.longestQuerySeconds))
            .arg(a.counts.active)
            .arg(a.counts.waiting),
    };
}

Alert serverUnreachable()
{
    return Alert {
        Alert::Kind::ServerUnreachable,
        QStringLiteral("Server unreachable"),
        QStringLiteral("The sampler cannot reach the server; the figures shown are stale. The "
                       "Event log's \"Connection errors\" filter shows the typed error and its "
                       "remedy. A scale-to-zero endpoint can take a few seconds to wake up; a "
                       "refused or timed-out connection means the host, port or network is "
                       "wrong."),
    };
}

Alert poolerUnreachable()
{
    return Alert {
        Alert::Kind::PoolerUnreachable,
        QStringLiteral("PgBouncer unreachable"),
        QStringLiteral("PgBouncer's console stopped answering; the pooler figures shown are "
                       "stale, and clients that connect through PgBouncer are likely failing "
                       "too. The Event log shows the typed error and its remedy; PoolScope "
                       "reconnects by itself when PgBouncer is back."),
    };
}

} // namespace

QList<Alert> evaluateAlerts(const AlertThresholds &thresholds,
                            const std::optional<ActivitySample> &activity,
                            const std::optional<PoolStats> &pool,
                            const std::optional<PoolerSample> &pooler, bool unreachable,
                            bool poolerLost)
{
    QList<Alert> alerts;
    if (unreachable)
        alerts << serverUnreachable();
    if (poolerLost)
        alerts << poolerUnreachable();
    // The last sample before a loss is stale: alerting on it would report a past state as now.
    if (activity && !unreachable) {
        const int usable = activity->limits.usableByOrdinaryRoles();
        if (thresholds.usagePercent > 0 && usable > 0) {
            const double percent = 100.0 * activity->counts.total / usable;
            if (percent >= thresholds.usagePercent)
                alerts << connectionUsage(*activity, percent);
        }
    }
    if (pool && thresholds.poolWaiters > 0 && pool->waiting >= thresholds.poolWaiters)
        alerts << poolWaiters(*pool);
    if (pooler && !poolerLost && thresholds.poolerWaitSeconds > 0
        && pooler->maxWaitSeconds() >= thresholds.poolerWaitSeconds)
        alerts << poolerWaiting(*pooler);
    if (activity && !unreachable) {
        if (thresholds.idleInTransactionSeconds > 0
            && activity->longestIdleInTransactionSeconds >= thresholds.idleInTransactionSeconds)
            alerts << idleInTransaction(*activity);
        if (thresholds.longQuerySeconds > 0
            && activity->longestQuerySeconds >= thresholds.longQuerySeconds)
            alerts << longQuery(*activity);
    }
    return alerts;
}

AlertTracker::Change AlertTracker::update(const QList<Alert> &current)
{
    const auto contains = [](const QList<Alert> &list, Alert::Kind kind) {
        return std::any_of(list.begin(), list.end(),
                           [kind](const Alert &a) { return a.kind == kind; });
    };
    Change change;
    for (const Alert &alert : current) {
        if (!contains(m_active, alert.kind))
            change.raised << alert;
    }
    for (const Alert &alert : std::as_const(m_active)) {
        if (!contains(current, alert.kind))
            change.cleared << alert;
    }
    // Kept alerts take the new figures (their titles change while they stay active).
    m_active = current;
    return change;
}

std::optional<double> secondsToExhaustion(const QList<QPair<qint64, double>> &points, double limit)
{
    if (points.isEmpty() || limit <= 0)
        return std::nullopt;
    if (points.last().second >= limit)
        return 0.0;
    const qsizetype n = points.size();
    if (n < 3)
        return std::nullopt;
    // Least squares over x in seconds relative to the first point (keeps the sums small).
    const qint64 x0 = points.first().first;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto &[ms, value] : points) {
        const double x = double(ms - x0) / 1000.0;
        sx += x;
        sy += value;
        sxx += x * x;
        sxy += x * value;
    }
    const double denominator = double(n) * sxx - sx * sx;
    if (denominator <= 0)
        return std::nullopt; // every point at the same instant
    const double slope = (double(n) * sxy - sx * sy) / denominator;
    if (!(slope > 0))
        return std::nullopt;
    const double intercept = (sy - slope * sx) / double(n);
    const double xLast = double(points.last().first - x0) / 1000.0;
    const double fittedNow = intercept + slope * xLast;
    // A ramp that levelled off just under the limit fits a line already above it: "exhausted"
    // would contradict the free connections on screen, so the observed value stands for now.
    const double now = fittedNow < limit ? fittedNow : points.last().second;
    return (limit - now) / slope;
}

} // namespace poolscope
