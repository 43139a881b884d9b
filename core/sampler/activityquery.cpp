#include "core/sampler/activityquery.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace poolscope {
namespace {

// Which rows of pg_stat_get_activity(NULL) (what the pg_stat_activity view reads) are client
// backends: visible ones by backend_type, hidden ones (another role's, without pg_read_all_stats:
// backend_type, state and query NULL / '<insufficient privilege>') by having a database and a user.
const char *const kClientBackends =
    "pid <> pg_backend_pid() AND (backend_type = 'client backend' "
    "OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL))";

// A breakdown by one column of `g`: the top N keys by count, then one row (key NULL, "o" true)
// folding the rest, each with its active / idle / idle-in-transaction counts, the age of its
// oldest connection and of its longest idle-in-transaction state. Folding in SQL keeps the
// ages of "other" exact (they cannot be derived from the totals).
QString breakdown(const QString &column, int topN)
{
    return QStringLiteral(
               "(SELECT coalesce(json_agg(b ORDER BY b.r), '[]') FROM ("
               "SELECT CASE WHEN r <= %2 THEN k END AS k, r > %2 AS o, sum(n) AS n, sum(a) AS a, "
               "sum(i) AS i, sum(t) AS t, coalesce(max(oc), 0) AS oc, coalesce(max(ox), 0) AS ox, "
               "min(r) AS r FROM (SELECT *, row_number() OVER (ORDER BY n DESC, k) AS r FROM ("
               "SELECT %1 AS k, sum(n) AS n, "
               "coalesce(sum(n) FILTER (WHERE st = 'active'), 0) AS a, "
               "coalesce(sum(n) FILTER (WHERE st = 'idle'), 0) AS i, "
               "coalesce(sum(n) FILTER (WHERE st LIKE 'idle in transaction%'), 0) AS t, "
               "date_part('epoch', (SELECT now FROM c) - min(bs)) AS oc, "
               "date_part('epoch', (SELECT now FROM c) - "
               "min(sc) FILTER (WHERE st LIKE 'idle in transaction%')) AS ox "
               "FROM g GROUP BY 1) y) z GROUP BY 1, 2) b)")
        .arg(column)
        .arg(topN);
}

QDateTime fromEpoch(const QJsonValue &v)
{
    if (!v.isDouble())
        return {};
    return QDateTime::fromMSecsSinceEpoch(qint64(v.toDouble() * 1000.0), Qt::UTC);
}

QList<BreakdownEntry> parseBreakdown(const QJsonValue &value)
{
    QList<BreakdownEntry> entries;
    for (const QJsonValue &v : value.toArray()) {
        const QJsonObject o = v.toObject();
        BreakdownEntry e;
        e.isOther = o.value(QLatin1String("o")).toBool();
        e.key = e.isOther ? QStringLiteral("other") : o.value(QLatin1String("k")).toString();
        e.total = o.value(QLatin1String("n")).toInt();
        e.active = o.value(QLatin1String("a")).toInt();
        e.idle = o.value(QLatin1String("i")).toInt();
        e.idleInTransaction = o.value(QLatin1String("t")).toInt();
        e.oldestConnectionSeconds = std::max(0.0, o.value(QLatin1String("oc")).toDouble());
        e.longestIdleInTransactionSeconds = std::max(0.0, o.value(QLatin1String("ox")).toDouble());
        entries << e;
    }
    return entries;
}

// The session list: one JSON array per session, fields in the query's order.
QList<SessionRow> parseSessions(const QJsonValue &value)
{
    enum Field {
        Pid,
        User,
        Database,
        Application,
        Client,
        State,
        WaitEventType,
        WaitEvent,
        BackendStart,
        TransactionStart,
        QueryStart,
        StateChange,
        Query,
        BlockingPids
    };
    QList<SessionRow> rows;
    for (const QJsonValue &v : value.toArray()) {
        const QJsonArray r = v.toArray();
        SessionRow row;
        row.pid = r.at(Pid).toInt();
        row.user = r.at(User).toString();
        row.database = r.at(Database).toString();
        row.application = r.at(Application).toString();
        row.client = r.at(Client).toString();
        row.state = r.at(State).toString();
        row.waitEventType = r.at(WaitEventType).toString();
        row.waitEvent = r.at(WaitEvent).toString();
        row.backendStart = fromEpoch(r.at(BackendStart));
        row.transactionStart = fromEpoch(r.at(TransactionStart));
        row.queryStart = fromEpoch(r.at(QueryStart));
        row.stateChange = fromEpoch(r.at(StateChange));
        row.query = r.at(Query).toString();
        for (const QJsonValue &pid : r.at(BlockingPids).toArray())
            row.blockingPids << pid.toInt();
        rows << row;
    }
    return rows;
}

} // namespace

