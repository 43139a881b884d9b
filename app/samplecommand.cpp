// poolscope sample <conninfo|URI> [--interval 1s] [--count N | --duration 60s] [--format jsonl|csv]
//                  [--pooler-console <conninfo>]
#include "app/commandline.h"
#include "core/logging/logging.h"
#include "core/monitor/incidentsummary.h"
#include "core/sampler/sampler.h"
#include "core/util/csv.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

namespace poolscope::app {
namespace {

enum class Format { Jsonl, Csv };

const QStringList &csvColumns()
{
    static const QStringList columns = {
        QStringLiteral("ts"),
        QStringLiteral("total"),
        QStringLiteral("active"),
        QStringLiteral("idle"),
        QStringLiteral("idle_in_transaction"),
        QStringLiteral("idle_in_transaction_aborted"),
        QStringLiteral("waiting"),
        QStringLiteral("max_connections"),
        QStringLiteral("reserved"),
        QStringLiteral("available"),
        QStringLiteral("error"),
    };
    return columns;
}

QString timestamp(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

// Who holds the connections: the top holders, largest first, then "(other)" for the rest.
QJsonArray breakdownToJson(const QList<BreakdownEntry> &entries)
{
    QJsonArray list;
    for (const BreakdownEntry &e : entries)
        list.append(QJsonObject {
            { QStringLiteral("key"), e.isOther ? QStringLiteral("(other)") : e.key },
            { QStringLiteral("total"), e.total },
            { QStringLiteral("active"), e.active },
            { QStringLiteral("idle"), e.idle },
            { QStringLiteral("idle_in_transaction"), e.idleInTransaction },
            { QStringLiteral("oldest_connection_s"), e.oldestConnectionSeconds },
            { QStringLiteral("longest_idle_in_transaction_s"), e.longestIdleInTransactionSeconds },
        });
    return list;
}

QJsonObject toJson(const ActivitySample &s)
{
    QJsonObject applications;
    for (const BreakdownEntry &e : s.byApplication)
        applications.insert(e.isOther ? QStringLiteral("(other)") : e.key, e.total);
    QJsonObject o {
        { QStringLiteral("ts"), timestamp(s.takenAt) },
        { QStringLiteral("total"), s.counts.total },
        { QStringLiteral("active"), s.counts.active },
        { QStringLiteral("idle"), s.counts.idle },
        { QStringLiteral("idle_in_transaction"), s.counts.idleInTransaction },
        { QStringLiteral("idle_in_transaction_aborted"), s.counts.idleInTransactionAborted },
        { QStringLiteral("waiting"), s.counts.waiting },
        { QStringLiteral("other"), s.counts.other },
        { QStringLiteral("max_connections"), s.limits.maxConnections },
        { QStringLiteral("reserved"), s.limits.superuserReserved + s.limits.reservedConnections },
        { QStringLiteral("usable"), s.limits.usableByOrdinaryRoles() },
        { QStringLiteral("available"), s.available },
        { QStringLiteral("longest_query_s"), s.longestQuerySeconds },
        { QStringLiteral("longest_transaction_s"), s.longestTransactionSeconds },
        { QStringLiteral("longest_idle_in_transaction_s"), s.longestIdleInTransactionSeconds },
        { QStringLiteral("queries_hidden"), s.queriesHidden },
        { QStringLiteral("applications"), applications },
        { QStringLiteral("by_application"), breakdownToJson(s.byApplication) },
        { QStringLiteral("by_user"), breakdownToJson(s.byUser) },
        { QStringLiteral("by_database"), breakdownToJson(s.byDatabase) },
        { QStringLiteral("by_client"), breakdownToJson(s.byClient) },
    };
    return o;
}

// transactions_per_s from the source that knows: PgBouncer's exact counters when a console is
// given, else the server's trailing average (pg_stat_database arrives up to 60 s late); null
// while there is no measurement, never a 0 that was not measured.
void insertRates(QJsonObject &o, const Rates &server, bool consoleGiven,
                 const std::optional<PoolerSample> &pooler)
{
    auto number = [](bool known, double value) {
        return known ? QJsonValue(value) : QJsonValue(QJsonValue::Null);
    };
    o.insert(QStringLiteral("server_transactions_per_s"),
             number(server.valid, server.transactionsPerSecond));
    o.insert(QStringLiteral("server_rate_window_s"), server.windowSeconds);
    o.insert(QStringLiteral("server_rate_pending"),
             server.pending == Rates::Pending::WindowFilling
                 ? QJsonValue(QStringLiteral("window filling"))
                 : server.pending == Rates::Pending::NotFlushed
                 ? QJsonValue(QStringLiteral("not flushed: pg_stat_database lags what "
                                             "pg_stat_activity shows"))
                 : QJsonValue(QJsonValue::Null));
    // What pg_stat_activity saw end over the same window (one per backend and tick at most).
    o.insert(QStringLiteral("server_transactions_per_s_at_least"),
             number(server.pending != Rates::Pending::WindowFilling, server.seenAtLeastPerSecond));
    if (!consoleGiven) {
        o.insert(QStringLiteral("transactions_per_s"),
                 number(server.valid, server.transactionsPerSecond));
        o.insert(QStringLiteral("transactions_per_s_source"), QStringLiteral("server"));
        return;
    }
    const bool seen = pooler.has_value();
    const bool rated = seen && pooler->stats.ratesValid;
    const PoolerStats stats = seen ? pooler->stats : PoolerStats {};
    o.insert(QStringLiteral("transactions_per_s"), number(rated, stats.transactionsPerSecond));
    o.insert(QStringLiteral("transactions_per_s_source"), QStringLiteral("pgbouncer"));
    o.insert(
        QStringLiteral("pooler"),
        QJsonObject {
            { QStringLiteral("transactions_per_s"), number(rated, stats.transactionsPerSecond) },
            { QStringLiteral("queries_per_s"), number(rated, stats.queriesPerSecond) },
            { QStringLiteral("avg_wait_ms"),
              number(rated && stats.avgWaitMs >= 0, stats.avgWaitMs) },
            { QStringLiteral("cl_active"), number(seen, seen ? pooler->clActive() : 0) },
            { QStringLiteral("cl_waiting"), number(seen, seen ? pooler->clWaiting() : 0) },
            { QStringLiteral("sv_active"), number(seen, seen ? pooler->svActive() : 0) },
            { QStringLiteral("sv_idle"), number(seen, seen ? pooler->svIdle() : 0) },
            { QStringLiteral("maxwait_s"), number(seen, seen ? pooler->maxWaitSeconds() : 0) },
        });
}

QJsonObject gapToJson(const DbError &e)
{
    return QJsonObject {
        { QStringLiteral("ts"), timestamp(QDateTime::currentDateTimeUtc()) },
        { QStringLiteral("gap"), true },
        { QStringLiteral("error"), errorToJson(e) },
    };
}

QString toCsv(const ActivitySample &s)
{
    return QStringList { timestamp(s.takenAt),
                         QString::number(s.counts.total),
                         QString::number(s.counts.active),
                         QString::number(s.counts.idle),
                         QString::number(s.counts.idleInTransaction),
                         QString::number(s.counts.idleInTransactionAborted),
                         QString::number(s.counts.waiting),
                         QString::number(s.limits.maxConnections),
                         QString::number(s.limits.superuserReserved + s.limits.reservedConnections),
                         QString::number(s.available),
                         QString() }
        .join(QLatin1Char(','));
}

QString gapToCsv(const DbError &e)
{
    QStringList fields(csvColumns().size());
    fields.first() = timestamp(QDateTime::currentDateTimeUtc());
    fields.last() = csvField(e.summary());
    return fields.join(QLatin1Char(','));
}

} // namespace

int runSampleCommand(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Samples pg_stat_activity (client backends by state, limits, headroom, ages, rates) once "
        "per "
        "interval and prints one record per tick: JSON lines or CSV. A failed tick prints a gap "
        "record with the typed error; sampling resumes when the server answers again.\n\n"
        "JSON records list who holds the connections in by_application, by_user, by_database and "
        "by_client (client address, \"local\" for a unix socket): the top 10 holders, largest "
        "first, each {key, total, active, idle, idle_in_transaction, oldest_connection_s, "
        "longest_idle_in_transaction_s}, then one \"(other)\" entry for the rest.\n\n"
        "transactions_per_s comes from PgBouncer's SHOW STATS with --pooler-console "
        "(transactions_per_s_source \"pgbouncer\", exact, plus a \"pooler\" object), else from "
        "pg_stat_database as a 60 s trailing average (\"server\"): PostgreSQL flushes those "
        "counters up to 60 s late. null while there is no measurement yet, never an unmeasured "
        "0."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("conninfo"),
                                 QStringLiteral("libpq connection string or URI"));
    const QCommandLineOption interval(
        QStringLiteral("interval"),
        QStringLiteral("Time between ticks, 250ms to 60s (default 1s)."),
        QStringLiteral("duration"), QStringLiteral("1s"));
    const QCommandLineOption count(QStringLiteral("count"), QStringLiteral("Stop after N records."),
                                   QStringLiteral("N"));
    const QCommandLineOption duration(QStringLiteral("duration"),
                                      QStringLiteral("Stop after this long, e.g. 60s."),
                                      QStringLiteral("duration"));
    const QCommandLineOption format(QStringLiteral("format"),
                                    QStringLiteral("jsonl (default) or csv."),
                                    QStringLiteral("format"), QStringLiteral("jsonl"));
    const QCommandLineOption poolerConsole(
        QStringLiteral("pooler-console"),
        QStringLiteral("PgBouncer admin console (dbname=pgbouncer, a stats_users role): "
                       "transactions_per_s then comes from its SHOW STATS counters (exact) and "
                       "each record gets a \"pooler\" object."),
        QStringLiteral("conninfo"));
    parser.addOptions({ interval, count, duration, format, poolerConsole });
    if (const auto stop = parseCommandLine(parser, args))
        return *stop;
    auto usage = [](const QString &message) {
        printError(QStringLiteral("poolscope sample: ") + message);
        return int(ExitUsage);
    };
    if (parser.positionalArguments().size() != 1)
        return usage(QStringLiteral("expected exactly one connection string or URI"));
    if (parser.isSet(count) && parser.isSet(duration))
        return usage(QStringLiteral("--count and --duration exclude each other"));

