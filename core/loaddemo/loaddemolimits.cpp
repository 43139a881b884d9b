// The load demo's bounds (local caps refuse, remote caps clamp), its scenario presets, the
// error classes and the series names. No network here.
#include "core/db/conninfo.h"
#include "core/loaddemo/loaddemo.h"
#include "core/sandbox/sandbox.h"

#include <sys/resource.h>

#include <cmath>

namespace poolscope {
namespace {

using std::chrono::milliseconds;
using Limits = LoadDemoLimits;

// Descriptors the run needs besides its client connections (monitor, console, epoll, logs...).
constexpr int kSpareDescriptors = 64;

QString ms(milliseconds d)
{
    return QStringLiteral("%1 ms").arg(qint64(d.count()));
}

std::optional<QString> checkConfig(const LoadDemoConfig &c)
{
    const LoadDemoPoolProfile &p = c.pool;
    if (c.instances < 1 || c.instances > Limits::kMaxInstances)
        return QStringLiteral("instances must be 1-%1 (got %2)")
            .arg(Limits::kMaxInstances)
            .arg(c.instances);
    if (p.maxSize < 1 || p.maxSize > Limits::kMaxPoolSize)
        return QStringLiteral("pool max must be 1-%1 (got %2)")
            .arg(Limits::kMaxPoolSize)
            .arg(p.maxSize);
    if (p.minSize < 0 || p.minSize > p.maxSize)
        return QStringLiteral("pool min must be 0-max (got %1:%2)").arg(p.minSize).arg(p.maxSize);
    if (qint64(c.instances) * p.maxSize > Limits::kMaxClientConnections)
        return QStringLiteral("instances x pool max = %1 client connections, above the cap of %2")
            .arg(qint64(c.instances) * p.maxSize)
            .arg(Limits::kMaxClientConnections);
    if (!(c.ratePerSecond > 0) || c.ratePerSecond > Limits::kMaxRatePerSecond)
        return QStringLiteral("rate must be above 0 and at most %1 requests/s (got %2)")
            .arg(Limits::kMaxRatePerSecond)
            .arg(c.ratePerSecond);
    if (c.hold.count() < 0 || c.hold > Limits::kMaxHold)
        return QStringLiteral("hold must be 0-%1 (got %2)").arg(ms(Limits::kMaxHold), ms(c.hold));
    if (c.duration.count() < 100 || c.duration > Limits::kMaxDuration)
        return QStringLiteral("duration must be 100 ms-%1 (got %2)")
            .arg(ms(Limits::kMaxDuration), ms(c.duration));
    if (c.drainGrace.count() < 0 || c.drainGrace > Limits::kMaxDrainGrace)
        return QStringLiteral("drain grace must be 0-%1").arg(ms(Limits::kMaxDrainGrace));
    if (c.burstRamp.count() < 0 || c.burstRamp > Limits::kMaxBurstRamp)
        return QStringLiteral("burst ramp must be 0-%1").arg(ms(Limits::kMaxBurstRamp));
    if (c.warmup.count() < 0 || c.warmup >= c.duration)
        return QStringLiteral("warmup must be 0 or shorter than the duration");
    if (c.workerThreads < 1 || c.workerThreads > Limits::kMaxWorkerThreads)
        return QStringLiteral("worker threads must be 1-%1").arg(Limits::kMaxWorkerThreads);
    if (c.snapshotInterval.count() < 50 || c.snapshotInterval.count() > 5000)
        return QStringLiteral("snapshot interval must be 50 ms-5 s");
    if (p.acquireTimeout.count() < 1 || p.acquireTimeout.count() > 600000)
        return QStringLiteral("acquire timeout must be 1 ms-600 s");
    if (p.connectTimeout.count() < 100 || p.connectTimeout.count() > 600000)
        return QStringLiteral("connect timeout must be 100 ms-600 s");
    for (const milliseconds d :
         { p.maxLifetime, p.maxIdle, p.instanceIdleTimeout, p.instanceLifetime }) {
        if (d.count() < 0)
            return QStringLiteral("lifetimes and idle timeouts must not be negative");
    }
    return std::nullopt;
}

template<typename T>
void clampTo(T &value, T cap, const QString &what, const QString &shown, QStringList &warnings)
{
    if (value > cap) {
        warnings << QStringLiteral("remote target: %1 capped at %2 (asked %3)")
                        .arg(what, shown.arg(cap), shown.arg(value));
        value = cap;
    }
}

LoadDemoConfig base(int instances, int minSize, int maxSize, double rate, int holdMs, int durationS)
{
    LoadDemoConfig c;
    c.instances = instances;
    c.pool.minSize = minSize;
    c.pool.maxSize = maxSize;
    c.ratePerSecond = rate;
    c.hold = milliseconds(holdMs);
    c.duration = milliseconds(durationS * 1000);
    return c;
}

} // namespace

Result<QStringList, QString> applyLoadDemoLimits(LoadDemoRequest &request)
{
    if (request.targets.isEmpty() || request.targets.size() > 4)
        return QStringLiteral("give 1 to 4 targets (got %1)").arg(request.targets.size());
    bool remote = false;
    QString remoteHost;
    for (const LoadDemoTarget &t : request.targets) {
        const QStringList all { t.conninfo, t.monitorConninfo, t.poolerConsoleConninfo,
                                t.poolerAdminConninfo };
        for (qsizetype i = 0; i < all.size(); ++i) {
            const QString &conninfo = all.at(i);
            if (i > 0 && conninfo.isEmpty())
                continue; // optional ones
            const auto info = ConnInfo::parse(conninfo);
            if (!info)
                return QStringLiteral("target %1: %2").arg(t.label, info.error().message);
            if (!info->targetsLoopbackOnly() && !remote) {
                remote = true;
                remoteHost = info->host();
            }
        }
    }
    LoadDemoConfig &c = request.config;
    if (remote && !request.allowRemote)
        return QStringLiteral("%1 is not on this machine; the load demo opens up to %2 "
                              "connections, so it runs against loopback only unless remote "
                              "targets are allowed (--allow-remote)")
            .arg(remoteHost)
            .arg(qint64(c.instances) * c.pool.maxSize);
    if (const auto problem = checkConfig(c))
        return *problem;

    QStringList warnings;
    if (remote) {
        const QString plain = QStringLiteral("%1");
        clampTo(c.instances, Limits::kRemoteMaxInstances, QStringLiteral("instances"), plain,
                warnings);
        clampTo(c.pool.maxSize, Limits::kRemoteMaxPoolSize, QStringLiteral("pool max"), plain,
                warnings);
        c.pool.minSize = std::min(c.pool.minSize, c.pool.maxSize);
        if (c.instances * c.pool.maxSize > Limits::kRemoteMaxClientConnections) {
            const int before = c.instances;
            c.instances = std::max(1, Limits::kRemoteMaxClientConnections / c.pool.maxSize);
            warnings << QStringLiteral("remote target: instances capped at %1 (asked %2) so that "
                                       "instances x pool max stays within %3 connections")
                            .arg(c.instances)
                            .arg(before)
                            .arg(Limits::kRemoteMaxClientConnections);
        }
        clampTo(c.ratePerSecond, Limits::kRemoteMaxRatePerSecond, QStringLiteral("rate"),
                QStringLiteral("%1/s"), warnings);
        qint64 hold = c.hold.count();
        clampTo(hold, qint64(Limits::kRemoteMaxHold.count()), QStringLiteral("hold"),
                QStringLiteral("%1 ms"), warnings);
        c.hold = milliseconds(hold);
        qint64 duration = c.duration.count();
        clampTo(duration, qint64(Limits::kRemoteMaxDuration.count()), QStringLiteral("duration"),
                QStringLiteral("%1 ms"), warnings);
        c.duration = milliseconds(duration);
        warnings << QStringLiteral("remote target %1: real load on a real database, at most %2 "
                                   "instances x %3 connections, %4 requests/s for %5 s")
                        .arg(remoteHost)
                        .arg(c.instances)
                        .arg(c.pool.maxSize)
                        .arg(c.ratePerSecond)
                        .arg(double(c.duration.count()) / 1000.0);
    }

    // Every client connection is a descriptor in this process.
    rlimit limit {};
    const qint64 needed = qint64(c.instances) * c.pool.maxSize + kSpareDescriptors;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
        && qint64(limit.rlim_cur) < needed)
        return QStringLiteral("instances x pool max needs about %1 file descriptors, but the "
                              "limit is %2 (raise it with ulimit -n, or lower instances or pool "
                              "max)")
            .arg(needed)
            .arg(qint64(limit.rlim_cur));
    return warnings;
}

