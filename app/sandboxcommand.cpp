// `poolscope sandbox`: a throwaway PostgreSQL 15 + PgBouncer for manual tests and scripts.
#include "app/commandline.h"
#include "core/logging/logging.h"
#include "core/sandbox/sandbox.h"

#include <QCommandLineParser>
#include <QCoreApplication>

namespace poolscope::app {
namespace {

bool parsePositive(const QCommandLineParser &parser, const QCommandLineOption &option, int minimum,
                   int maximum, int *value)
{
    if (!parser.isSet(option))
        return true;
    bool ok = false;
    const int parsed = parser.value(option).toInt(&ok);
    if (!ok || parsed < minimum || parsed > maximum) {
        printError(
            QStringLiteral("poolscope sandbox: --%1 must be an integer from %2 to %3, not '%4'")
                .arg(option.names().constFirst())
                .arg(minimum)
                .arg(maximum)
                .arg(parser.value(option)));
        return false;
    }
    *value = parsed;
    return true;
}

} // namespace

int runSandboxCommand(const QStringList &args)
{
    sandbox::SandboxOptions options;

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Runs a throwaway PostgreSQL 15 and a PgBouncer (transaction mode) in front of it on\n"
        "127.0.0.1, until SIGINT or SIGTERM. Once both accept connections it prints\n"
        "direct=<uri>, pooled=<uri> and passfile=<pgpass file> (then admin=, console=, dir=,\n"
        "postgres_pid= and pgbouncer_pid=). Use: PGPASSFILE=<passfile> psql <uri>"));
    const QCommandLineOption help({ QStringLiteral("h"), QStringLiteral("help") },
                                  QStringLiteral("Show this help."));
    const QCommandLineOption maxConnections(
        QStringLiteral("max-connections"),
        QStringLiteral("PostgreSQL max_connections (default %1).").arg(options.maxConnections),
        QStringLiteral("N"));
    const QCommandLineOption poolSize(
        QStringLiteral("pool-size"),
        QStringLiteral("PgBouncer default_pool_size (default %1).").arg(options.poolSize),
        QStringLiteral("N"));
    const QCommandLineOption latency(
        QStringLiteral("latency-ms"),
        QStringLiteral("Delay the data to and from both endpoints by N ms in each direction (0 to "
                       "1000, default 0: none) through a TCP relay on 127.0.0.1; the URIs then "
                       "point at the relays. The TCP handshake itself is not delayed."),
        QStringLiteral("N"));
    parser.addOption(help);
    parser.addOption(maxConnections);
    parser.addOption(poolSize);
    parser.addOption(latency);

    if (const auto stop = parseCommandLine(parser, args))
        return *stop;
    if (!parser.positionalArguments().isEmpty()) {
        printError(QStringLiteral("poolscope sandbox: unexpected argument '%1'")
                       .arg(parser.positionalArguments().constFirst()));
        return ExitUsage;
    }
    if (!parsePositive(parser, maxConnections, options.superuserReservedConnections + 2, 10000,
                       &options.maxConnections)
        || !parsePositive(parser, poolSize, 1, 10000, &options.poolSize)
        || !parsePositive(parser, latency, 0, 1000, &options.latencyMs)) {
        return ExitUsage;
    }

    logging::setConsoleLevel(spdlog::level::info);
    installTerminationHandler();

    sandbox::Sandbox sandbox;
    const auto started = sandbox.start(options);
    if (!started) {
        printError(
            QStringLiteral("poolscope sandbox: cannot start: %1").arg(started.error().message));
        return ExitFailure;
    }
    const sandbox::SandboxEndpoints &endpoints = started.value();
    printLine(QStringLiteral("direct=") + endpoints.directUri);
    printLine(QStringLiteral("pooled=") + endpoints.pooledUri);
    printLine(QStringLiteral("passfile=") + endpoints.passFile);
    printLine(QStringLiteral("admin=") + endpoints.adminUri);
    printLine(QStringLiteral("console=") + endpoints.poolerConsoleUri);
    printLine(QStringLiteral("dir=") + endpoints.directory);
    printLine(QStringLiteral("postgres_pid=%1").arg(endpoints.postgresPid));
    printLine(QStringLiteral("pgbouncer_pid=%1").arg(endpoints.bouncerPid));

    // A signal that arrived during start() is still queued in the self-pipe: exec() returns at
    // once in that case.
    if (!terminationRequested())
        QCoreApplication::exec();
    logging::logger("app")->info("stopping the sandbox");
    sandbox.stop();
    return ExitOk;
}

} // namespace poolscope::app