    SamplerConfig config;
    config.conninfo = parser.positionalArguments().constFirst();
    config.poolerConsoleConninfo = parser.value(poolerConsole);
    const auto every = parseDuration(parser.value(interval));
    if (!every)
        return usage(QStringLiteral("--interval takes a duration such as 500ms, 1s or 2m"));
    config.interval = *every;
    int maxRecords = -1;
    if (parser.isSet(count)) {
        bool ok = false;
        maxRecords = parser.value(count).toInt(&ok);
        if (!ok || maxRecords <= 0)
            return usage(QStringLiteral("--count takes a whole number > 0"));
    }
    std::optional<std::chrono::milliseconds> stopAfter;
    if (parser.isSet(duration)) {
        stopAfter = parseDuration(parser.value(duration));
        if (!stopAfter || stopAfter->count() <= 0)
            return usage(QStringLiteral("--duration takes a duration such as 60s or 5m"));
    }
    Format out = Format::Jsonl;
    if (parser.value(format) == QLatin1String("csv"))
        out = Format::Csv;
    else if (parser.value(format) != QLatin1String("jsonl"))
        return usage(QStringLiteral("--format is jsonl or csv"));
    if (auto error = config.validate())
        return usage(error->message);

    logging::setConsoleLevel(spdlog::level::warn);
    installTerminationHandler();
    if (out == Format::Csv)
        printLine(csvColumns().join(QLatin1Char(',')));

