#include "core/sampler/activityquery.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace poolscope {
namespace {

// A breakdown by one column: the top N keys by count, with their active / idle-in-transaction
// shares. "other" is computed by the parser from the totals.
QString breakdown(const QString &column, int topN)
{
    return QStringLiteral("(SELECT coalesce(json_agg(b), '[]') FROM ("
                          "SELECT coalesce(%1, '') AS k, count(*) AS n, "
                          "count(*) FILTER (WHERE state = 'active') AS a, "
                          "count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS t "
                          "FROM a GROUP BY 1 ORDER BY n DESC, k LIMIT %2) b)")
        .arg(column)
        .arg(topN);
}

QDateTime fromEpoch(const QJsonValue &v)
{
    if (!v.isDouble())
        return {};
    return QDateTime::fromMSecsSinceEpoch(qint64(v.toDouble() * 1000.0), Qt::UTC);
}

QList<BreakdownEntry> parseBreakdown(const QJsonValue &value, int total, int active,
                                     int idleInTransaction)
{
    QList<BreakdownEntry> entries;
    int n = 0, a = 0, t = 0;
    for (const QJsonValue &v : value.toArray()) {
        const QJsonObject o = v.toObject();
        BreakdownEntry e;
        e.key = o.value(QLatin1String("k")).toString();
        e.total = o.value(QLatin1String("n")).toInt();
        e.active = o.value(QLatin1String("a")).toInt();
        e.idleInTransaction = o.value(QLatin1String("t")).toInt();
        n += e.total;
        a += e.active;
        t += e.idleInTransaction;
        entries << e;
    }
    if (total > n) {
        BreakdownEntry other;
        other.key = QStringLiteral("other");
        other.isOther = true;
        other.total = total - n;
        other.active = std::max(0, active - a);
        other.idleInTransaction = std::max(0, idleInTransaction - t);
        entries << other;
    }
    return entries;
}

double rate(qint64 before, qint64 after, double seconds, bool *valid)
{
    if (before < 0 || after < 0)
        return -1;
    if (after < before)
        *valid = false;
    return double(after - before) / seconds;
}

} // namespace

QString buildActivityQuery(const ActivityQueryOptions &options)
{
    const bool sessionCounters = options.serverVersionNum >= 140000;
    const QString counters = sessionCounters
        ? QStringLiteral("'commits', sum(xact_commit), 'rollbacks', sum(xact_rollback), "
                         "'sessions', sum(sessions), 'fatal', sum(sessions_fatal), "
                         "'killed', sum(sessions_killed), 'abandoned', sum(sessions_abandoned)")
        : QStringLiteral("'commits', sum(xact_commit), 'rollbacks', sum(xact_rollback)");

    QString sessions;
    if (options.includeSessions) {
        sessions =
            QStringLiteral(
                ", 'sessions', (SELECT coalesce(json_agg(s), '[]') FROM ("
                "SELECT pid, usename AS u, datname AS d, application_name AS app, "
                "coalesce(host(client_addr), CASE WHEN client_port = -1 THEN 'local' END, '') AS "
                "c, "
                "state AS st, wait_event_type AS wt, wait_event AS we, "
                "extract(epoch FROM backend_start) AS bs, extract(epoch FROM xact_start) AS xs, "
                "extract(epoch FROM query_start) AS qs, extract(epoch FROM state_change) AS sc, "
                "left(query, %2) AS q, "
                "CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END AS bp "
                "FROM a ORDER BY backend_start NULLS LAST, pid LIMIT %1) s)")
                .arg(options.maxSessions)
                .arg(options.queryTextLimit);
    }

    return QStringLiteral(
               "WITH a AS ("
               "SELECT pid, datname, usename, application_name, client_addr, client_port, "
               "coalesce(state, 'unknown') AS state, wait_event_type, wait_event, backend_start, "
               "xact_start, query_start, state_change, query "
               "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (backend_type = 'client "
               "backend' "
               "OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL))), "
               "c AS (SELECT count(*) AS total, "
               "count(*) FILTER (WHERE state = 'active') AS active, "
               "count(*) FILTER (WHERE state = 'idle') AS idle, "
               "count(*) FILTER (WHERE state = 'idle in transaction') AS iit, "
               "count(*) FILTER (WHERE state = 'idle in transaction (aborted)') AS iita, "
               "count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock') AS waiting, "
               "coalesce(max(extract(epoch FROM clock_timestamp() - query_start)) "
               "FILTER (WHERE state = 'active'), 0) AS lq, "
               "coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0) AS lx, "
               "coalesce(max(extract(epoch FROM clock_timestamp() - state_change)) "
               "FILTER (WHERE state LIKE 'idle in transaction%'), 0) AS lit, "
               "coalesce(bool_or(query = '<insufficient privilege>'), false) AS hidden FROM a) "
               "SELECT json_build_object("
               "'epoch', extract(epoch FROM clock_timestamp()), "
               "'version', current_setting('server_version'), "
               "'version_num', current_setting('server_version_num')::int, "
               "'max_connections', current_setting('max_connections')::int, "
               "'superuser_reserved', current_setting('superuser_reserved_connections')::int, "
               "'reserved', coalesce(current_setting('reserved_connections', true), '0')::int, "
               "'counts', (SELECT row_to_json(c) FROM c), "
               "'db', (SELECT json_build_object(%1) FROM pg_stat_database), "
               "'by_db', %2, 'by_user', %3, 'by_app', %4, 'by_client', %5, "
               "'groups', (SELECT coalesce(json_agg(g), '[]') FROM ("
               "SELECT coalesce(datname, '') AS d, coalesce(usename, '') AS u, "
               "coalesce(application_name, '') AS app, state AS st, count(*) AS n, "
               "coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0) AS mx "
               "FROM a GROUP BY 1, 2, 3, 4 ORDER BY n DESC, 1, 2, 3, 4 LIMIT %6) g)%7)")
        .arg(counters, breakdown(QStringLiteral("datname"), options.topN),
             breakdown(QStringLiteral("usename"), options.topN),
             breakdown(QStringLiteral("application_name"), options.topN),
             breakdown(QStringLiteral("coalesce(host(client_addr), CASE WHEN client_port = -1 THEN "
                                      "'local' END)"),
                       options.topN),
             QString::number(options.maxGroups), sessions);
}

