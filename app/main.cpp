// poolscope: the dashboard and its command line. Subcommands each parse their own options;
// this file only dispatches.
#include "app/commandline.h"
#include "app/windowoptions.h"
#include "core/logging/logging.h"
#include "ui/uiversion.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <functional>
#include <map>

using namespace poolscope;

namespace {

struct Subcommand
{
    const char *summary;
    std::function<int(const QStringList &)> run;
};

const std::map<QString, Subcommand> &subcommands()
{
    static const std::map<QString, Subcommand> table = {
        { QStringLiteral("sandbox"),
          { "Run a throwaway PostgreSQL 15 + PgBouncer on 127.0.0.1 and print how to reach them",
            app::runSandboxCommand } },
        { QStringLiteral("bench"),
          { "Closed-loop benchmark of the connection pool: W workers share M connections",
            app::runBenchCommand } },
        { QStringLiteral("exporter"),
          { "Serve Prometheus /metrics: connections, headroom, PgBouncer pools (loopback by "
            "default)",
            app::runExporterCommand } },
        { QStringLiteral("sample"),
          { "Sample pg_stat_activity once per interval: one JSON line (or CSV row) per tick",
            app::runSampleCommand } },
        { QStringLiteral("check"),
          { "Check a connection string: endpoint kind (Neon pooled/direct, ...), findings, live "
            "checks",
            app::runCheckCommand } },
        { QStringLiteral("advise"),
          { "Pool sizing: DATABASE_POOL_MIN_SIZE/MAX_SIZE for a connection limit and instance "
            "count",
            app::runAdviseCommand } },
        { QStringLiteral("coldstart"),
          { "Cold-start test: first-connection latency by phase (DNS/TCP/TLS/auth/query), p50/p95",
            app::runColdStartCommand } },
        { QStringLiteral("demo"),
          { "Load demo: K serverless instances x pool vs max_connections, direct vs pooler, live",
            app::runDemoCommand } },
    };
    return table;
}

QString topLevelHelp()
{
    QString text =
        QStringLiteral("Usage: poolscope [--demo | <conninfo|URI>] [window options]\n"
                       "       poolscope <command> [options]\n\n"
                       "PoolScope - a dashboard for PostgreSQL connection pooling.\n\n"
                       "The window:\n"
                       "  poolscope --demo            on an embedded sandbox (PostgreSQL + "
                       "PgBouncer) with a demo load\n"
                       "  poolscope <conninfo|URI>    watching that server\n"
                       "  poolscope                   the last profile, or the connect dialog\n\n"
                       "Window options (before or after the connection string):\n")
        + app::windowOptionsHelp() + QStringLiteral("\nCommands:\n");
    for (const auto &[name, command] : subcommands())
        text += QStringLiteral("  %1  %2\n").arg(name, -10).arg(QString::fromUtf8(command.summary));
    text += QStringLiteral("\nRun 'poolscope <command> --help' for the options of a command.\n"
                           "Options:\n  -h, --help     Show this help.\n"
                           "  -v, --version  Show the version and the linked library versions.\n");
    return text;
}

} // namespace

int main(int argc, char *argv[])
{
    // Before the checks of the load demo (instances x pool max against it) and before the
    // sandbox's PgBouncer inherits it; the window's Load demo page needs it as much as the CLI.
    app::raiseFileDescriptorLimit();
    QStringList rawArgs;
    for (int i = 1; i < argc; ++i)
        rawArgs << QString::fromLocal8Bit(argv[i]);
    if (app::isWindowInvocation(rawArgs))
        return app::runDashboard(argc, argv);

    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("poolscope"));
    QCoreApplication::setOrganizationName(QStringLiteral("PoolScope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(POOLSCOPE_VERSION));
    logging::installQtMessageHandler();

    const QStringList args = QCoreApplication::arguments();
    if (args.at(1) == QLatin1String("-h") || args.at(1) == QLatin1String("--help")) {
        app::printLine(topLevelHelp());
        return app::ExitOk;
    }
    if (args.at(1) == QLatin1String("-v") || args.at(1) == QLatin1String("--version")) {
        app::printLine(QStringLiteral("poolscope %1 (%2)")
                           .arg(QCoreApplication::applicationVersion(), ui::guiLibraryVersions()));
        return app::ExitOk;
    }
    const auto it = subcommands().find(args.at(1));
    if (it == subcommands().end()) {
        app::printError(
            QStringLiteral("poolscope: unknown command or option '%1'. Run 'poolscope --help'.")
                .arg(args.at(1)));
        return app::ExitUsage;
    }
    QStringList subArgs = args.mid(2);
    subArgs.prepend(QStringLiteral("poolscope ") + args.at(1));
    return it->second.run(subArgs);
}