QList<LoadDemoScenario> loadDemoScenarios()
{
    QList<LoadDemoScenario> list;
    {
        LoadDemoScenario s;
        s.name = QStringLiteral("local-dev");
        s.title = QStringLiteral("Local development (pool 5/20)");
        s.description = QStringLiteral(
            "The guide's local profile: a few long-lived processes, each with a 5/20 pool, "
            "against a server with max_connections 100. Fits direct; the pooler adds nothing.");
        s.config = base(3, 5, 20, 100, 20, 10);
        list << s;
    }
    {
        LoadDemoScenario s;
        s.name = QStringLiteral("serverless");
        s.title = QStringLiteral("Serverless (pool 2/10)");
        s.description = QStringLiteral(
            "The guide's serverless profile: 20 function instances with a 2/10 pool each (200 "
            "possible connections) against max_connections 100; bursts exhaust the direct "
            "endpoint, the pooler absorbs them.");
        s.config = base(20, 2, 10, 300, 50, 10);
        list << s;
    }
    {
        LoadDemoScenario s;
        s.name = QStringLiteral("small-plan");
        s.title = QStringLiteral("Small compute (max_connections 20)");
        s.description = QStringLiteral(
            "A small-plan-like limit: max_connections 20 (17 for the app, one of them taken by "
            "the demo's monitor). 10 instances x pool 2/5 open 20 connections when they start "
            "and up to 50 under load: direct fails with 53300; the pooler serves the same load "
            "with 12 server connections.");
        s.config = base(10, 2, 5, 100, 100, 10);
        s.sandboxMaxConnections = 20;
        s.sandboxPoolSize = 12;
        list << s;
    }
    {
        LoadDemoScenario s;
        s.name = QStringLiteral("fanout-50");
        s.title = QStringLiteral("Direct vs pooler at 50 instances");
        s.description = QStringLiteral(
            "50 instances x pool 2/10 (500 possible connections) at 500 requests/s holding "
            "50 ms, against max_connections 100: the direct endpoint runs out of slots, the "
            "pooler serves it with 20 server connections.");
        s.config = base(50, 2, 10, 500, 50, 15);
        list << s;
    }
    {
        LoadDemoScenario s;
        s.name = QStringLiteral("burst");
        s.title = QStringLiteral("Burst: 200 cold instances in 1 s");
        s.description = QStringLiteral(
            "A scale-out: 200 instances come up within one second (each a cold start opening a "
            "1/3 pool) while 200 requests/s arrive; instances scale to zero after 3 s idle.");
        s.config = base(200, 1, 3, 200, 50, 10);
        s.config.burstRamp = milliseconds(1000);
        s.config.pool.instanceIdleTimeout = milliseconds(3000);
        list << s;
    }
    return list;
}

