// The load demo's ceiling: K instances x pool MIN:MAX through the sandbox's PgBouncer,
// brought up by a burst ramp, then a steady Poisson rate; for each rate: did every client
// connection open, achieved vs offered rate, latency percentiles, the engine's dispatch lag, CPU of
// this process and of PgBouncer. Same-run baseline: pgbench with the same number of client
// connections (persistent, opened before its clock starts) at the same rate (-R, Poisson schedule,
// latency counted from the scheduled start like ours) and the same statement, on the same pooled
// URI. A plain program printing Markdown (see BENCHMARKS.md); not a ctest test.
//
//   bench_loaddemo [--instances 1000] [--pool 2:2] [--ramp 25] [--steady 20] [--hold-ms 10]
//                  [--rates 250,500,1000] [--pool-size 40] [--workers 2] [--no-pgbench]
//                  [--no-tls]
#include "core/loaddemo/loaddemo.h"
#include "tests/support/sandboxfixture.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTextStream>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

using namespace poolscope;
using namespace std::chrono_literals;

namespace {

struct Options
{
    int instances = 1000;
    int poolMin = 2;
    int poolMax = 2;
    int rampSeconds = 25;
    int steadySeconds = 20;
    int holdMs = 10;
    QList<double> rates { 250, 500, 1000 };
    int poolSize = 40;
    int workers = 2;
    bool pgbench = true;
    bool tls = true; // the sandbox's default: TLS (verify-full) on every client connection
};

QString arg(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return QString::fromLocal8Bit(argv[i + 1]);
    }
    return {};
}

bool flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return true;
    }
    return false;
}

QString loadAverage()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    if (!f.open(QIODevice::ReadOnly))
        return QStringLiteral("?");
    return QString::fromLatin1(f.readAll()).section(QLatin1Char(' '), 0, 2);
}

// utime + stime of a process, in seconds.
double processCpu(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QString stat = QString::fromLatin1(f.readAll());
    const QStringList fields =
        stat.mid(stat.lastIndexOf(QLatin1Char(')')) + 2).split(QLatin1Char(' '));
    if (fields.size() < 13)
        return -1;
    const double ticks = double(::sysconf(_SC_CLK_TCK));
    return (fields.at(11).toDouble() + fields.at(12).toDouble()) / ticks; // fields 14, 15
}

double ms(std::uint64_t us)
{
    return double(us) / 1000.0;
}

struct PgbenchResult
{
    bool ok = false;
    QString error;
    double tps = 0;
    double connectMs = 0;
    qint64 transactions = 0;
    double p50 = 0, p99 = 0;
    double cpuSeconds = 0;
};

double percentile(std::vector<double> &v, double q)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto rank = qint64(std::ceil(q * double(v.size()))) - 1; // nearest rank
    return v[size_t(std::clamp<qint64>(rank, 0, qint64(v.size()) - 1))];
}

