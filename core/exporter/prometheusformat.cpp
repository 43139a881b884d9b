#include "core/exporter/prometheusformat.h"

#include "core/db/redaction.h"

#include <QSet>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <tuple>

namespace poolscope {
namespace {

struct Label
{
    const char *name;
    QString value;
};

QByteArray escapeHelp(const char *help)
{
    QByteArray out;
    for (const char *c = help; *c; ++c) {
        if (*c == '\\')
            out += "\\\\";
        else if (*c == '\n')
            out += "\\n";
        else
            out += *c;
    }
    return out;
}

// Appends families and samples; each family's HELP/TYPE header exactly once, before its samples.
class Writer
{
public:
    void family(const char *name, const char *type, const char *help)
    {
        const QByteArray key(name);
        Q_ASSERT_X(!m_families.contains(key), "renderPrometheusMetrics", name);
        m_families.insert(key);
        m_out += "# HELP " + key + ' ' + escapeHelp(help) + '\n';
        m_out += "# TYPE " + key + ' ' + type + '\n';
    }

    void sample(const char *name, std::initializer_list<Label> labels, double value)
    {
        m_out += name;
        if (labels.size() > 0) {
            m_out += '{';
            bool first = true;
            for (const Label &label : labels) {
                if (!first)
                    m_out += ',';
                first = false;
                m_out += label.name;
                m_out += "=\"";
                m_out += escapePrometheusLabelValue(redactSecrets(label.value));
                m_out += '"';
            }
            m_out += '}';
        }
        m_out += ' ' + formatPrometheusValue(value) + '\n';
    }
    void sample(const char *name, double value) { sample(name, {}, value); }

    // A family with one unlabelled sample.
    void gauge(const char *name, const char *help, double value)
    {
        family(name, "gauge", help);
        sample(name, value);
    }
    void counter(const char *name, const char *help, double value)
    {
        family(name, "counter", help);
        sample(name, value);
    }