std::optional<LoadDemoScenario> loadDemoScenario(const QString &name)
{
    for (const LoadDemoScenario &s : loadDemoScenarios()) {
        if (s.name == name)
            return s;
    }
    return std::nullopt;
}

LoadDemoErrorClass loadDemoErrorClass(const DbError &error)
{
    switch (error.kind) {
    case ErrorKind::TooManyConnections:
        return LoadDemoErrorClass::TooManyConnections;
    case ErrorKind::AcquireTimeout:
        return LoadDemoErrorClass::AcquireTimeout;
    case ErrorKind::PoolerError:
        return LoadDemoErrorClass::Pooler;
    default:
        return LoadDemoErrorClass::Other;
    }
}

QString loadDemoErrorClassName(LoadDemoErrorClass c)
{
    switch (c) {
    case LoadDemoErrorClass::TooManyConnections:
        return QStringLiteral("too_many_connections");
    case LoadDemoErrorClass::AcquireTimeout:
        return QStringLiteral("acquire_timeout");
    case LoadDemoErrorClass::Pooler:
        return QStringLiteral("pooler");
    case LoadDemoErrorClass::Other:
        break;
    }
    return QStringLiteral("other");
}

QStringList loaddemoseries::all()
{
    return { ServerConnections,    ServerLimit,
             ClientConnections,    InFlight,
             CompletedPerSecond,   LatencyP50,
             LatencyP95,           LatencyP99,
             AcquireWaitP95,       ErrorsTooManyConnections,
             ErrorsAcquireTimeout, ErrorsPooler,
             ErrorsOther,          PoolerClientsWaiting,
             PoolerServersActive };
}

QList<LoadDemoTarget> loadDemoSandboxTargets(const sandbox::SandboxEndpoints &endpoints,
                                             const QString &which, int poolerPoolSize)
{
    QList<LoadDemoTarget> targets;
    auto admin = ConnInfo::parse(endpoints.adminUri);
    QString poolerAdmin;
    if (admin) {
        admin->set(QStringLiteral("port"), QString::number(endpoints.bouncerPort));
        admin->set(QStringLiteral("dbname"), QStringLiteral("pgbouncer"));
        poolerAdmin = admin->toConninfoString();
    }
    if (which == QLatin1String("direct") || which == QLatin1String("both")) {
        LoadDemoTarget t;
        t.label = QStringLiteral("direct");
        t.conninfo = endpoints.directUri;
        t.monitorConninfo = endpoints.adminUri;
        t.database = endpoints.database;
        targets << t;
    }
    if (which == QLatin1String("pooled") || which == QLatin1String("both")) {
        LoadDemoTarget t;
        t.label = QStringLiteral("pooled");
        t.conninfo = endpoints.pooledUri;
        t.pooled = true;
        t.monitorConninfo = endpoints.adminUri;
        t.database = endpoints.database;
        t.poolerConsoleConninfo = endpoints.poolerConsoleUri;
        t.poolerAdminConninfo = poolerAdmin;
        t.poolerPoolSize = poolerPoolSize;
        targets << t;
    }
    return targets;
}

} // namespace poolscope
