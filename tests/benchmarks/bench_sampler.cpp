// bench_sampler: what the sampler costs the server and the client with 1,000 client connections
// open, against a 0-connection baseline measured in the same run (see BENCHMARKS.md, "Sampler cost
// with 1,000 connections").
//
//   bench_sampler [--seconds N] [--connections N] [--threads N]    (env: BENCH_SAMPLER_SECONDS)
//   bench_sampler --print-sql     the sampler's SQL (session list off, on) for psql, then exits
//
// One sandbox with max_connections = 1100. For each case (0 extra connections, then N idle
// client connections held open; session list off, then on with 500 rows) this program:
//  - runs the sampler's own SQL (buildActivityQuery with the sampler's options) through
//    EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) a few times on a probe connection: the server's
//    planning and execution time per sample. One EXPLAIN with TIMING ON is written to stderr to
//    see which part of the query dominates;
//  - measures `SELECT 1` round trips on the same probe connection (the floor);
//  - runs the real poolscope::Sampler at 1 Hz for N seconds (default 30) under a
//    QCoreApplication event loop and collects ActivitySample::roundTripMicros (the client-side
//    round trip of the one query), the process CPU time (getrusage, user + sys) over the window,
//    the sampler thread's CPU time (/proc/self/task/<tid>/schedstat of "poolscope-sampler") and
//    the CPU time of the sampler's backend process (/proc/<pid>/schedstat, same machine).
// The first sample after the sampler connects is not counted (it opens the connection and warms
// the backend's caches). Prints Markdown tables and the verdicts against the goals:
// under 5 ms of server time per sample, under 1 % of one core of client CPU at 1 Hz.
//
// The idle connections are poolscope::Connection objects opened by several threads, each with
// an application_name from 20 names; 50 are left idle in transaction and 10 idle in transaction

#include "core/db/connection.h"
#include "core/sampler/activityquery.h"
#include "core/sampler/sampler.h"
#include "tests/benchmarks/sampler_bench_support.h"
#include "tests/support/sandboxfixture.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QFile>
#include <QTimer>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace poolscope::samplerbench;
using poolscope::Clock;
using poolscope::Connection;

class Bench
{
public:
    Bench(Options options, poolscope::testing::SandboxFixture &sandbox)
        : m_options(options)
        , m_sandbox(sandbox)
    {
    }

    bool openProbe()
    {
        QString error;
        m_probe =
            openConnection(m_sandbox.directUri(), QStringLiteral("bench_sampler-probe"), &error);
        if (!m_probe) {
            std::fprintf(stderr, "bench_sampler: probe connection: %s\n", qPrintable(error));
            return false;
        }
        m_versionNum = m_probe->parameterStatus(QStringLiteral("server_version"))
                           .section(QLatin1Char('.'), 0, 0)
                           .toInt()
            * 10000;
        return true;
    }

    static QString sql(bool sessions, int versionNum)
    {
        return poolscope::buildActivityQuery(queryOptions(sessions, versionNum));
    }

    std::optional<CaseResult> runCase(int extraConnections, bool sessions)
    {
        CaseResult r;
        r.extraConnections = extraConnections;
        r.sessions = sessions;
        if (!measureServerTime(r) || !measureSelect1(r) || !measureHot(r) || !runSampler(r))
            return std::nullopt;
        return r;
    }

private:
    static poolscope::ActivityQueryOptions queryOptions(bool sessions, int versionNum)
    {
        const poolscope::SamplerConfig defaults;
        poolscope::ActivityQueryOptions o;
        o.serverVersionNum = versionNum; // as SamplerWorker::sampleDatabase derives it
        o.topN = defaults.topN;
        o.maxGroups = defaults.maxGroups;
        o.includeSessions = sessions;
        o.maxSessions = defaults.maxSessions;
        return o;
    }

    bool measureServerTime(CaseResult &r)
    {
        const QString query = poolscope::buildActivityQuery(queryOptions(r.sessions, m_versionNum));
        std::vector<double> plan, exec;
        for (int i = 0; i < m_options.explainRuns + 1; ++i) {
            auto res = m_probe->exec(
                QStringLiteral("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) ") + query, 10s);
            if (!res) {
                std::fprintf(stderr, "bench_sampler: EXPLAIN failed: %s\n",
                             qPrintable(res.error().summary()));
                return false;
            }
            if (i == 0)
                continue; // warm-up: the probe's first look at pg_stat_activity in this case
            plan.push_back(explainValue(res.value(), QStringLiteral("Planning Time: ")).toDouble());
            exec.push_back(
                explainValue(res.value(), QStringLiteral("Execution Time: ")).toDouble());
        }
        r.planMs = percentile(plan, 0.5);
        r.execMs = percentile(exec, 0.5);
        r.execMaxMs = *std::max_element(exec.begin(), exec.end());

        // The floor of any look at pg_stat_activity: the view's snapshot and joins, nothing else.
        std::vector<double> floor;
        for (int i = 0; i < m_options.explainRuns + 1; ++i) {
            auto res = m_probe->exec(QStringLiteral("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) "
                                                    "SELECT count(*) FROM pg_stat_activity"),
                                     10s);
            if (!res)
                return false;
            if (i > 0)
                floor.push_back(
                    explainValue(res.value(), QStringLiteral("Execution Time: ")).toDouble());
        }
        r.floorMs = percentile(floor, 0.5);

        // Where the time goes: one run with per-node timing, for the analysis (stderr).
        auto timed = m_probe->exec(QStringLiteral("EXPLAIN (ANALYZE, TIMING ON) ") + query, 10s);
        if (timed) {
            std::fprintf(stderr, "\n--- EXPLAIN ANALYZE, %d extra connections, sessions %s ---\n",
                         r.extraConnections, r.sessions ? "on" : "off");
            for (int row = 0; row < timed->rowCount(); ++row)
                std::fprintf(stderr, "%s\n", qPrintable(timed->value(row, 0)));
        }
        return true;
    }

