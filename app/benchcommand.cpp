// poolscope bench <conninfo|URI> --workers W --connections M --duration SECONDS [--json]
#include "app/commandline.h"
#include "core/bench/benchrunner.h"
#include "core/db/conninfo.h"
#include "core/logging/logging.h"

#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>

namespace poolscope::app {
namespace {

std::optional<int> positiveInt(const QString &text)
{
    bool ok = false;
    const int v = text.toInt(&ok);
    return ok && v > 0 ? std::optional<int>(v) : std::nullopt;
}

QJsonObject percentiles(const LatencySummary &s)
{
    return QJsonObject { { QStringLiteral("p50"), qint64(s.p50Us) },
                         { QStringLiteral("p99"), qint64(s.p99Us) } };
}

} // namespace

int runBenchCommand(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Closed-loop benchmark of PoolScope's connection pool: W worker threads share a pool of M "
        "connections; each iteration is acquire -> SELECT 1 -> release. Load goes to loopback only "
        "unless --allow-remote is given."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("conninfo"),
                                 QStringLiteral("libpq connection string or URI"));
    const QCommandLineOption workers(QStringLiteral("workers"),
                                     QStringLiteral("Worker threads (default 8)."),
                                     QStringLiteral("W"), QStringLiteral("8"));
    const QCommandLineOption connections(
        QStringLiteral("connections"),
        QStringLiteral("Pool size shared by the workers (default 4)."), QStringLiteral("M"),
        QStringLiteral("4"));
    const QCommandLineOption duration(
        QStringLiteral("duration"),
        QStringLiteral("Measured seconds, after a 1 s warm-up (default 10)."),
        QStringLiteral("SECONDS"), QStringLiteral("10"));
    const QCommandLineOption pooled(
        QStringLiteral("pooled"),
        QStringLiteral("The endpoint is a transaction-mode pooler (PgBouncer): no "
                       "startup options, SET LOCAL for statement_timeout."));
    const QCommandLineOption allowRemote(
        QStringLiteral("allow-remote"),
        QStringLiteral("Allow load against a host that is not on this machine."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print one JSON object."));
    parser.addOptions({ workers, connections, duration, pooled, allowRemote, json });
    if (const auto stop = parseCommandLine(parser, args))
        return *stop;
    if (parser.positionalArguments().size() != 1) {
        printError(
            QStringLiteral("poolscope bench: expected exactly one connection string or URI"));
        return ExitUsage;
    }

    BenchOptions options;
    options.conninfo = parser.positionalArguments().constFirst();
    options.endpointRole = parser.isSet(pooled) ? EndpointRole::Pooled : EndpointRole::Direct;
    const auto w = positiveInt(parser.value(workers));
    const auto m = positiveInt(parser.value(connections));
    const auto d = positiveInt(parser.value(duration));
    if (!w || !m || !d) {
        printError(QStringLiteral(
            "poolscope bench: --workers, --connections and --duration take whole numbers > 0"));
        return ExitUsage;
    }
    options.workers = *w;
    options.connections = *m;
    options.duration = std::chrono::seconds(*d);

    auto info = ConnInfo::parse(options.conninfo);
    if (!info) {
        printError(QStringLiteral("poolscope bench: ") + info.error().message);
        return ExitUsage;
    }
    if (!info->targetsLoopbackOnly() && !parser.isSet(allowRemote)) {
        printError(
            QStringLiteral(
                "poolscope bench: %1 is not on this machine; benchmark load goes to loopback "
                "only unless you pass --allow-remote")
                .arg(info->host()));
        return ExitUsage;
    }

    if (!parser.isSet(json))
        logging::setConsoleLevel(spdlog::level::warn);
    installTerminationHandler();
    auto result = runBench(options, &terminationRequested());
    if (!result) {
        printError(QStringLiteral("poolscope bench: %1\n  remedy: %2")
                       .arg(result.error().summary(), result.error().remedy));
        return ExitFailure;
    }
    const BenchResult &r = result.value();
    if (parser.isSet(json)) {
        const QJsonObject out {
            { QStringLiteral("ops_per_sec"), r.opsPerSec },
            { QStringLiteral("acquire_wait_us"), percentiles(r.acquireWait) },
            { QStringLiteral("query_us"), percentiles(r.query) },
            { QStringLiteral("errors"), qint64(r.errors) },
        };
        printLine(QString::fromUtf8(QJsonDocument(out).toJson(QJsonDocument::Compact)));
    } else {
        printLine(QStringLiteral("workers %1, connections %2, %3 s measured")
                      .arg(options.workers)
                      .arg(options.connections)
                      .arg(r.measuredSeconds, 0, 'f', 2));
        printLine(QStringLiteral("ops/s              %1").arg(r.opsPerSec, 0, 'f', 0));
        printLine(QStringLiteral("acquire wait (µs)  p50 %1  p99 %2")
                      .arg(r.acquireWait.p50Us)
                      .arg(r.acquireWait.p99Us));
        printLine(QStringLiteral("query (µs)         p50 %1  p99 %2")
                      .arg(r.query.p50Us)
                      .arg(r.query.p99Us));
        printLine(QStringLiteral("errors             %1").arg(r.errors));
        for (const auto &[kind, n] : r.errorsByKind)
            printLine(QStringLiteral("  %1  %2").arg(errorKindName(kind)).arg(n));
    }
    return r.errors == 0 ? ExitOk : ExitFailure;
}

} // namespace poolscope::app
