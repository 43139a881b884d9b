// poolscope exporter <conninfo|URI> [--listen 127.0.0.1:9187] [--interval 1s]
//                    [--pooler-console <conninfo>] [--allow-remote]
#include "app/commandline.h"
#include "core/db/conninfo.h"
#include "core/exporter/metricsserver.h"
#include "core/exporter/prometheusformat.h"
#include "core/logging/logging.h"
#include "core/sampler/sampler.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>

namespace poolscope::app {
namespace {

// What the latest ticks said, kept on the main thread (the sampler's signals are queued here).
// A sample older than `staleAfter` is not shown: a scrape must not repeat old values as current.
class ExporterState
{
public:
    explicit ExporterState(std::chrono::milliseconds staleAfter, bool poolerConfigured)
        : m_staleAfter(staleAfter)
        , m_poolerConfigured(poolerConfigured)
    {
    }

    void onSampled(const ActivitySample &sample)
    {
        m_activity = sample;
        m_activityAge.start();
        m_failed = false;
    }
    void onPoolerSampled(const PoolerSample &sample)
    {
        m_pooler = sample;
        m_poolerAge.start();
    }
    void onConnectionLost()
    {
        m_failed = true;
        ++m_outages;
    }
    void onConnectionRestored() { m_failed = false; }
    void onPoolerUnavailable() { m_pooler.reset(); }

    MetricsInput input() const
    {
        MetricsInput in;
        if (m_activity && !m_activityAge.hasExpired(m_staleAfter.count()))
            in.activity = m_activity;
        in.lastTickFailed = m_failed;
        in.samplerOutages = m_outages;
        in.poolerConfigured = m_poolerConfigured;
        if (m_pooler && !m_poolerAge.hasExpired(m_staleAfter.count()))
            in.pooler = m_pooler;
        return in;
    }

private:
    std::chrono::milliseconds m_staleAfter;
    bool m_poolerConfigured;
    std::optional<ActivitySample> m_activity;
    QElapsedTimer m_activityAge;
    std::optional<PoolerSample> m_pooler;
    QElapsedTimer m_poolerAge;
    bool m_failed = false;
    std::uint64_t m_outages = 0;
};

} // namespace

int runExporterCommand(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Serve Prometheus metrics of a PostgreSQL server's connections (and of PgBouncer's "
        "pools) at http://<listen>/metrics. Each scrape returns the latest tick of the sampler, "
        "which polls at --interval. Listens on loopback unless --allow-remote is given."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("conninfo"),
                                 QStringLiteral("libpq connection string or URI of the database"));
    const QCommandLineOption listen(QStringLiteral("listen"),
                                    QStringLiteral("host:port to serve on (default "
                                                   "127.0.0.1:9187; port 0 picks a free one)."),
                                    QStringLiteral("ADDRESS"), QStringLiteral("127.0.0.1:9187"));
    const QCommandLineOption interval(
        QStringLiteral("interval"),
        QStringLiteral("How often the sampler polls, 250ms to 60s (default 1s)."),
        QStringLiteral("DURATION"), QStringLiteral("1s"));
    const QCommandLineOption poolerConsole(
        QStringLiteral("pooler-console"),
        QStringLiteral("PgBouncer admin console (dbname=pgbouncer) to sample as well."),
        QStringLiteral("CONNINFO"));
    const QCommandLineOption allowRemote(
        QStringLiteral("allow-remote"),
        QStringLiteral("Allow listening on an address other machines can reach."));
    parser.addOptions({ listen, interval, poolerConsole, allowRemote });
    if (const auto stop = parseCommandLine(parser, args))
        return *stop;
    const QString prefix = QStringLiteral("poolscope exporter: ");
    if (parser.positionalArguments().size() != 1) {
        printError(prefix + QStringLiteral("expected exactly one connection string or URI"));
        return ExitUsage;
    }

    SamplerConfig config;
    config.conninfo = parser.positionalArguments().constFirst();
    if (auto info = ConnInfo::parse(config.conninfo); !info) {
        printError(prefix + info.error().message);
        return ExitUsage;
    }
    if (parser.isSet(poolerConsole)) {
        config.poolerConsoleConninfo = parser.value(poolerConsole);
        if (auto info = ConnInfo::parse(config.poolerConsoleConninfo); !info) {
            printError(prefix + QStringLiteral("--pooler-console: ") + info.error().message);
            return ExitUsage;
        }
    }
    const auto every = parseDuration(parser.value(interval));
    if (!every) {
        printError(prefix
                   + QStringLiteral("--interval takes a duration such as 500ms, 1s or 2m, not '%1'")
                         .arg(parser.value(interval)));
        return ExitUsage;
    }
    config.interval = *every;
    if (const auto error = config.validate()) {
        printError(prefix + error->message);
        return ExitUsage;
    }
    // Refused before anything binds or connects.
    const auto address = ListenAddress::parse(parser.value(listen), parser.isSet(allowRemote));
    if (!address) {
        printError(prefix + QStringLiteral("--listen: ") + address.error());
        return ExitUsage;
    }

    logging::setConsoleLevel(spdlog::level::warn);
    const auto log = logging::logger("exporter");

    // A healthy sampler delivers one sample per interval (plus its round trip, bounded by the
    // statement timeout); two missed ticks make the last one stale.
    ExporterState state(2 * config.interval + config.statementTimeout,
                        !config.poolerConsoleConninfo.isEmpty());
    MetricsServer server([&state] { return renderPrometheusMetrics(state.input()); });
    if (!server.listen(address.value())) {
        printError(prefix + server.errorString());
        return ExitFailure;
    }

    installTerminationHandler();
    registerSamplerMetaTypes();
    Sampler sampler(config);
    // Context object `server`: the signals arrive queued on this (the main) thread.
    QObject::connect(&sampler, &Sampler::sampled, &server,
                     [&state](const ActivitySample &s) { state.onSampled(s); });
    QObject::connect(&sampler, &Sampler::poolerSampled, &server,
                     [&state](const PoolerSample &s) { state.onPoolerSampled(s); });
    QObject::connect(&sampler, &Sampler::connectionLost, &server, [&state, log](const DbError &e) {
        state.onConnectionLost();
        log->warn("database connection lost: {}", e.summary().toStdString());
    });
    QObject::connect(&sampler, &Sampler::connectionRestored, &server, [&state, log] {
        state.onConnectionRestored();
        log->warn("database connection restored");
    });
    QObject::connect(&sampler, &Sampler::poolerUnavailable, &server,
                     [&state, log](const DbError &e) {
                         state.onPoolerUnavailable();
                         log->warn("PgBouncer console unavailable: {}", e.summary().toStdString());
                     });
    sampler.start();
    printLine(QStringLiteral("listening=") + server.metricsUrl());

    if (!terminationRequested())
        QCoreApplication::exec();
    sampler.stop();
    server.close();
    return ExitOk;
}

} // namespace poolscope::app