    QByteArray take() { return std::move(m_out); }

private:
    QByteArray m_out;
    QSet<QByteArray> m_families;
};

constexpr double kMicros = 1e6;

void writeDatabase(Writer &w, const ActivitySample &s)
{
    // pg_stat_activity_count / _max_tx_duration: merge equal label sets (the folded "other"
    // entry could meet a real one), then sort by labels for a stable order.
    using Key = std::tuple<QString, QString, QString, QString>; // datname, state, user, app
    std::map<Key, std::pair<int, double>> groups;
    for (const ActivityGroup &g : s.groups) {
        auto &[count, maxTx] = groups[Key { g.database, g.state, g.user, g.application }];
        count += g.count;
        maxTx = std::max(maxTx, g.maxTransactionSeconds);
    }
    w.family("pg_stat_activity_count", "gauge",
             "Client backends by database, state, user and application (the sampler's own "
             "connection excluded; the smallest groups are folded into one labelled \"other\").");
    for (const auto &[k, v] : groups)
        w.sample("pg_stat_activity_count",
                 { { "datname", std::get<0>(k) },
                   { "state", std::get<1>(k) },
                   { "usename", std::get<2>(k) },
                   { "application_name", std::get<3>(k) } },
                 v.first);
    w.family("pg_stat_activity_max_tx_duration", "gauge",
             "Age in seconds of the oldest open transaction of each group of "
             "pg_stat_activity_count.");
    for (const auto &[k, v] : groups)
        w.sample("pg_stat_activity_max_tx_duration",
                 { { "datname", std::get<0>(k) },
                   { "state", std::get<1>(k) },
                   { "usename", std::get<2>(k) },
                   { "application_name", std::get<3>(k) } },
                 v.second);

    const ConnectionLimits &l = s.limits;
    w.gauge("pg_settings_max_connections", "Server setting max_connections.", l.maxConnections);
    w.gauge("pg_settings_superuser_reserved_connections",
            "Server setting superuser_reserved_connections.", l.superuserReserved);
    w.gauge("pg_settings_reserved_connections",
            "Server setting reserved_connections (PostgreSQL 16+; 0 before).",
            l.reservedConnections);
    w.gauge("poolscope_connections_usable",
            "Connections ordinary (non-superuser) roles may hold in all: max_connections minus "
            "superuser_reserved_connections minus reserved_connections.",
            l.usableByOrdinaryRoles());
    w.gauge("poolscope_connections_available",
            "Connections ordinary roles can still open: usable minus client backends (never "
            "below 0).",
            s.available);

    const ConnectionCounts &c = s.counts;
    w.family("poolscope_connections", "gauge",
             "Client backends by state (backend_type 'client backend', the sampler excluded; "
             "'other' includes states hidden without pg_read_all_stats).");
    const std::pair<const char *, int> states[] = {
        { "active", c.active },
        { "idle", c.idle },
        { "idle in transaction", c.idleInTransaction },
        { "idle in transaction (aborted)", c.idleInTransactionAborted },
        { "other", c.other },
    };
    for (const auto &[state, n] : states)
        w.sample("poolscope_connections", { { "state", QString::fromLatin1(state) } }, n);
    w.gauge("poolscope_connections_waiting_on_lock",
            "Active client backends waiting on a heavyweight lock (wait_event_type 'Lock').",
            c.waiting);

    w.gauge("poolscope_longest_query_seconds",
            "Age of the longest-running active query (0 when none).", s.longestQuerySeconds);
    w.gauge("poolscope_longest_transaction_seconds",
            "Age of the oldest open transaction (0 when none).", s.longestTransactionSeconds);
    w.gauge("poolscope_longest_idle_in_transaction_seconds",
            "Time the longest idle-in-transaction session has been idle (0 when none).",
            s.longestIdleInTransactionSeconds);

    const DatabaseCounters &d = s.counters;
    w.counter("poolscope_xact_commit_total",
              "Committed transactions, all databases (pg_stat_database.xact_commit).", d.commits);
    w.counter("poolscope_xact_rollback_total",
              "Rolled back transactions, all databases (pg_stat_database.xact_rollback).",
              d.rollbacks);
    const std::tuple<const char *, const char *, qint64> sessionCounters[] = {
        { "poolscope_sessions_total", "Sessions established, all databases (PostgreSQL 14+).",
          d.sessions },
        { "poolscope_sessions_fatal_total",
          "Sessions ended by a fatal error, all databases (PostgreSQL 14+).", d.sessionsFatal },
        { "poolscope_sessions_killed_total",
          "Sessions terminated by operator intervention, all databases (PostgreSQL 14+).",
          d.sessionsKilled },
        { "poolscope_sessions_abandoned_total",
          "Sessions ended because the client disconnected, all databases (PostgreSQL 14+).",
          d.sessionsAbandoned },
    };
    for (const auto &[name, help, value] : sessionCounters) {
        if (value >= 0)
            w.counter(name, help, double(value));
    }

    // No *_per_second gauges: PostgreSQL flushes these counters up to 60 s late, so a rate
    // between two scrapes is noise, and postgres_exporter (whose users' dashboards we meet)
    // exposes pg_stat_database as counters only. rate() over a window of a few minutes does the
    // windowing in Prometheus.

    w.gauge("poolscope_queries_hidden",
            "1 when the sampling role lacks pg_read_all_stats: other roles' states and queries "
            "are hidden and counted as 'other'.",
            s.queriesHidden ? 1 : 0);
    w.gauge("poolscope_sample_round_trip_seconds",
            "Client-side duration of the sampler's one round trip for the latest sample.",
            double(s.roundTripMicros) / kMicros);
    if (s.takenAt.isValid())
        w.gauge("poolscope_sample_timestamp_seconds",
                "When the latest sample was taken (server clock, Unix time).",
                double(s.takenAt.toMSecsSinceEpoch()) / 1000.0);
    if (s.serverVersionNum > 0)
        w.gauge("poolscope_server_version_num", "Server setting server_version_num.",
                s.serverVersionNum);
}

// Who holds the connections: each breakdown's top holders and its "(other)" fold, by state.
// Bounded: 4 dimensions x (top N + 1) holders x 4 states, whatever the number of clients.
void writeHolders(Writer &w, const ActivitySample &s)
{
    struct Holder
    {
        int active = 0, idle = 0, idleInTransaction = 0, other = 0;
        double oldest = 0, longestIdleInTransaction = 0;
    };
    using Key = std::pair<QString, QString>; // dimension, holder
    std::map<Key, Holder> holders;
    const std::pair<const char *, const QList<BreakdownEntry> *> dimensions[] = {
        { "application", &s.byApplication },
        { "user", &s.byUser },
        { "database", &s.byDatabase },
        { "client", &s.byClient },
    };
    for (const auto &[dimension, entries] : dimensions) {
        for (const BreakdownEntry &e : *entries) {
            // A real holder named "(other)" merges with the fold rather than repeat a series.
            Holder &h = holders[Key { QString::fromLatin1(dimension),
                                      e.isOther ? QStringLiteral("(other)") : e.key }];
            h.active += e.active;
            h.idle += e.idle;
            h.idleInTransaction += e.idleInTransaction;
            h.other += std::max(0, e.total - e.active - e.idle - e.idleInTransaction);
            h.oldest = std::max(h.oldest, e.oldestConnectionSeconds);
            h.longestIdleInTransaction =
                std::max(h.longestIdleInTransaction, e.longestIdleInTransactionSeconds);
        }
    }
    w.family("poolscope_connections_by_holder", "gauge",
             "Client backends of the top 10 holders of each dimension (application, user, "
             "database, client address or \"local\") by state; the rest folded into holder "
             "\"(other)\". 'idle_in_transaction' includes aborted ones, 'other' the remaining "
             "states.");
    for (const auto &[k, h] : holders) {
        const std::pair<const char *, int> states[] = {
            { "active", h.active },
            { "idle", h.idle },
            { "idle_in_transaction", h.idleInTransaction },
            { "other", h.other },
        };
        for (const auto &[state, n] : states)
            w.sample("poolscope_connections_by_holder",
                     { { "dimension", k.first },
                       { "holder", k.second },
                       { "state", QString::fromLatin1(state) } },
                     n);
    }
    w.family("poolscope_holder_oldest_connection_seconds", "gauge",
             "Age of each holder's oldest connection (backend_start), holders as in "
             "poolscope_connections_by_holder.");
    for (const auto &[k, h] : holders)
        w.sample("poolscope_holder_oldest_connection_seconds",
                 { { "dimension", k.first }, { "holder", k.second } }, h.oldest);
    w.family("poolscope_holder_longest_idle_in_transaction_seconds", "gauge",
             "How long each holder's longest idle-in-transaction session has been idle (0 when "
             "none), holders as in poolscope_connections_by_holder.");
    for (const auto &[k, h] : holders)
        w.sample("poolscope_holder_longest_idle_in_transaction_seconds",
                 { { "dimension", k.first }, { "holder", k.second } }, h.longestIdleInTransaction);
}

void writePooler(Writer &w, const PoolerSample &p)
{
    using Key = std::pair<QString, QString>; // database, user
    std::map<Key, PoolerPool> pools;
    for (const PoolerPool &pool : p.pools) {
        PoolerPool &m = pools[Key { pool.database, pool.user }];
        m.clActive += pool.clActive;
        m.clWaiting += pool.clWaiting;
        m.svActive += pool.svActive;
        m.svIdle += pool.svIdle;
        m.svUsed += pool.svUsed;
        m.svLogin += pool.svLogin;
        m.maxWaitSeconds = std::max(m.maxWaitSeconds, pool.maxWaitSeconds);
    }
    w.family("poolscope_pgbouncer_clients", "gauge",
             "PgBouncer client connections per pool (SHOW POOLS): active = linked to a server or "
             "idle, waiting = sent a query and has no server yet.");
    for (const auto &[k, m] : pools) {
        w.sample("poolscope_pgbouncer_clients",
                 { { "database", k.first },
                   { "user", k.second },
                   { "state", QStringLiteral("active") } },
                 m.clActive);
        w.sample("poolscope_pgbouncer_clients",
                 { { "database", k.first },
                   { "user", k.second },
                   { "state", QStringLiteral("waiting") } },
                 m.clWaiting);
    }
    w.family("poolscope_pgbouncer_servers", "gauge",
             "PgBouncer server connections per pool (SHOW POOLS sv_active, sv_idle, sv_used, "
             "sv_login).");
    for (const auto &[k, m] : pools) {
        const std::pair<const char *, int> states[] = {
            { "active", m.svActive },
            { "idle", m.svIdle },
            { "used", m.svUsed },
            { "login", m.svLogin },
        };
        for (const auto &[state, n] : states)
            w.sample("poolscope_pgbouncer_servers",
                     { { "database", k.first },
                       { "user", k.second },
                       { "state", QString::fromLatin1(state) } },
                     n);
    }
    w.family("poolscope_pgbouncer_max_wait_seconds", "gauge",
             "Age of the oldest waiting client per pool (SHOW POOLS maxwait); rising means the "
             "pool cannot keep up.");
    for (const auto &[k, m] : pools)
        w.sample("poolscope_pgbouncer_max_wait_seconds",
                 { { "database", k.first }, { "user", k.second } }, m.maxWaitSeconds);

    const PoolerStats &s = p.stats;
    w.counter("poolscope_pgbouncer_transactions_total",
              "Transactions pooled by PgBouncer, all databases (SHOW STATS total_xact_count).",
              double(s.totalTransactions));
    w.counter("poolscope_pgbouncer_queries_total",
              "Queries pooled by PgBouncer, all databases (SHOW STATS total_query_count).",
              double(s.totalQueries));
    w.counter("poolscope_pgbouncer_client_wait_seconds_total",
              "Time clients spent waiting for a server connection, all databases (SHOW STATS "
              "total_wait_time).",
              double(s.totalWaitMicros) / kMicros);
    // Per database as well: SHOW STATS has one row per database, a bounded label set.
    const std::tuple<const char *, const char *, qint64 PoolerStats::*, double> perDatabase[] = {
        { "poolscope_pgbouncer_database_transactions_total",
          "Transactions pooled by PgBouncer per database (SHOW STATS total_xact_count).",
          &PoolerStats::totalTransactions, 1.0 },
        { "poolscope_pgbouncer_database_queries_total",
          "Queries pooled by PgBouncer per database (SHOW STATS total_query_count).",
          &PoolerStats::totalQueries, 1.0 },
        { "poolscope_pgbouncer_database_client_wait_seconds_total",
          "Time clients spent waiting for a server connection per database (SHOW STATS "
          "total_wait_time).",
          &PoolerStats::totalWaitMicros, kMicros },
    };
    for (const auto &[name, help, field, divisor] : perDatabase) {
        w.family(name, "counter", help);
        for (const PoolerStats &db : p.databaseStats)
            w.sample(name, { { "database", db.database } }, double(db.*field) / divisor);
    }
}

void writeSummary(Writer &w, const char *name, const char *help, const LatencySummary &s)
{
    w.family(name, "summary", help);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::pair<const char *, std::uint64_t> quantiles[] = {
        { "0.5", s.p50Us },
        { "0.95", s.p95Us },
        { "0.99", s.p99Us },
    };
    for (const auto &[q, us] : quantiles)
        w.sample(name, { { "quantile", QString::fromLatin1(q) } },
                 s.count ? double(us) / kMicros : nan);
    const QByteArray base(name);
    w.sample(QByteArray(base + "_sum").constData(), s.meanUs * double(s.count) / kMicros);
    w.sample(QByteArray(base + "_count").constData(), double(s.count));
}

void writePool(Writer &w, const PoolStats &p)
{
    w.family("poolscope_pool_connections", "gauge", "Connections of the application's pool.");
    w.sample("poolscope_pool_connections", { { "state", QStringLiteral("idle") } }, p.idle);
    w.sample("poolscope_pool_connections", { { "state", QStringLiteral("in_use") } }, p.inUse);
    w.sample("poolscope_pool_connections", { { "state", QStringLiteral("connecting") } },
             p.connecting);
    w.gauge("poolscope_pool_waiting", "Callers blocked in acquire().", p.waiting);
    w.gauge("poolscope_pool_min", "Configured minimum pool size.", p.minSize);
    w.gauge("poolscope_pool_max", "Configured maximum pool size.", p.maxSize);
    w.gauge("poolscope_pool_peak_connecting", "Most connection attempts in flight at once.",
            p.peakConnecting);
    w.family("poolscope_pool_health", "gauge",
             "1 for the pool's current health state, 0 for the others.");
    for (PoolHealth h : { PoolHealth::Ok, PoolHealth::Reconnecting, PoolHealth::Closed })
        w.sample("poolscope_pool_health", { { "state", poolHealthName(h) } },
                 p.health == h ? 1 : 0);
    w.gauge("poolscope_pool_consecutive_connect_failures",
            "Connection attempts that failed in a row (0 once one succeeds).",
            p.consecutiveConnectFailures);

    w.counter("poolscope_pool_acquires_total", "Successful acquire() calls.", double(p.acquires));
    w.counter("poolscope_pool_acquires_waited_total",
              "Acquires that had to wait: no idle connection at the time.",
              double(p.acquiresWaited));
    w.counter("poolscope_pool_acquire_timeouts_total",
              "acquire() calls that got no connection within their timeout.",
              double(p.acquireTimeouts));
    w.counter("poolscope_pool_connects_total", "Connections the pool opened successfully.",
              double(p.connectsOk));
    // Per kind; what the map does not attribute (should be nothing) is counted as "unknown".
    std::map<QString, std::uint64_t> failed;
    std::uint64_t attributed = 0;
    for (const auto &[kind, n] : p.connectsFailedByKind) {
        failed[errorKindName(kind)] += n;
        attributed += n;
    }
    if (p.connectsFailed > attributed)
        failed[errorKindName(ErrorKind::Unknown)] += p.connectsFailed - attributed;
    if (!failed.empty()) {
        w.family("poolscope_pool_connects_failed_total", "counter",
                 "Failed connection attempts of the pool, by error kind.");
        for (const auto &[kind, n] : failed)
            w.sample("poolscope_pool_connects_failed_total", { { "kind", kind } }, double(n));
    }
    w.counter("poolscope_pool_connections_lost_total",
              "Connections found dead (idle check, checkout, or during use).",
              double(p.connectionsLost));
    w.family("poolscope_pool_connections_destroyed_total", "counter",
             "Connections the pool closed, by reason (lifetime = max_lifetime, idle = max_idle, "
             "broken = returned unusable).");
    w.sample("poolscope_pool_connections_destroyed_total",
             { { "reason", QStringLiteral("broken") } }, double(p.destroyedBroken));
    w.sample("poolscope_pool_connections_destroyed_total", { { "reason", QStringLiteral("idle") } },
             double(p.destroyedIdle));
    w.sample("poolscope_pool_connections_destroyed_total",
             { { "reason", QStringLiteral("lifetime") } }, double(p.destroyedLifetime));
    w.counter("poolscope_pool_leaks_flagged_total",
              "Leases held longer than the leak-detection threshold.", double(p.leaksFlagged));

    writeSummary(w, "poolscope_pool_acquire_wait_seconds",
                 "Time acquire() waited for a connection, since the pool was created.",
                 p.acquireWait);
    writeSummary(w, "poolscope_pool_hold_seconds",
                 "Time a connection was held by its borrower, since the pool was created.",
                 p.holdTime);
    writeSummary(w, "poolscope_pool_connect_seconds",
                 "Time to open a connection, since the pool was created.", p.connectTime);
}

} // namespace

QByteArray escapePrometheusLabelValue(const QString &value)
{
    const QByteArray utf8 = value.toUtf8();
    QByteArray out;
    out.reserve(utf8.size());
    for (const char c : utf8) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

QByteArray formatPrometheusValue(double value)
{
    if (std::isnan(value))
        return QByteArrayLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    // Shortest round-trip digits; plain decimals in the range people read (0.0009, not 9e-04),
    // exponent notation outside it.
    char buffer[64];
    const double magnitude = std::fabs(value);
    const auto result = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15)
        ? std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed)
        : std::to_chars(buffer, buffer + sizeof buffer, value);
    return QByteArray(buffer, result.ptr - buffer);
}

QByteArray renderPrometheusMetrics(const MetricsInput &input)
{
    Writer w;
    const bool up = input.activity.has_value() && !input.lastTickFailed;
    w.gauge("pg_up",
            "Whether the database's latest sample is current (1) or the connection is down or "
            "no sample has been taken yet (0); the database families are left out while 0.",
            up ? 1 : 0);
    w.counter("poolscope_sampler_outages_total",
              "Times the sampler's connection to the database was lost.",
              double(input.samplerOutages));
    if (up) {
        writeDatabase(w, *input.activity);
        writeHolders(w, *input.activity);
    }

    if (input.poolerConfigured)
        w.gauge("poolscope_pgbouncer_up",
                "Whether PgBouncer's admin console answered the latest tick (1) or not (0).",
                input.pooler ? 1 : 0);
    if (input.pooler)
        writePooler(w, *input.pooler);

    if (input.pool)
        writePool(w, *input.pool);
    return w.take();
}

} // namespace poolscope