    int records = 0;
    int good = 0;
    Sampler sampler(config);
    auto emitRecord = [&](const QString &line) {
        printLine(line);
        if (maxRecords > 0 && ++records >= maxRecords)
            QCoreApplication::quit();
    };
    // "summary": the line the window's headline shows, from the same values (set incident.pooler
    // from the console's sample, when there is one, before the record is written).
    IncidentInput incident;
    incident.server = serverLabel(config.conninfo);
    auto withSummary = [&](QJsonObject record) {
        record.insert(QStringLiteral("summary"), summarizeIncident(incident).text);
        return QString::fromUtf8(QJsonDocument(record).toJson(QJsonDocument::Compact));
    };
    // Each tick reads the console before the database, so a record carries this tick's pooler
    // sample; it is used once (a console that stops answering gives nulls, not stale values).
    std::optional<PoolerSample> pooler;
    QObject::connect(&sampler, &Sampler::poolerSampled, QCoreApplication::instance(),
                     [&](const PoolerSample &p) { pooler = p; });
    auto withRates = [&](QJsonObject record, const ActivitySample &s) {
        insertRates(record, s.rates, !config.poolerConsoleConninfo.isEmpty(), pooler);
        pooler.reset();
        return record;
    };
    QObject::connect(
        &sampler, &Sampler::sampled, QCoreApplication::instance(), [&](const ActivitySample &s) {
            ++good;
            incident.activity = s;
            incident.serverError.reset();
            incident.pooler = pooler;
            emitRecord(out == Format::Jsonl ? withSummary(withRates(toJson(s), s)) : toCsv(s));
        });
    // The first failure of an outage is logged (with its remedy) on stderr by the sampler.
    QObject::connect(&sampler, &Sampler::tickFailed, QCoreApplication::instance(),
                     [&](const DbError &e) {
                         incident.serverError = e;
                         emitRecord(out == Format::Jsonl ? withSummary(gapToJson(e)) : gapToCsv(e));
                     });
    if (stopAfter)
        QTimer::singleShot(*stopAfter, QCoreApplication::instance(), &QCoreApplication::quit);
    sampler.start();
    QCoreApplication::exec();
    sampler.stop();
    return good > 0 ? ExitOk : ExitFailure;
}

} // namespace poolscope::app