// How the query stays cheap with many backends (BENCHMARKS.md, "Sampler cost with 1,000
// connections"): pg_stat_get_activity(NULL), what the pg_stat_activity view reads, is read once
// and its client-backend rows are aggregated in one pass into `f`, one row per (database id, user
// id, application, client, state) with the count, the Lock waiters and the oldest query /
// transaction / state-change timestamps. Names are resolved on those few rows (`g`); the counts,
// the four breakdowns (with each holder's oldest backend_start and idle-in-transaction
// state_change) and the groups all come from `g`. The query text is only read for the
// session list. Ages are taken against one clock reading made after the snapshot (`c.now`), which
// is also the sample's time ('epoch').
QString buildActivityQuery(const ActivityQueryOptions &options)
{
    const bool sessionCounters = options.serverVersionNum >= 140000;
    const QString counters = sessionCounters
        ? QStringLiteral("'commits', sum(xact_commit), 'rollbacks', sum(xact_rollback), "
                         "'sessions', sum(sessions), 'fatal', sum(sessions_fatal), "
                         "'killed', sum(sessions_killed), 'abandoned', sum(sessions_abandoned)")
        : QStringLiteral("'commits', sum(xact_commit), 'rollbacks', sum(xact_rollback)");
    const QString clientBackends = QLatin1String(kClientBackends);
    const QString client = QStringLiteral(
        "coalesce(host(client_addr), CASE WHEN client_port = -1 THEN 'local' END, '')");

    // Without the session list `f` reads the function directly. With it, both read one
    // materialised CTE `a` (the rows are built once, the query text already cut); each session is
    // a JSON array (see parseSessions for the order of the fields).
    QString with;
    QString source = QStringLiteral("pg_stat_get_activity(NULL) WHERE %1").arg(clientBackends);
    QString sessions;
    if (options.includeSessions) {
        with = QStringLiteral("a AS MATERIALIZED (SELECT pid, datid, usesysid, application_name, "
                              "client_addr, client_port, state, backend_type, wait_event_type, "
                              "wait_event, backend_start, xact_start, query_start, state_change, "
                              "left(query, %1) AS q FROM %2), ")
                   .arg(options.queryTextLimit)
                   .arg(source);
        source = QStringLiteral("a");
        sessions = QStringLiteral(
                       ", 'sessions', (SELECT coalesce(json_agg(json_build_array(pid, r.rolname, "
                       "d.datname, application_name, %2, coalesce(state, 'unknown'), "
                       "wait_event_type, wait_event, date_part('epoch', backend_start), "
                       "date_part('epoch', xact_start), date_part('epoch', query_start), "
                       "date_part('epoch', state_change), q, "
                       "CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END) "
                       "ORDER BY backend_start NULLS LAST, pid), '[]') FROM ("
                       "SELECT * FROM a ORDER BY backend_start NULLS LAST, pid LIMIT %1) s "
                       "LEFT JOIN pg_database d ON d.oid = s.datid "
                       "LEFT JOIN pg_roles r ON r.oid = s.usesysid)")
                       .arg(options.maxSessions)
                       .arg(client);
    }

    // Backends that went idle since the previous tick each ended a transaction in between.
    const QString idleSince = options.idleSinceEpochMs > 0
        ? QStringLiteral("to_timestamp(%1)")
              .arg(double(options.idleSinceEpochMs) / 1000.0, 0, 'f', 3)
        : QStringLiteral("'infinity'::timestamptz");
    const QString ctes =
        QStringLiteral(
            "WITH %1f AS (SELECT datid, usesysid, coalesce(application_name, '') AS app, %2 AS cl, "
            "coalesce(state, 'unknown') AS st, count(*)::int AS n, "
            "count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS w, "
            "min(query_start) AS qs, min(xact_start) AS xs, min(state_change) AS sc, "
            "min(backend_start) AS bs, bool_or(backend_type IS NULL) AS h, "
            "count(*) FILTER (WHERE state = 'idle' AND state_change > %4)::int AS e FROM %3 "
            "GROUP BY 1, 2, 3, 4, 5), "
            "g AS MATERIALIZED (SELECT coalesce(d.datname, '') AS d, coalesce(r.rolname, '') AS u, "
            "app, cl, st, n, w, qs, xs, sc, bs, h, e FROM f "
            "LEFT JOIN pg_database d ON d.oid = f.datid LEFT JOIN pg_roles r ON r.oid = "
            "f.usesysid), "
            "c AS MATERIALIZED (SELECT clock_timestamp() AS now, coalesce(sum(n), 0) AS total, "
            "coalesce(sum(n) FILTER (WHERE st = 'active'), 0) AS active, "
            "coalesce(sum(n) FILTER (WHERE st = 'idle'), 0) AS idle, "
            "coalesce(sum(n) FILTER (WHERE st = 'idle in transaction'), 0) AS iit, "
            "coalesce(sum(n) FILTER (WHERE st = 'idle in transaction (aborted)'), 0) AS iita, "
            "coalesce(sum(w) FILTER (WHERE st = 'active'), 0) AS waiting, "
            "min(qs) FILTER (WHERE st = 'active') AS qs, min(xs) AS xs, "
            "min(sc) FILTER (WHERE st LIKE 'idle in transaction%') AS sc, "
            "coalesce(bool_or(h), false) AS hidden, coalesce(sum(e), 0) AS ended FROM g) ")
            .arg(with, client, source, idleSince);

    return ctes
        + QStringLiteral(
              "SELECT json_build_object("
              "'epoch', (SELECT date_part('epoch', now) FROM c), "
              "'version', current_setting('server_version'), "
              "'version_num', current_setting('server_version_num')::int, "
              "'max_connections', current_setting('max_connections')::int, "
              "'superuser_reserved', current_setting('superuser_reserved_connections')::int, "
              "'reserved', coalesce(current_setting('reserved_connections', true), '0')::int, "
              "'counts', (SELECT json_build_object('total', total, 'active', active, 'idle', idle, "
              "'iit', iit, 'iita', iita, 'waiting', waiting, "
              "'lq', coalesce(date_part('epoch', now - qs), 0), "
              "'lx', coalesce(date_part('epoch', now - xs), 0), "
              "'lit', coalesce(date_part('epoch', now - sc), 0), 'hidden', hidden, 'ended', ended) "
              "FROM c), "
              "'db', (SELECT json_build_object(%1) FROM pg_stat_database), "
              "'by_db', %2, 'by_user', %3, 'by_app', %4, 'by_client', %5, "
              "'groups', (SELECT coalesce(json_agg(x), '[]') FROM ("
              "SELECT d, u, app, st, sum(n) AS n, "
              "coalesce(date_part('epoch', (SELECT now FROM c) - min(xs)), 0) AS mx "
              "FROM g GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2, 3, 4 LIMIT %6) x)%7)")
              .arg(counters, breakdown(QStringLiteral("d"), options.topN),
                   breakdown(QStringLiteral("u"), options.topN),
                   breakdown(QStringLiteral("app"), options.topN),
                   breakdown(QStringLiteral("cl"), options.topN),
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
    if (options.idleSinceEpochMs > 0)
        s.wentIdleSincePrevious = c.value(QLatin1String("ended")).toInt(-1);
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

    s.byDatabase = parseBreakdown(o.value(QLatin1String("by_db")));
    s.byUser = parseBreakdown(o.value(QLatin1String("by_user")));
    s.byApplication = parseBreakdown(o.value(QLatin1String("by_app")));
    s.byClient = parseBreakdown(o.value(QLatin1String("by_client")));

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

    if (options.includeSessions)
        s.sessions = parseSessions(o.value(QLatin1String("sessions")));
    return s;
}

} // namespace poolscope