PgbenchResult runPgbench(const QString &uri, int clients, double rate, int seconds, int holdMs,
                         int workers)
{
    PgbenchResult result;
    QTemporaryDir dir;
    QFile script(dir.filePath(QStringLiteral("hold.sql")));
    script.open(QIODevice::WriteOnly);
    script.write(
        QStringLiteral("SELECT pg_sleep(%1);\n").arg(holdMs / 1000.0, 0, 'f', 3).toLatin1());
    script.close();
    QProcess p;
    p.setWorkingDirectory(dir.path());
    const QStringList args { QStringLiteral("-n"),
                             QStringLiteral("-M"),
                             QStringLiteral("simple"),
                             QStringLiteral("-c"),
                             QString::number(clients),
                             QStringLiteral("-j"),
                             QString::number(workers),
                             QStringLiteral("-R"),
                             QString::number(rate),
                             QStringLiteral("-T"),
                             QString::number(seconds),
                             QStringLiteral("-f"),
                             script.fileName(),
                             QStringLiteral("-l"),
                             QStringLiteral("--log-prefix=pgb"),
                             uri };
    rusage before {};
    ::getrusage(RUSAGE_CHILDREN, &before);
    p.start(QStringLiteral("/usr/lib/postgresql/15/bin/pgbench"), args);
    if (!p.waitForFinished((seconds + 300) * 1000)) {
        p.kill();
        p.waitForFinished();
        result.error = QStringLiteral("pgbench did not finish");
        return result;
    }
    rusage after {};
    ::getrusage(RUSAGE_CHILDREN, &after);
    auto sec = [](const timeval &t) {
        return double(t.tv_sec) + double(t.tv_usec) / 1e6;
    };
    result.cpuSeconds =
        sec(after.ru_utime) + sec(after.ru_stime) - sec(before.ru_utime) - sec(before.ru_stime);
    const QString out = QString::fromLocal8Bit(p.readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(p.readAllStandardError());
    if (p.exitCode() != 0) {
        result.error = QStringLiteral("pgbench exit %1: %2").arg(p.exitCode()).arg(err.right(400));
        return result;
    }
    for (const QString &line : out.split(QLatin1Char('\n'))) {
        if (line.startsWith(QLatin1String("tps = ")))
            result.tps = line.section(QLatin1Char(' '), 2, 2).toDouble();
        if (line.startsWith(QLatin1String("initial connection time = ")))
            result.connectMs = line.section(QLatin1Char(' '), 4, 4).toDouble();
        if (line.startsWith(QLatin1String("number of transactions actually processed: ")))
            result.transactions =
                line.section(QLatin1Char(' '), 5, 5).section(QLatin1Char('/'), 0, 0).toLongLong();
    }
    if (result.tps <= 0) {
        result.error =
            QStringLiteral("no tps in pgbench's output: %1 %2").arg(out.right(300), err.right(300));
        return result;
    }
    std::vector<double> latencies;
    for (const QString &name : QDir(dir.path()).entryList({ QStringLiteral("pgb.*") })) {
        QFile log(dir.filePath(name));
        if (!log.open(QIODevice::ReadOnly))
            continue;
        QTextStream in(&log);
        QString line;
        while (in.readLineInto(&line)) {
            const QStringList f = line.split(QLatin1Char(' '));
            if (f.size() >= 3 && f.at(2) != QLatin1String("skipped"))
                latencies.push_back(f.at(2).toDouble() / 1000.0);
        }
    }
    result.p50 = percentile(latencies, 0.50);
    result.p99 = percentile(latencies, 0.99);
    result.ok = true;
    return result;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    Options o;
    if (const QString v = arg(argc, argv, "--instances"); !v.isEmpty())
        o.instances = v.toInt();
    if (const QString v = arg(argc, argv, "--pool"); !v.isEmpty()) {
        o.poolMin = v.section(QLatin1Char(':'), 0, 0).toInt();
        o.poolMax = v.section(QLatin1Char(':'), 1, 1).toInt();
    }
    if (const QString v = arg(argc, argv, "--ramp"); !v.isEmpty())
        o.rampSeconds = v.toInt();
    if (const QString v = arg(argc, argv, "--steady"); !v.isEmpty())
        o.steadySeconds = v.toInt();
    if (const QString v = arg(argc, argv, "--hold-ms"); !v.isEmpty())
        o.holdMs = v.toInt();
    if (const QString v = arg(argc, argv, "--pool-size"); !v.isEmpty())
        o.poolSize = v.toInt();
    if (const QString v = arg(argc, argv, "--workers"); !v.isEmpty())
        o.workers = v.toInt();
    if (const QString v = arg(argc, argv, "--rates"); !v.isEmpty()) {
        o.rates.clear();
        for (const QString &r : v.split(QLatin1Char(',')))
            o.rates << r.toDouble();
    }
    o.pgbench = !flag(argc, argv, "--no-pgbench");
    o.tls = !flag(argc, argv, "--no-tls");

    rlimit limit {};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    const int clients = o.instances * o.poolMax;

    sandbox::SandboxOptions sandboxOptions;
    sandboxOptions.maxConnections = std::max(100, o.poolSize + 20);
    sandboxOptions.poolSize = o.poolSize;
    sandboxOptions.maxClientConnections = clients + 100;
    sandboxOptions.tls = o.tls;
    testing::SandboxFixture sandbox;
    if (!sandbox.start(sandboxOptions)) {
        std::fprintf(stderr, "bench_loaddemo: sandbox did not start: %s\n",
                     qPrintable(sandbox.errorString()));
        return 1;
    }
    const qint64 bouncerPid = sandbox.endpoints().bouncerPid;
    std::printf("## bench_loaddemo: %d instances x pool %d:%d = %d client connections through "
                "PgBouncer (pool size %d, %s), ramp %d s, steady %d s, hold %d ms, %d workers\n\n",
                o.instances, o.poolMin, o.poolMax, clients, o.poolSize,
                o.tls ? "TLS verify-full" : "no TLS", o.rampSeconds, o.steadySeconds, o.holdMs,
                o.workers);
    std::printf("nproc %ld, RLIMIT_NOFILE %llu, load average at start %s\n\n",
                ::sysconf(_SC_NPROCESSORS_ONLN), static_cast<unsigned long long>(limit.rlim_cur),
                qPrintable(loadAverage()));
    std::printf("| side | rate offered/s | all %d client conns open after | achieved/s | "
                "achieved/offered | not ok: steady / ramp | p50 ms | p99 ms | dispatch lag p99 ms "
                "| client CPU "
                "%% of a core | PgBouncer CPU %% | load avg |\n",
                clients);
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::fflush(stdout);

    for (double rate : o.rates) {
        LoadDemoRequest request;
        LoadDemoConfig &c = request.config;
        c.instances = o.instances;
        c.pool.minSize = o.poolMin;
        c.pool.maxSize = o.poolMax;
        c.pool.acquireTimeout = 10s;
        c.pool.connectTimeout = 30s;
        c.ratePerSecond = rate;
        c.hold = std::chrono::milliseconds(o.holdMs);
        c.burstRamp = std::chrono::seconds(o.rampSeconds);
        c.warmup = std::chrono::seconds(o.rampSeconds + 3);
        c.duration = c.warmup + std::chrono::seconds(o.steadySeconds);
        c.workerThreads = o.workers;
        c.seed = 11;
        request.targets =
            loadDemoSandboxTargets(sandbox.endpoints(), QStringLiteral("pooled"), o.poolSize);
        double allOpenAt = -1;
        LoadDemoCallbacks callbacks;
        callbacks.snapshot = [&](const LoadDemoSnapshot &s) {
            if (allOpenAt < 0 && s.clientConnections >= clients)
                allOpenAt = s.elapsedSeconds;
        };
        const double bouncerBefore = processCpu(bouncerPid);
        const LoadDemoReport report = runLoadDemo(request, nullptr, callbacks);
        const double bouncerCpu = processCpu(bouncerPid) - bouncerBefore;
        if (report.refused || report.runs.isEmpty() || report.runs.constFirst().fatal) {
            std::fprintf(stderr, "bench_loaddemo: run failed: %s\n",
                         qPrintable(report.refused ? *report.refused
                                        : report.runs.isEmpty()
                                        ? QStringLiteral("no run")
                                        : report.runs.constFirst().fatal->summary()));
            return 1;
        }
        const LoadDemoRunSummary &r = report.runs.constFirst();
        const double seconds = r.durationSeconds;
        std::printf(
            "| PoolScope | %.0f | %s | %.1f | %.3f | %lld / %lld | %.1f | %.1f | %.2f | %.0f | "
            "%.0f | %s |\n",
            r.offeredRatePerSecond,
            allOpenAt < 0 ? "never" : qPrintable(QStringLiteral("%1 s").arg(allOpenAt, 0, 'f', 1)),
            r.achievedRatePerSecond,
            r.offeredRatePerSecond > 0 ? r.achievedRatePerSecond / r.offeredRatePerSecond : 0,
            static_cast<long long>(r.measuredRequests - r.measuredOk),
            static_cast<long long>(r.errors.total() + r.abandoned
                                   - (r.measuredRequests - r.measuredOk)),
            ms(r.latency.p50Us), ms(r.latency.p99Us), ms(r.dispatchLag.p99Us),
            100.0 * r.clientCpuSeconds / seconds, 100.0 * bouncerCpu / seconds,
            qPrintable(loadAverage()));
        std::fflush(stdout);
        if (r.errors.total() > 0)
            for (const LoadDemoFirstError &e : r.firstErrors)
                std::fprintf(stderr, "  first %s: %s\n",
                             qPrintable(loadDemoErrorClassName(e.errorClass)),
                             qPrintable(e.error.summary()));

        if (!o.pgbench)
            continue;
        const double bouncerBefore2 = processCpu(bouncerPid);
        const PgbenchResult p =
            runPgbench(sandbox.pooledUri(), clients, rate, o.steadySeconds, o.holdMs, o.workers);
        const double bouncerCpu2 = processCpu(bouncerPid) - bouncerBefore2;
        if (!p.ok) {
            std::printf("| pgbench | %.0f | - | - | - | %s | | | | | | |\n", rate,
                        qPrintable(p.error.simplified()));
            continue;
        }
        const double span = o.steadySeconds + p.connectMs / 1000.0;
        std::printf("| pgbench | %.0f | %.1f s (its initial connection time) | %.1f | %.3f | - | "
                    "%.1f | %.1f | (in latency) | %.0f | %.0f | %s |\n",
                    rate, p.connectMs / 1000.0, p.tps, p.tps / rate, p.p50, p.p99,
                    100.0 * p.cpuSeconds / span, 100.0 * bouncerCpu2 / span,
                    qPrintable(loadAverage()));
        std::fflush(stdout);
    }
    std::printf("\nload average at the end %s\n", qPrintable(loadAverage()));
    return 0;
}