Result<ActivitySample, DbError> parseActivityResult(const QByteArray &json,
                                                    const ActivityQueryOptions &options)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (!doc.isObject())
        return makeError(ErrorKind::QueryFailed,
                         QStringLiteral("unexpected sampler result: %1").arg(error.errorString()));
    const QJsonObject o = doc.object();
    ActivitySample s;
    s.takenAt = fromEpoch(o.value(QLatin1String("epoch")));
    s.serverVersion = o.value(QLatin1String("version")).toString();
    s.serverVersionNum = o.value(QLatin1String("version_num")).toInt();
    s.limits.maxConnections = o.value(QLatin1String("max_connections")).toInt();
    s.limits.superuserReserved = o.value(QLatin1String("superuser_reserved")).toInt();
    s.limits.reservedConnections = o.value(QLatin1String("reserved")).toInt();

    const QJsonObject c = o.value(QLatin1String("counts")).toObject();
    ConnectionCounts &n = s.counts;
    n.total = c.value(QLatin1String("total")).toInt();
    n.active = c.value(QLatin1String("active")).toInt();
    n.idle = c.value(QLatin1String("idle")).toInt();
    n.idleInTransaction = c.value(QLatin1String("iit")).toInt();
    n.idleInTransactionAborted = c.value(QLatin1String("iita")).toInt();
    n.waiting = c.value(QLatin1String("waiting")).toInt();
    n.other = n.total - n.active - n.idle - n.idleInTransaction - n.idleInTransactionAborted;
    s.longestQuerySeconds = c.value(QLatin1String("lq")).toDouble();
    s.longestTransactionSeconds = c.value(QLatin1String("lx")).toDouble();
    s.longestIdleInTransactionSeconds = c.value(QLatin1String("lit")).toDouble();
    s.queriesHidden = c.value(QLatin1String("hidden")).toBool();
    s.available = std::max(0, s.limits.usableByOrdinaryRoles() - n.total);

    const QJsonObject db = o.value(QLatin1String("db")).toObject();
    auto counter = [&](const char *key) {
        const QJsonValue v = db.value(QLatin1String(key));
        return v.isDouble() ? qint64(v.toDouble()) : qint64(-1);
    };
    s.counters.commits = std::max<qint64>(0, counter("commits"));
    s.counters.rollbacks = std::max<qint64>(0, counter("rollbacks"));
    s.counters.sessions = counter("sessions");
    s.counters.sessionsFatal = counter("fatal");
    s.counters.sessionsKilled = counter("killed");
    s.counters.sessionsAbandoned = counter("abandoned");

    const int iit = n.idleInTransaction + n.idleInTransactionAborted;
    s.byDatabase = parseBreakdown(o.value(QLatin1String("by_db")), n.total, n.active, iit);
    s.byUser = parseBreakdown(o.value(QLatin1String("by_user")), n.total, n.active, iit);
    s.byApplication = parseBreakdown(o.value(QLatin1String("by_app")), n.total, n.active, iit);
    s.byClient = parseBreakdown(o.value(QLatin1String("by_client")), n.total, n.active, iit);

    int grouped = 0;
    for (const QJsonValue &v : o.value(QLatin1String("groups")).toArray()) {
        const QJsonObject g = v.toObject();
        ActivityGroup group;
        group.database = g.value(QLatin1String("d")).toString();
        group.user = g.value(QLatin1String("u")).toString();
        group.application = g.value(QLatin1String("app")).toString();
        group.state = g.value(QLatin1String("st")).toString();
        group.count = g.value(QLatin1String("n")).toInt();
        group.maxTransactionSeconds = g.value(QLatin1String("mx")).toDouble();
        grouped += group.count;
        s.groups << group;
    }
    if (n.total > grouped) {
        ActivityGroup rest;
        rest.database = rest.user = rest.application = rest.state = QStringLiteral("other");
        rest.count = n.total - grouped;
        s.groups << rest;
    }

    if (options.includeSessions) {
        QList<SessionRow> rows;
        for (const QJsonValue &v : o.value(QLatin1String("sessions")).toArray()) {
            const QJsonObject r = v.toObject();
            SessionRow row;
            row.pid = r.value(QLatin1String("pid")).toInt();
            row.user = r.value(QLatin1String("u")).toString();
            row.database = r.value(QLatin1String("d")).toString();
            row.application = r.value(QLatin1String("app")).toString();
            row.client = r.value(QLatin1String("c")).toString();
            row.state = r.value(QLatin1String("st")).toString();
            row.waitEventType = r.value(QLatin1String("wt")).toString();
            row.waitEvent = r.value(QLatin1String("we")).toString();
            row.backendStart = fromEpoch(r.value(QLatin1String("bs")));
            row.transactionStart = fromEpoch(r.value(QLatin1String("xs")));
            row.queryStart = fromEpoch(r.value(QLatin1String("qs")));
            row.stateChange = fromEpoch(r.value(QLatin1String("sc")));
            row.query = r.value(QLatin1String("q")).toString();
            for (const QJsonValue &pid : r.value(QLatin1String("bp")).toArray())
                row.blockingPids << pid.toInt();
            rows << row;
        }
        s.sessions = rows;
    }
    return s;
}