    // The sampler's exact SQL (transaction wrapper included), back-to-back on the probe: the
    // server's whole cost per sample (parse, analysis, planning, execution, output) with warm
    // caches, as CPU time of the probe's backend.
    bool measureHot(CaseResult &r)
    {
        const poolscope::SamplerConfig defaults;
        const QString sql =
            QStringLiteral("BEGIN READ ONLY; SET LOCAL statement_timeout = %1; %2; COMMIT")
                .arg(defaults.statementTimeout.count())
                .arg(poolscope::buildActivityQuery(queryOptions(r.sessions, m_versionNum)));
        const QString stat = QStringLiteral("/proc/%1/schedstat").arg(m_probe->backendPid());
        std::vector<double> rt;
        std::optional<double> cpuStart;
        for (int i = 0; i < m_options.explainRuns + 1; ++i) {
            if (i == 1)
                cpuStart = schedstatSeconds(stat);
            const auto started = Clock::now();
            auto res = m_probe->exec(sql, 10s);
            const auto us = std::chrono::duration<double, std::micro>(Clock::now() - started);
            if (!res) {
                std::fprintf(stderr, "bench_sampler: sampler SQL failed: %s\n",
                             qPrintable(res.error().summary()));
                return false;
            }
            if (i > 0)
                rt.push_back(us.count());
        }
        const auto cpuEnd = schedstatSeconds(stat);
        r.hotRtP50 = percentile(rt, 0.5);
        if (cpuStart && cpuEnd)
            r.hotBackendMs = (*cpuEnd - *cpuStart) * 1000.0 / double(rt.size());
        return true;
    }

    bool measureSelect1(CaseResult &r)
    {
        std::vector<double> rt;
        for (int i = 0; i < m_options.select1Runs; ++i) {
            const auto started = Clock::now();
            auto res = m_probe->exec(QStringLiteral("SELECT 1"), 5s);
            const auto us = std::chrono::duration<double, std::micro>(Clock::now() - started);
            if (!res) {
                std::fprintf(stderr, "bench_sampler: SELECT 1 failed: %s\n",
                             qPrintable(res.error().summary()));
                return false;
            }
            rt.push_back(us.count());
        }
        r.select1P50 = percentile(rt, 0.5);
        return true;
    }

