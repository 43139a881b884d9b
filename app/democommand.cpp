// poolscope demo [--target direct|pooled|both|<URI>] [--instances K] [--pool MIN:MAX] [--rate R]
//                [--hold-ms H] [--duration S] [--max-connections N] [--pool-size N] [--json]
//                [--scenario NAME] [--compare-pool MIN:MAX] [--allow-remote] ...
// The load demo: starts a sandbox sized by --max-connections/--pool-size (unless a URI
// is given), runs the simulated serverless fan-out against its direct and/or pooled endpoint,
// prints live figures and a side-by-side summary (or JSON), and stops every server it started.
#include "app/commandline.h"
#include "app/demooutput.h"
#include "core/db/conninfo.h"
#include "core/db/redaction.h"
#include "core/loaddemo/loaddemo.h"
#include "core/logging/logging.h"
#include "core/sandbox/sandbox.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>
#include <utility>

namespace poolscope::app {
namespace {

constexpr const char *kName = "poolscope demo: ";

std::optional<int> intIn(const QString &text, int low, int high)
{
    bool ok = false;
    const int value = text.trimmed().toInt(&ok);
    if (!ok || value < low || value > high)
        return std::nullopt;
    return value;
}

// Seconds as a plain number ("10", "2.5") or a duration ("1m").
std::optional<std::chrono::milliseconds> seconds(const QString &text)
{
    bool ok = false;
    const double s = text.trimmed().toDouble(&ok);
    if (ok)
        return s > 0 && s <= 86400
            ? std::optional(std::chrono::milliseconds(std::llround(s * 1000)))
            : std::nullopt;
    return parseDuration(text);
}

} // namespace

int runDemoCommand(const QStringList &args)
{
    QCommandLineParser parser;
    QStringList names;
    for (const LoadDemoScenario &s : loadDemoScenarios())
        names << s.name;
    parser.setApplicationDescription(QStringLiteral(
        "Load demo: K simulated serverless instances, each with its own pool of real "
        "connections, receive requests at a total rate (Poisson) that each hold a connection "
        "for H ms. Starts a sandbox (PostgreSQL + PgBouncer) sized by --max-connections and "
        "--pool-size and runs against its direct and/or pooled endpoint, one after the other; "
        "counts errors by class (53300 too many connections, acquire timeout, pooler, other), "
        "server connections measured server-side, latency percentiles; stops every server it "
        "started. Exit 0: ran; 1: a run failed or connections did not return to the baseline; "
        "2: bad command line or refused target."));
    parser.addHelpOption();
    const QCommandLineOption target(QStringLiteral("target"),
                                    QStringLiteral("direct, pooled, both (default) or a "
                                                   "connection URI (needs --allow-remote when "
                                                   "not on this machine)."),
                                    QStringLiteral("T"), QStringLiteral("both"));
    const QCommandLineOption scenario(QStringLiteral("scenario"),
                                      QStringLiteral("Preset (other options override it): %1.")
                                          .arg(names.join(QLatin1String(", "))),
                                      QStringLiteral("NAME"));
    const QCommandLineOption instances(QStringLiteral("instances"),
                                       QStringLiteral("Simulated instances, 1-%1 (default 10).")
                                           .arg(LoadDemoLimits::kMaxInstances),
                                       QStringLiteral("K"));
    const QCommandLineOption pool(QStringLiteral("pool"),
                                  QStringLiteral("Each instance's pool min:max (default 2:10)."),
                                  QStringLiteral("MIN:MAX"));
    const QCommandLineOption rate(QStringLiteral("rate"),
                                  QStringLiteral("Total requests per second (default 50)."),
                                  QStringLiteral("R"));
    const QCommandLineOption hold(QStringLiteral("hold-ms"),
                                  QStringLiteral("How long each request holds its connection "
                                                 "(default 50)."),
                                  QStringLiteral("H"));
    const QCommandLineOption holdMode(
        QStringLiteral("hold-mode"),
        QStringLiteral("sleep: SELECT pg_sleep(H) (default); transaction: BEGIN, wait H on the "
                       "client, COMMIT."),
        QStringLiteral("MODE"));
    const QCommandLineOption duration(QStringLiteral("duration"),
                                      QStringLiteral("Seconds of arrivals per target (default "
                                                     "10)."),
                                      QStringLiteral("S"));
    const QCommandLineOption acquire(QStringLiteral("acquire-timeout-ms"),
                                     QStringLiteral("Instance pool acquire timeout (default "
                                                    "5000)."),
                                     QStringLiteral("MS"));
    const QCommandLineOption burst(QStringLiteral("burst-ms"),
                                   QStringLiteral("Burst: every instance gets one request "
                                                  "within this many ms at the start (cold "
                                                  "starts); 0: off."),
                                   QStringLiteral("MS"));
    const QCommandLineOption warmup(QStringLiteral("warmup"),
                                    QStringLiteral("Seconds at the start left out of the "
                                                   "percentiles and rates (e.g. the burst "
                                                   "ramp); default 0."),
                                    QStringLiteral("S"));
    const QCommandLineOption idleScale(QStringLiteral("instance-idle-ms"),
                                       QStringLiteral("Scale an instance to zero after this "
                                                      "long without requests (0: never)."),
                                       QStringLiteral("MS"));
    const QCommandLineOption workers(QStringLiteral("workers"),
                                     QStringLiteral("Event-loop threads, 1-%1 (default 2).")
                                         .arg(LoadDemoLimits::kMaxWorkerThreads),
                                     QStringLiteral("N"));
    const QCommandLineOption seed(QStringLiteral("seed"),
                                  QStringLiteral("Random seed of the arrivals (default: clock)."),
                                  QStringLiteral("N"));
    const QCommandLineOption maxConnections(QStringLiteral("max-connections"),
                                            QStringLiteral("The sandbox's max_connections "
                                                           "(default 100, or the scenario's)."),
                                            QStringLiteral("N"));
    const QCommandLineOption poolSize(QStringLiteral("pool-size"),
                                      QStringLiteral("The sandbox PgBouncer's default_pool_size "
                                                     "(default 20, or the scenario's)."),
                                      QStringLiteral("N"));
    const QCommandLineOption maxClientConn(
        QStringLiteral("max-client-conn"),
        QStringLiteral("The sandbox PgBouncer's max_client_conn (default: 2000, raised to "
                       "instances x pool max + 16 when that is more; kept as given when set)."),
        QStringLiteral("N"));
    const QCommandLineOption monitor(QStringLiteral("monitor"),
                                     QStringLiteral("With a URI target: where to read "
                                                    "pg_stat_activity (default: the target)."),
                                     QStringLiteral("URI"));
    const QCommandLineOption allowRemote(QStringLiteral("allow-remote"),
                                         QStringLiteral("Allow a target that is not on this "
                                                        "machine (instances, pool, rate, hold and "
                                                        "duration are then capped)."));
    const QCommandLineOption comparePool(
        QStringLiteral("compare-pool"),
        QStringLiteral("Run every target again with this pool size (pool size A vs B, side by "
                       "side)."),
        QStringLiteral("MIN:MAX"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print one JSON object."));
    parser.addOptions({ comparePool });
    parser.addOptions({ target,   scenario,      instances, pool,        rate,
                        hold,     holdMode,      duration,  acquire,     burst,
                        warmup,   idleScale,     workers,   seed,        maxConnections,
                        poolSize, maxClientConn, monitor,   allowRemote, json });
    if (const auto stop = parseCommandLine(parser, args))
        return *stop;
    auto usage = [](const QString &message) {
        printError(QLatin1String(kName) + message);
        return int(ExitUsage);
    };
    if (!parser.positionalArguments().isEmpty())
        return usage(QStringLiteral("unexpected argument '%1'")
                         .arg(parser.positionalArguments().constFirst()));

    LoadDemoConfig config;
    int sandboxMax = 100;
    int sandboxPool = 20;
    QString which = parser.value(target);
    if (parser.isSet(scenario)) {
        const auto preset = loadDemoScenario(parser.value(scenario));
        if (!preset)
            return usage(QStringLiteral("unknown scenario '%1' (one of %2)")
                             .arg(parser.value(scenario), names.join(QLatin1String(", "))));
        config = preset->config;
        sandboxMax = preset->sandboxMaxConnections;
        sandboxPool = preset->sandboxPoolSize;
        if (!parser.isSet(target))
            which = preset->targets;
    }
    if (parser.isSet(instances)) {
        const auto v = intIn(parser.value(instances), 1, LoadDemoLimits::kMaxInstances);
        if (!v)
            return usage(
                QStringLiteral("--instances takes 1-%1").arg(LoadDemoLimits::kMaxInstances));
        config.instances = *v;
    }
    // MIN:MAX with 0 <= MIN <= MAX <= the cap, for --pool and --compare-pool.
    const auto poolSizes = [](const QString &text) -> std::optional<std::pair<int, int>> {
        const QStringList parts = text.split(QLatin1Char(':'));
        const auto lo =
            parts.size() == 2 ? intIn(parts[0], 0, LoadDemoLimits::kMaxPoolSize) : std::nullopt;
        const auto hi =
            parts.size() == 2 ? intIn(parts[1], 1, LoadDemoLimits::kMaxPoolSize) : std::nullopt;
        if (!lo || !hi || *lo > *hi)
            return std::nullopt;
        return std::pair { *lo, *hi };
    };
    for (const QCommandLineOption *option : { &pool, &comparePool }) {
        if (parser.isSet(*option) && !poolSizes(parser.value(*option)))
            return usage(QStringLiteral("--%1 takes MIN:MAX with 0 <= MIN <= MAX <= %2, e.g. 2:10")
                             .arg(option->names().constFirst())
                             .arg(LoadDemoLimits::kMaxPoolSize));
    }
    if (parser.isSet(pool))
        std::tie(config.pool.minSize, config.pool.maxSize) = *poolSizes(parser.value(pool));
    // Pool size B of --compare-pool as a plain config (a std::optional<std::pair> here trips
    // GCC 12's -Wmaybe-uninitialized at -O2): maxSize 0 = no second run.
    LoadDemoPoolProfile secondPool = config.pool;
    secondPool.maxSize = 0;
    if (parser.isSet(comparePool))
        std::tie(secondPool.minSize, secondPool.maxSize) = *poolSizes(parser.value(comparePool));
    if (parser.isSet(rate)) {
        bool ok = false;
        config.ratePerSecond = parser.value(rate).toDouble(&ok);
        if (!ok || !(config.ratePerSecond > 0)
            || config.ratePerSecond > LoadDemoLimits::kMaxRatePerSecond)
            return usage(QStringLiteral("--rate takes requests/s above 0 and at most %1")
                             .arg(LoadDemoLimits::kMaxRatePerSecond));
    }
    auto msOption = [&](const QCommandLineOption &o, int high, std::chrono::milliseconds *out) {
        if (!parser.isSet(o))
            return true;
        const auto v = intIn(parser.value(o), 0, high);
        if (!v)
            return false;
        *out = std::chrono::milliseconds(*v);
        return true;
    };
    if (!msOption(hold, int(LoadDemoLimits::kMaxHold.count()), &config.hold))
        return usage(QStringLiteral("--hold-ms takes 0-%1").arg(LoadDemoLimits::kMaxHold.count()));
    if (!msOption(acquire, 600000, &config.pool.acquireTimeout)
        || config.pool.acquireTimeout.count() < 1)
        return usage(QStringLiteral("--acquire-timeout-ms takes 1-600000"));
    if (!msOption(burst, int(LoadDemoLimits::kMaxBurstRamp.count()), &config.burstRamp))
        return usage(
            QStringLiteral("--burst-ms takes 0-%1").arg(LoadDemoLimits::kMaxBurstRamp.count()));
    if (!msOption(idleScale, 3'600'000, &config.pool.instanceIdleTimeout))
        return usage(QStringLiteral("--instance-idle-ms takes 0-3600000"));
    if (parser.isSet(holdMode)) {
        const QString m = parser.value(holdMode);
        if (m != QLatin1String("sleep") && m != QLatin1String("transaction"))
            return usage(QStringLiteral("--hold-mode takes sleep or transaction"));
        config.holdMode = m == QLatin1String("sleep") ? LoadDemoHold::ServerSleep
                                                      : LoadDemoHold::ClientTransaction;
    }
    if (parser.isSet(duration)) {
        const auto d = seconds(parser.value(duration));
        if (!d || *d > LoadDemoLimits::kMaxDuration || d->count() < 100)
            return usage(QStringLiteral("--duration takes seconds from 0.1 to %1, e.g. 10")
                             .arg(LoadDemoLimits::kMaxDuration.count() / 1000));
        config.duration = *d;
    }
    if (parser.isSet(warmup)) {
        const auto d = seconds(parser.value(warmup));
        if (!d || *d >= config.duration)
            return usage(QStringLiteral("--warmup takes seconds shorter than --duration"));
        config.warmup = *d;
    }
    if (parser.isSet(workers)) {
        const auto v = intIn(parser.value(workers), 1, LoadDemoLimits::kMaxWorkerThreads);
        if (!v)
            return usage(
                QStringLiteral("--workers takes 1-%1").arg(LoadDemoLimits::kMaxWorkerThreads));
        config.workerThreads = *v;
    }
    if (parser.isSet(seed)) {
        bool ok = false;
        config.seed = parser.value(seed).toULongLong(&ok);
        if (!ok)
            return usage(QStringLiteral("--seed takes a whole number"));
    }
    int maxClient = 2000;
    for (auto [option, out, low] : { std::tuple { &maxConnections, &sandboxMax, 5 },
                                     std::tuple { &poolSize, &sandboxPool, 1 },
                                     std::tuple { &maxClientConn, &maxClient, 10 } }) {
        if (!parser.isSet(*option))
            continue;
        const auto v = intIn(parser.value(*option), low, 10000);
        if (!v)
            return usage(
                QStringLiteral("--%1 takes %2-10000").arg(option->names().constFirst()).arg(low));
        *out = *v;
    }

    LoadDemoRequest request;
    request.config = config;
    request.allowRemote = parser.isSet(allowRemote);
    const bool sandboxTarget = which == QLatin1String("direct") || which == QLatin1String("pooled")
        || which == QLatin1String("both");
    if (!sandboxTarget) {
        const auto info = ConnInfo::parse(which);
        if (!info)
            return usage(
                QStringLiteral("--target takes direct, pooled, both or a connection URI: %1")
                    .arg(info.error().message));
        registerSecret(info->value(QStringLiteral("password")));
        LoadDemoTarget t;
        t.label = info->host().isEmpty() ? QStringLiteral("local") : info->host();
        t.conninfo = which;
        t.monitorConninfo = parser.value(monitor);
        request.targets << t;
        // Refused before anything starts (bad bounds, remote without --allow-remote): exit 2.
        LoadDemoRequest probe = request;
        if (auto checked = applyLoadDemoLimits(probe); !checked)
            return usage(checked.error());
    }

    const bool asJson = parser.isSet(json);
    logging::setConsoleLevel(spdlog::level::warn);
    installTerminationHandler();

    // The sandbox (when the target is one of its endpoints) lives until this function returns:
    // its destructor stops PgBouncer and PostgreSQL, also after Ctrl-C.
    std::optional<sandbox::Sandbox> box;
    QJsonValue sandboxJson(QJsonValue::Null);
    if (sandboxTarget) {
        sandbox::SandboxOptions options;
        options.maxConnections = sandboxMax;
        options.poolSize = sandboxPool;
        // Given explicitly, it is kept (a max_client_conn below the demand shows PgBouncer's
        // own refusal, 08P01); by default it makes room for every instance's pool.
        options.maxClientConnections = parser.isSet(maxClientConn)
            ? maxClient
            : std::max(maxClient,
                       config.instances * std::max(config.pool.maxSize, secondPool.maxSize) + 16);
        if (options.maxConnections < options.superuserReservedConnections + 2)
            return usage(QStringLiteral("--max-connections must leave room above the %1 "
                                        "superuser-reserved slots")
                             .arg(options.superuserReservedConnections));
        request.targets = {}; // filled once the endpoints are known
        LoadDemoRequest probe = request;
        LoadDemoTarget loopback;
        loopback.label = QStringLiteral("direct");
        loopback.conninfo = QStringLiteral("host=127.0.0.1");
        probe.targets << loopback;
        if (auto checked = applyLoadDemoLimits(probe); !checked)
            return usage(checked.error());
        if (!asJson)
            printLine(QStringLiteral("starting a sandbox: max_connections %1, PgBouncer pool size "
                                     "%2, max_client_conn %3")
                          .arg(options.maxConnections)
                          .arg(options.poolSize)
                          .arg(options.maxClientConnections));
        box.emplace();
        const auto started = box->start(options);
        if (!started) {
            printError(
                QLatin1String(kName)
                + QStringLiteral("cannot start the sandbox: %1").arg(started.error().message));
            return ExitFailure;
        }
        qputenv("PGPASSFILE", started->passFile.toLocal8Bit());
        request.targets = loadDemoSandboxTargets(started.value(), which, options.poolSize);
        sandboxJson =
            QJsonObject { { QStringLiteral("max_connections"), options.maxConnections },
                          { QStringLiteral("pool_size"), options.poolSize },
                          { QStringLiteral("max_client_conn"), options.maxClientConnections } };
    }

    if (!asJson)
        printLine(QStringLiteral("load demo: %1 instances x pool %2:%3, %4 requests/s holding %5 "
                                 "ms for %6 s per target (Ctrl-C stops and cleans up)")
                      .arg(config.instances)
                      .arg(config.pool.minSize)
                      .arg(config.pool.maxSize)
                      .arg(config.ratePerSecond)
                      .arg(config.hold.count())
                      .arg(double(config.duration.count()) / 1000.0));
    LoadDemoCallbacks callbacks;
    int tick = 0;
    if (!asJson) {
        callbacks.runStarted = [](const LoadDemoRunSummary &r) {
            printLine(
                QStringLiteral("\n%1 (%2): baseline %3 server connection(s)")
                    .arg(r.target, r.displayName, loadDemoCount(r.baselineServerConnections)));
        };
        callbacks.snapshot = [&tick](const LoadDemoSnapshot &s) {
            if (++tick % 4 == 0) // about once a second
                printLine(loadDemoLiveLine(s));
        };
    }
    LoadDemoReport report = runLoadDemo(request, &terminationRequested(), callbacks);
    if (secondPool.maxSize > 0 && !report.refused && !report.cancelled) {
        // Pool size A vs B: every target again with the second pool, its runs after the first.
        request.config.pool.minSize = secondPool.minSize;
        request.config.pool.maxSize = secondPool.maxSize;
        if (!asJson)
            printLine(QStringLiteral("\nagain with pool %1:%2")
                          .arg(secondPool.minSize)
                          .arg(secondPool.maxSize));
        const LoadDemoReport second = runLoadDemo(request, &terminationRequested(), callbacks);
        report.runs += second.runs;
        report.cancelled = second.cancelled;
        report.refused = second.refused;
        for (const QString &w : second.warnings) {
            if (!report.warnings.contains(w))
                report.warnings << w;
        }
        report.finishedAt = second.finishedAt;
    }
    if (report.refused) {
        printError(QLatin1String(kName) + *report.refused);
        return ExitUsage;
    }
    if (asJson) {
        QJsonArray runs;
        for (const LoadDemoRunSummary &r : report.runs)
            runs.append(loadDemoRunJson(r));
        const QJsonObject out {
            { QStringLiteral("runs"), runs },
            { QStringLiteral("config"),
              loadDemoConfigJson(report.runs.isEmpty() ? config
                                                       : report.runs.constFirst().config) },
            { QStringLiteral("sandbox"), sandboxJson },
            { QStringLiteral("cancelled"), report.cancelled },
            { QStringLiteral("warnings"), QJsonArray::fromStringList(report.warnings) }
        };
        printLine(
            redactSecrets(QString::fromUtf8(QJsonDocument(out).toJson(QJsonDocument::Compact))));
    } else {
        printLine(QString());
        printLoadDemoSummary(report);
    }
    if (box)
        box->stop();
    for (const LoadDemoRunSummary &r : report.runs) {
        if (r.fatal || !r.returnedToBaseline)
            return ExitFailure;
    }
    return report.runs.isEmpty() ? ExitFailure : ExitOk;
}

} // namespace poolscope::app
