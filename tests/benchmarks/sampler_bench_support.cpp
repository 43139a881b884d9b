#include "tests/benchmarks/sampler_bench_support.h"

#include <QChar>
#include <QDir>
#include <QFile>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace poolscope::samplerbench {

using namespace std::chrono_literals;

namespace {

std::string fmt(const char *format, double v)
{
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, v);
    return buffer;
}

std::string perSample(const std::optional<double> &ms, int samples)
{
    return ms && samples > 0 ? fmt("%.2f", *ms / samples) : std::string("n/a");
}

std::string percentOfCore(const std::optional<double> &ms, double wallSeconds)
{
    return ms && wallSeconds > 0 ? fmt("%.3f", *ms / (wallSeconds * 1000.0) * 100.0)
                                 : std::string("n/a");
}

std::string label(const CaseResult &r)
{
    return std::to_string(r.extraConnections) + " extra, session list "
        + (r.sessions ? "on (500 rows)" : "off");
}

} // namespace

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto index = size_t(p * double(v.size() - 1) + 0.5);
    return v[std::min(index, v.size() - 1)];
}

double processCpuSeconds()
{
    rusage u {};
    ::getrusage(RUSAGE_SELF, &u);
    auto seconds = [](const timeval &t) {
        return double(t.tv_sec) + double(t.tv_usec) / 1e6;
    };
    return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// On-CPU time in seconds from a schedstat file (first field: nanoseconds on the CPU).
std::optional<double> schedstatSeconds(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt;
    bool ok = false;
    const double ns = f.readAll().split(' ').value(0).toDouble(&ok);
    return ok ? std::optional<double>(ns / 1e9) : std::nullopt;
}

// The sampler's thread: QThread names the OS thread after its objectName ("poolscope-sampler",
// cut to 15 characters by the kernel).
QString samplerThreadStatPath()
{
    const QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString &tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks.filePath(tid + QStringLiteral("/comm")));
        if (comm.open(QIODevice::ReadOnly) && comm.readAll().startsWith("poolscope-sampl"))
            return tasks.filePath(tid + QStringLiteral("/schedstat"));
    }
    return {};
}

std::optional<Connection> openConnection(const QString &uri, const QString &applicationName,
                                         QString *error)
{
    auto info = poolscope::ConnInfo::parse(uri);
    if (!info) {
        *error = info.error().summary();
        return std::nullopt;
    }
    info->set(QStringLiteral("application_name"), applicationName);
    auto opened = Connection::open(info.value(), 30s);
    if (!opened) {
        *error = opened.error().summary();
        return std::nullopt;
    }
    return std::move(opened).value();
}

// Opens `count` connections on `threads` threads; the first kIdleInTransaction are left idle in
// transaction, the next kAborted idle in an aborted transaction.
bool openIdleConnections(const QString &uri, int count, int threads,
                         std::vector<Connection> &connections)
{
    std::mutex mutex;
    std::atomic<int> next { 0 };
    std::atomic<int> failures { 0 };
    QString firstError;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int i = next++; i < count; i = next++) {
                QString error;
                auto c = openConnection(
                    uri,
                    QStringLiteral("bench-app-%1").arg(i % kApplicationNames, 2, 10, QChar(u'0')),
                    &error);
                if (c && i < kIdleInTransaction) {
                    if (auto r = c->exec(QStringLiteral("BEGIN; SELECT 1"), 10s); !r)
                        error = r.error().summary();
                } else if (c && i < kIdleInTransaction + kAborted) {
                    (void)c->exec(QStringLiteral("BEGIN; SELECT 1/0"), 10s); // fails on purpose
                    if (c->transactionState() != poolscope::TransactionState::InError)
                        error = QStringLiteral("the transaction did not abort");
                }
                std::lock_guard lock(mutex);
                if (!c || !error.isEmpty()) {
                    if (failures++ == 0)
                        firstError = error;
                    continue;
                }
                connections.push_back(std::move(*c));
            }
        });
    }
    for (auto &w : workers)
        w.join();
    if (failures > 0) {
        std::fprintf(stderr, "bench_sampler: %d of %d connections failed, first: %s\n",
                     failures.load(), count, qPrintable(firstError));
        return false;
    }
    return true;
}