    bool runSampler(CaseResult &r)
    {
        poolscope::SamplerConfig config;
        config.conninfo = m_sandbox.directUri();
        config.interval = 1000ms;
        poolscope::Sampler sampler(config);
        sampler.setSessionListEnabled(r.sessions);

        std::vector<double> roundTrips;
        bool counting = false;
        int received = 0;
        QEventLoop loop;
        QObject::connect(&sampler, &poolscope::Sampler::sampled, &loop,
                         [&](const poolscope::ActivitySample &s) {
                             ++received;
                             r.backendsSeen = s.counts.total;
                             r.sessionRows = s.sessions ? int(s.sessions->size()) : 0;
                             if (counting)
                                 roundTrips.push_back(double(s.roundTripMicros));
                             else
                                 loop.quit(); // the first sample: start the window
                         });
        QObject::connect(
            &sampler, &poolscope::Sampler::tickFailed, &loop, [&](const poolscope::DbError &e) {
                ++r.failedTicks;
                std::fprintf(stderr, "bench_sampler: tick failed: %s\n", qPrintable(e.summary()));
            });
        QTimer deadline; // one timer for both waits: a stale single shot must not end the window
        deadline.setSingleShot(true);
        QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
        sampler.start();
        deadline.start(15s);
        loop.exec();
        if (received == 0) {
            std::fprintf(stderr, "bench_sampler: no sample within 15 s\n");
            return false;
        }

        // The sampler's backend, to read its CPU time (the server runs on this machine).
        std::optional<int> backendPid;
        auto pid = m_probe->exec(QStringLiteral("SELECT pid FROM pg_stat_activity "
                                                "WHERE application_name = 'poolscope-sampler'"),
                                 5s);
        if (pid && pid->rowCount() == 1)
            backendPid = int(pid->toInt64(0, 0));
        const QString backendStat =
            backendPid ? QStringLiteral("/proc/%1/schedstat").arg(*backendPid) : QString();
        const QString threadStat = samplerThreadStatPath();

        counting = true;
        const auto wallStart = Clock::now();
        const double cpuStart = processCpuSeconds();
        const auto threadStart = schedstatSeconds(threadStat);
        const auto backendStart = schedstatSeconds(backendStat);
        deadline.start(std::chrono::seconds(m_options.seconds));
        loop.exec();
        const auto backendEnd = schedstatSeconds(backendStat);
        const auto threadEnd = schedstatSeconds(threadStat);
        const double cpuEnd = processCpuSeconds();
        r.wallSeconds = std::chrono::duration<double>(Clock::now() - wallStart).count();
        sampler.stop();

        r.samples = int(roundTrips.size());
        r.rtP50 = percentile(roundTrips, 0.5);
        r.rtP95 = percentile(roundTrips, 0.95);
        r.rtMax = roundTrips.empty() ? 0 : *std::max_element(roundTrips.begin(), roundTrips.end());
        r.processCpuMs = (cpuEnd - cpuStart) * 1000.0;
        if (threadStart && threadEnd)
            r.threadCpuMs = (*threadEnd - *threadStart) * 1000.0;
        if (backendStart && backendEnd)
            r.backendCpuMs = (*backendEnd - *backendStart) * 1000.0;
        return r.samples > 0;
    }

    Options m_options;
    poolscope::testing::SandboxFixture &m_sandbox;
    std::optional<Connection> m_probe;
    int m_versionNum = 150000;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv); // the sandbox drives its servers with QProcess

    Options options;
    if (hasFlag(argc, argv, "--print-sql")) { // for psql: the sampler's SQL, no sandbox
        for (bool sessions : { false, true })
            std::printf("%s;\n", qPrintable(Bench::sql(sessions, 150000)));
        return 0;
    }
    if (const char *env = std::getenv("BENCH_SAMPLER_SECONDS"))
        options.seconds = std::max(1, std::atoi(env));
    options.seconds = argValue(argc, argv, "--seconds", options.seconds);
    options.connections = argValue(argc, argv, "--connections", options.connections);
    options.threads = argValue(argc, argv, "--threads", options.threads);

    // One socket per client connection: raise the soft limit to the hard one (inherited by the
    // sandbox's servers too).
    rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur < rlim_t(options.connections + 200)) {
        std::fprintf(stderr, "bench_sampler: RLIMIT_NOFILE %llu is too low for %d connections\n",
                     static_cast<unsigned long long>(limit.rlim_cur), options.connections);
        return 1;
    }

    poolscope::sandbox::SandboxOptions sandboxOptions;
    sandboxOptions.maxConnections = std::max(1100, options.connections + 100);
    poolscope::testing::SandboxFixture sandbox;
    if (!sandbox.start(sandboxOptions)) {
        std::fprintf(stderr, "bench_sampler: sandbox did not start: %s\n",
                     qPrintable(sandbox.errorString()));
        return 1;
    }
    std::fprintf(stderr, "bench_sampler: sandbox up (max_connections %d), %d s per case\n",
                 sandboxOptions.maxConnections, options.seconds);

    Bench bench(options, sandbox);
    if (!bench.openProbe())
        return 1;

    std::vector<CaseResult> results;
    for (bool sessions : { false, true }) {
        std::fprintf(stderr, "bench_sampler: baseline, session list %s ...\n",
                     sessions ? "on" : "off");
        auto r = bench.runCase(0, sessions);
        if (!r)
            return 1;
        results.push_back(*r);
    }

    std::vector<Connection> idle;
    idle.reserve(size_t(options.connections));
    const auto openStart = Clock::now();
    if (!openIdleConnections(sandbox.directUri(), options.connections, options.threads, idle))
        return 1;
    std::fprintf(stderr, "bench_sampler: %zu connections opened in %.1f s\n", idle.size(),
                 std::chrono::duration<double>(Clock::now() - openStart).count());

    for (bool sessions : { false, true }) {
        std::fprintf(stderr, "bench_sampler: %d connections, session list %s ...\n",
                     options.connections, sessions ? "on" : "off");
        auto r = bench.runCase(options.connections, sessions);
        if (!r)
            return 1;
        results.push_back(*r);
    }

    QFile loadavg(QStringLiteral("/proc/loadavg"));
    const QByteArray load = loadavg.open(QIODevice::ReadOnly) ? loadavg.readAll().trimmed() : "";
    printTables(results, options);
    std::printf("\nLoad average at the end: %s\n", load.constData());

    idle.clear();
    sandbox.stop();
    return 0;
}