Rates computeRates(const ActivitySample &previous, const ActivitySample &current)
{
    Rates r;
    if (!previous.takenAt.isValid() || !current.takenAt.isValid())
        return r;
    const double seconds = double(previous.takenAt.msecsTo(current.takenAt)) / 1000.0;
    if (seconds <= 0)
        return r;
    bool valid = true;
    const DatabaseCounters &a = previous.counters;
    const DatabaseCounters &b = current.counters;
    r.intervalSeconds = seconds;
    r.commitsPerSecond = rate(a.commits, b.commits, seconds, &valid);
    r.rollbacksPerSecond = rate(a.rollbacks, b.rollbacks, seconds, &valid);
    r.transactionsPerSecond = r.commitsPerSecond + r.rollbacksPerSecond;
    r.sessionsPerSecond = rate(a.sessions, b.sessions, seconds, &valid);
    r.sessionsFatalPerSecond = rate(a.sessionsFatal, b.sessionsFatal, seconds, &valid);
    r.sessionsKilledPerSecond = rate(a.sessionsKilled, b.sessionsKilled, seconds, &valid);
    r.sessionsAbandonedPerSecond = rate(a.sessionsAbandoned, b.sessionsAbandoned, seconds, &valid);
    r.valid = valid;
    return r;
}

} // namespace poolscope
