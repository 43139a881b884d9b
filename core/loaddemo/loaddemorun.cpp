// runLoadDemo(): the coordinating thread. Per target: open the monitor, measure the baseline,
// start the engine, snapshot every interval (engine counters + server side), stop at the
// duration (+ drain), close everything, measure the count after, summarise.
#include "core/check/netprobe_p.h"
#include "core/db/conninfo.h"
#include "core/loaddemo/loaddemoengine_p.h"
#include "core/loaddemo/loaddemomonitor.h"
#include "core/logging/logging.h"
#include "core/timeseries/timeseriesstore.h"

#include <sys/resource.h>

#include <cmath>
#include <limits>
#include <thread>

namespace poolscope {
namespace {

using namespace std::chrono_literals;
using loaddemo::Clock;
using loaddemo::Engine;
using loaddemo::EngineSettings;
using loaddemo::Monitor;
using loaddemo::WorkerStats;

double cpuSeconds()
{
    rusage u {};
    ::getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
        + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double secondsBetween(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

QString displayNameOf(const ConnInfo &info)
{
    const QString host = info.host();
    const QString db = info.value(QStringLiteral("dbname"));
    return QStringLiteral("%1:%2%3")
        .arg(host.isEmpty() || host.startsWith(QLatin1Char('/')) ? QStringLiteral("local socket")
                                                                 : host)
        .arg(info.port())
        .arg(db.isEmpty() ? QString() : QLatin1Char('/') + db);
}

struct Prepared
{
    EngineSettings settings;
    QString displayName;
    QString database;
    std::optional<DbError> error;
};

// The instances' conninfo: one host (the first), resolved once here so that libpq's
// non-blocking connect never blocks on DNS in a worker (hostaddr + host keeps SNI and
// verify-full working).
Prepared prepare(const LoadDemoTarget &target, const LoadDemoConfig &config)
{
    Prepared p;
    p.settings.config = config;
    auto parsed = ConnInfo::parse(target.conninfo);
    if (!parsed) {
        p.error = parsed.error();
        return p;
    }
    ConnInfo info = parsed.value();
    p.displayName = displayNameOf(info);
    p.database = !target.database.isEmpty()  ? target.database
        : info.has(QStringLiteral("dbname")) ? info.value(QStringLiteral("dbname"))
                                             : info.value(QStringLiteral("user"));
    if (!info.has(QStringLiteral("application_name")))
        info.set(QStringLiteral("application_name"), QStringLiteral("poolscope-demo"));
    const QString host = info.host();
    if (info.has(QStringLiteral("host")))
        info.set(QStringLiteral("host"), host);
    info.set(QStringLiteral("port"), QString::number(info.port()));
    const bool socket =
        host.isEmpty() || host.startsWith(QLatin1Char('/')) || host.startsWith(QLatin1Char('@'));
    if (!socket && !info.has(QStringLiteral("hostaddr")) && !netprobe::isIpLiteral(host)) {
        auto resolved = netprobe::resolve(host, info.port(), Clock::now() + 5s, 5000);
        if (!resolved) {
            p.error = resolved.error();
            return p;
        }
        info.set(QStringLiteral("hostaddr"), resolved->front().text);
    }
    p.settings.setConninfo(info.entries());
    if (config.holdMode == LoadDemoHold::ClientTransaction)
        p.settings.holdSql = QByteArrayLiteral("BEGIN");
    else if (config.hold.count() == 0)
        p.settings.holdSql = QByteArrayLiteral("SELECT 1");
    else
        p.settings.holdSql = QStringLiteral("SELECT pg_sleep(%1)")
                                 .arg(double(config.hold.count()) / 1000.0, 0, 'f', 3)
                                 .toLatin1();
    return p;
}

// Store times must increase strictly per series.
qint64 storeTime(qint64 &last)
{
    qint64 t = QDateTime::currentMSecsSinceEpoch();
    if (t <= last)
        t = last + 1;
    last = t;
    return t;
}

void appendSnapshot(TimeSeriesStore &store, const LoadDemoSnapshot &s,
                    const LoadDemoErrorCounts &previous, double intervalSeconds)
{
    namespace n = loaddemoseries;
    auto ms = [](std::uint64_t us) {
        return double(us) / 1000.0;
    };
    auto perSecond = [intervalSeconds](qint64 now, qint64 before) {
        return intervalSeconds > 0 ? double(now - before) / intervalSeconds : 0.0;
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto known = [nan](int v) {
        return v < 0 ? nan : double(v);
    };
    TimeSeriesStore::Values v {
        { n::ServerConnections, known(s.serverConnections) },
        { n::ServerLimit, known(s.serverLimit) },
        { n::ClientConnections, double(s.clientConnections) },
        { n::InFlight, double(s.inFlight) },
        { n::CompletedPerSecond, s.completedPerSecond },
        { n::ErrorsTooManyConnections,
          perSecond(s.errors.tooManyConnections, previous.tooManyConnections) },
        { n::ErrorsAcquireTimeout, perSecond(s.errors.acquireTimeout, previous.acquireTimeout) },
        { n::ErrorsPooler, perSecond(s.errors.pooler, previous.pooler) },
        { n::ErrorsOther, perSecond(s.errors.other, previous.other) },
    };
    // Percentiles only when requests finished in the window: an empty window is no 0 ms.
    if (s.latency.count > 0) {
        v.append({ n::LatencyP50, ms(s.latency.p50Us) });
        v.append({ n::LatencyP95, ms(s.latency.p95Us) });
        v.append({ n::LatencyP99, ms(s.latency.p99Us) });
    }
    if (s.acquireWait.count > 0)
        v.append({ n::AcquireWaitP95, ms(s.acquireWait.p95Us) });
    if (s.poolerClientsWaiting >= 0) {
        v.append({ n::PoolerClientsWaiting, double(s.poolerClientsWaiting) });
        v.append({ n::PoolerServersActive, double(s.poolerServersActive) });
    }
    store.append(s.tMs, v);
}

LoadDemoSnapshot snapshotOf(const WorkerStats &w, int runIndex, const QString &label,
                            double elapsed, double windowSeconds)
{
    LoadDemoSnapshot s;
    s.runIndex = runIndex;
    s.target = label;
    s.elapsedSeconds = elapsed;
    s.arrivalsDone = w.arrivalsDone;
    s.requests = w.requests;
    s.ok = w.ok;
    s.errors = w.errors;
    s.inFlight = w.inFlight;
    s.waiting = w.waiting;
    s.clientConnections = w.clientConnections;
    s.connecting = w.connecting;
    s.warmInstances = w.warmInstances;
    s.completedPerSecond = windowSeconds > 0 ? double(w.finishedWindow) / windowSeconds : 0;
    s.latency = LatencySummary::of(w.latencyWindow);
    s.acquireWait = LatencySummary::of(w.acquireWindow);
    return s;
}

bool isCancelled(const std::atomic<bool> *cancel)
{
    return cancel && cancel->load();
}

struct RunContext
{
    const LoadDemoRequest &request;
    const LoadDemoConfig &config;
    const std::atomic<bool> *cancel;
    const LoadDemoCallbacks &callbacks;
    const std::atomic<bool> *abandon;
    qint64 lastStoreMs = 0;
};

LoadDemoRunSummary runTarget(RunContext &ctx, int index, const LoadDemoTarget &target)
{
    const LoadDemoConfig &config = ctx.config;
    LoadDemoRunSummary summary;
    summary.runIndex = index;
    summary.target = target.label;
    summary.pooled = target.pooled;
    summary.config = config;
    summary.poolerPoolSize = target.poolerPoolSize;
    summary.startedAt = QDateTime::currentDateTimeUtc();
    Prepared prepared = prepare(target, config);
    summary.displayName = prepared.displayName;
    if (prepared.error) {
        summary.fatal = prepared.error;
        return summary;
    }
    Monitor monitor;
    if (auto error = monitor.open(target, prepared.database)) {
        summary.fatal = error;
        summary.warnings << QStringLiteral("the monitoring connection failed, nothing ran: %1")
                                .arg(error->summary());
        return summary;
    }
    summary.serverLimit = monitor.serverLimit();
    summary.baselineServerConnections = monitor.serverConnections();
    summary.peakServerConnections = summary.baselineServerConnections;
    TimeSeriesStore *store = ctx.request.store;
    if (store) {
        // A gap in the demo's own series only: the next run's line starts afresh.
        TimeSeriesStore::Values gap;
        for (const QString &name : loaddemoseries::all())
            gap.append({ name, std::numeric_limits<double>::quiet_NaN() });
        store->append(storeTime(ctx.lastStoreMs), gap);
    }
    if (ctx.callbacks.runStarted)
        ctx.callbacks.runStarted(summary);

    const double cpuBefore = cpuSeconds();
    prepared.settings.start = Clock::now();
    const Clock::time_point start = prepared.settings.start;
    Engine engine(std::move(prepared.settings));
    QString engineError;
    if (!engine.start(&engineError)) {
        summary.fatal = makeError(ErrorKind::Unknown, engineError);
        return summary;
    }
    monitor.startSampling(config.snapshotInterval);
    logging::logger("demo")->info(
        "load demo: {} started ({} instances, pool {}:{}, {}/s, hold {} ms, {} ms)",
        target.label.toStdString(), config.instances, config.pool.minSize, config.pool.maxSize,
        config.ratePerSecond, qint64(config.hold.count()), qint64(config.duration.count()));

    LoadDemoErrorCounts previousErrors;
    Clock::time_point previousTick = start;
    Clock::time_point arrivalsStopped = start + config.duration;
    const Clock::time_point hardEnd = start + config.duration + config.drainGrace;
    for (int tick = 1;; ++tick) {
        const Clock::time_point due = start + config.snapshotInterval * tick;
        bool finished = false;
        while (Clock::now() < due) {
            if (isCancelled(ctx.cancel) && !summary.cancelled) {
                summary.cancelled = true;
                arrivalsStopped = std::min(arrivalsStopped, Clock::now());
                engine.stopArrivals();
            }
            const WorkerStats quick = engine.stats(false);
            if ((quick.arrivalsDone && quick.inFlight == 0) || summary.cancelled
                || Clock::now() >= hardEnd) {
                finished = true;
                break;
            }
            std::this_thread::sleep_for(std::min<Clock::duration>(due - Clock::now(), 20ms));
        }
        const Clock::time_point now = Clock::now();
        const WorkerStats w = engine.stats(true);
        const double windowSeconds = secondsBetween(previousTick, now);
        previousTick = now;
        LoadDemoSnapshot s =
            snapshotOf(w, index, target.label, secondsBetween(start, now), windowSeconds);
        const loaddemo::ServerFigures server = monitor.latest();
        s.serverConnections = server.serverConnections;
        s.serverLimit = summary.serverLimit;
        s.poolerClientsWaiting = server.pooler.clientsWaiting;
        s.poolerServersActive = server.pooler.serversActive;
        s.tMs = storeTime(ctx.lastStoreMs);
        summary.peakClientConnections =
            std::max(summary.peakClientConnections, s.clientConnections);
        if (store)
            appendSnapshot(*store, s, previousErrors, windowSeconds);
        previousErrors = s.errors;
        if (ctx.callbacks.snapshot)
            ctx.callbacks.snapshot(s);
        if (finished || (w.arrivalsDone && w.inFlight == 0) || now >= hardEnd)
            break;
    }

    engine.stop(); // every connection closed, workers joined
    const Clock::time_point end = Clock::now();
    monitor.stopSampling();
    const loaddemo::ServerFigures server = monitor.latest();
    summary.peakServerConnections =
        std::max(summary.peakServerConnections, server.peakServerConnections);
    summary.peakPoolerClientsWaiting = server.peakClientsWaiting;
    const WorkerStats total = engine.stats(false);
    summary.clientCpuSeconds = cpuSeconds() - cpuBefore;
    std::optional<DbError> poolerError;
    if (isCancelled(ctx.abandon)) {
        summary.cancelled = true;
        summary.warnings << QStringLiteral("abandoned: every connection was closed, the server "
                                           "side was not measured again");
        summary.serverConnectionsAfter = -1;
    } else {
        summary.serverConnectionsAfter =
            monitor.settle(std::max(0, summary.baselineServerConnections),
                           ctx.request.settleTimeout, &poolerError);
    }
    if (poolerError)
        summary.warnings << QStringLiteral("RECONNECT on the pooler console failed; PgBouncer "
                                           "keeps its idle server connections: %1")
                                .arg(poolerError->summary());
    summary.returnedToBaseline = summary.serverConnectionsAfter >= 0
        && summary.baselineServerConnections >= 0
        && summary.serverConnectionsAfter <= summary.baselineServerConnections;
    if (!summary.returnedToBaseline)
        summary.warnings << QStringLiteral("server connections after the run: %1, baseline %2")
                                .arg(summary.serverConnectionsAfter)
                                .arg(summary.baselineServerConnections);

    // One last point after the close, so that the charts show the drop.
    LoadDemoSnapshot last =
        snapshotOf(total, index, target.label, secondsBetween(start, Clock::now()), 0);
    last.latency = {};
    last.acquireWait = {};
    last.inFlight = 0;
    last.waiting = 0;
    last.serverConnections = summary.serverConnectionsAfter;
    last.serverLimit = summary.serverLimit;
    last.tMs = storeTime(ctx.lastStoreMs);
    if (store)
        appendSnapshot(*store, last, previousErrors, 0);
    if (ctx.callbacks.snapshot)
        ctx.callbacks.snapshot(last);

    summary.requests = total.requests;
    summary.ok = total.ok;
    summary.errors = total.errors;
    summary.abandoned = total.abandoned;
    summary.firstErrors = total.firstErrors;
    summary.latency = LatencySummary::of(total.latencyAll);
    summary.acquireWait = LatencySummary::of(total.acquireAll);
    summary.dispatchLag = LatencySummary::of(total.dispatchLag);
    summary.connectionsOpened = total.connectionsOpened;
    summary.connectionsClosed = total.connectionsClosed;
    summary.coldStarts = total.coldStarts;
    summary.durationSeconds = secondsBetween(start, end);
    const double period =
        std::max(1e-3, secondsBetween(start + config.warmup, std::min(arrivalsStopped, end)));
    summary.measuredRequests = total.measuredRequests;
    summary.measuredOk = total.measuredOk;
    summary.offeredRatePerSecond = double(total.measuredRequests) / period;
    summary.achievedRatePerSecond = double(total.measuredOk) / period;
    for (const QString &w : std::as_const(monitor.warnings))
        summary.warnings << w;
    logging::logger("demo")->info(
        "load demo: {} finished: {} requests, {} ok, {} errors, peak {} server "
        "connections",
        target.label.toStdString(), summary.requests, summary.ok, summary.errors.total(),
        summary.peakServerConnections);
    return summary;
}

} // namespace

LoadDemoReport runLoadDemo(const LoadDemoRequest &request, const std::atomic<bool> *cancel,
                           const LoadDemoCallbacks &callbacks, const std::atomic<bool> *abandon)
{
    LoadDemoReport report;
    report.startedAt = QDateTime::currentDateTimeUtc();
    LoadDemoRequest checked = request;
    auto limits = applyLoadDemoLimits(checked);
    if (!limits) {
        report.refused = limits.error();
        report.finishedAt = QDateTime::currentDateTimeUtc();
        return report;
    }
    report.warnings = limits.value();
    for (const QString &w : std::as_const(report.warnings))
        logging::logger("demo")->warn("load demo: {}", w.toStdString());
    RunContext ctx { checked, checked.config, cancel, callbacks, abandon };
    for (int i = 0; i < checked.targets.size(); ++i) {
        if (isCancelled(cancel)) {
            report.cancelled = true;
            break;
        }
        LoadDemoRunSummary summary = runTarget(ctx, i, checked.targets.at(i));
        summary.warnings = report.warnings + summary.warnings;
        if (callbacks.runFinished)
            callbacks.runFinished(summary);
        report.runs.append(summary);
        if (summary.cancelled) {
            report.cancelled = true;
            break;
        }
    }
    report.finishedAt = QDateTime::currentDateTimeUtc();
    return report;
}

} // namespace poolscope