QString explainValue(const poolscope::QueryResult &r, const QString &label)
{
    for (int row = 0; row < r.rowCount(); ++row) {
        const QString line = r.value(row, 0).trimmed();
        if (line.startsWith(label))
            return line.mid(label.size()).section(QLatin1Char(' '), 0, 0);
    }
    return {};
}

int argValue(int argc, char **argv, const char *name, int fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == name)
            return std::max(1, std::atoi(argv[i + 1]));
    }
    return fallback;
}

void printTables(const std::vector<CaseResult> &results, const Options &options)
{
    std::printf("\n## bench_sampler: %d s at 1 Hz per case, %d CPUs\n\n", options.seconds,
                int(::sysconf(_SC_NPROCESSORS_ONLN)));
    std::printf(
        "| case | client backends seen | samples (failed) | sampler round trip p50 / p95 / "
        "max (µs) | `SELECT 1` p50 (µs) | server: planning + execution, median (ms) | "
        "execution max (ms) | `SELECT count(*) FROM pg_stat_activity` execution (ms) | same SQL "
        "back-to-back: round trip p50 (µs) / backend CPU per run "
        "(ms) | sampler backend CPU / sample at 1 Hz (ms) | client process CPU "
        "(%% of a core) | sampler thread CPU (%% of a core) | client CPU / sample (ms) |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const CaseResult &r : results) {
        std::printf(
            "| %s | %d | %d (%d) | %.0f / %.0f / %.0f | %.0f | %.2f + %.2f = %.2f | %.2f | %.2f | "
            "%.0f / %s | %s | %s | %s | %s |\n",
            label(r).c_str(), r.backendsSeen, r.samples, r.failedTicks, r.rtP50, r.rtP95, r.rtMax,
            r.select1P50, r.planMs, r.execMs, r.planMs + r.execMs, r.execMaxMs, r.floorMs,
            r.hotRtP50, perSample(r.hotBackendMs, 1).c_str(),
            perSample(r.backendCpuMs, r.samples).c_str(),
            percentOfCore(r.processCpuMs, r.wallSeconds).c_str(),
            percentOfCore(r.threadCpuMs, r.wallSeconds).c_str(),
            perSample(r.processCpuMs, r.samples).c_str());
    }

    std::printf("\nRatios (same run): against the 0-connection case with the same session-list "
                "setting, and against `SELECT 1`\n\n");
    std::printf("| case | round trip p50 × baseline | round trip p50 × `SELECT 1` | server time × "
                "baseline | client CPU × baseline |\n|---|---:|---:|---:|---:|\n");
    for (const CaseResult &r : results) {
        const auto base = std::find_if(results.begin(), results.end(), [&](const CaseResult &b) {
            return b.extraConnections == 0 && b.sessions == r.sessions;
        });
        if (base == results.end())
            continue;
        auto ratio = [](double a, double b) {
            return b > 0 ? fmt("%.1f", a / b) : std::string("n/a");
        };
        std::printf(
            "| %s | %s | %s | %s | %s |\n", label(r).c_str(), ratio(r.rtP50, base->rtP50).c_str(),
            ratio(r.rtP50, r.select1P50).c_str(),
            ratio(r.planMs + r.execMs, base->planMs + base->execMs).c_str(),
            ratio(r.processCpuMs / r.wallSeconds, base->processCpuMs / base->wallSeconds).c_str());
    }

    std::printf("\nGoals (cases with %d extra connections):\n\n", options.connections);
    for (const CaseResult &r : results) {
        if (r.extraConnections == 0)
            continue;
        const double server = r.planMs + r.execMs;
        const double client = r.processCpuMs / (r.wallSeconds * 10.0);
        auto verdict = [](bool ok) {
            return ok ? "met" : "NOT met";
        };
        std::printf("- %s: server time (EXPLAIN planning + execution) %.2f ms per sample (goal < "
                    "%.0f ms): **%s**",
                    label(r).c_str(), server, kServerGoalMs, verdict(server < kServerGoalMs));
        if (r.backendCpuMs) {
            const double whole = *r.backendCpuMs / r.samples;
            std::printf("; whole statement as the sampler's backend CPU at 1 Hz %.2f ms: **%s**",
                        whole, verdict(whole < kServerGoalMs));
        }
        std::printf("; client CPU %.3f %% of a core (goal < %.0f %%): **%s**\n", client,
                    kClientGoalPercent, verdict(client < kClientGoalPercent));
    }
}

bool hasFlag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == name)
            return true;
    }
    return false;
}

} // namespace poolscope::samplerbench
