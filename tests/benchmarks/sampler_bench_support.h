// Helpers of bench_sampler (see bench_sampler.cpp): the case options and results, CPU-time and
// schedstat readings, opening the idle client connections, and the Markdown report.
#pragma once

#include "core/db/connection.h"

#include <QString>

#include <optional>
#include <string>
#include <vector>

namespace poolscope::samplerbench {

inline constexpr double kServerGoalMs = 5.0;
inline constexpr double kClientGoalPercent = 1.0;
inline constexpr int kIdleInTransaction = 50;
inline constexpr int kAborted = 10;
inline constexpr int kApplicationNames = 20;

struct Options
{
    int seconds = 30;
    int connections = 1000;
    int threads = 8;
    int explainRuns = 10;
    int select1Runs = 300;
};

struct CaseResult
{
    int extraConnections = 0;
    bool sessions = false;
    int backendsSeen = 0;
    int sessionRows = 0;
    int samples = 0;
    int failedTicks = 0;
    double rtP50 = 0, rtP95 = 0, rtMax = 0; // µs
    double select1P50 = 0;                  // µs
    double planMs = 0, execMs = 0, execMaxMs = 0;
    double floorMs = 0;  // EXPLAIN ANALYZE execution of SELECT count(*) FROM pg_stat_activity
    double hotRtP50 = 0; // µs, the sampler's whole SQL back-to-back on the probe
    std::optional<double> hotBackendMs; // the probe backend's CPU per run of that SQL
    double wallSeconds = 0;
    double processCpuMs = 0;
    std::optional<double> threadCpuMs;
    std::optional<double> backendCpuMs;
};

double percentile(std::vector<double> v, double p);
double processCpuSeconds();
// On-CPU time in seconds from a schedstat file (first field: nanoseconds on the CPU).
std::optional<double> schedstatSeconds(const QString &path);
// The sampler's thread: QThread names the OS thread after its objectName ("poolscope-sampler",
// cut to 15 characters by the kernel).
QString samplerThreadStatPath();
std::optional<Connection> openConnection(const QString &uri, const QString &applicationName,
                                         QString *error);
// Opens `count` connections on `threads` threads; the first kIdleInTransaction are left idle in
// transaction, the next kAborted idle in an aborted transaction.
bool openIdleConnections(const QString &uri, int count, int threads,
                         std::vector<Connection> &connections);
// A value of EXPLAIN's text output: explainValue(r, "Execution Time: ") -> "1.234".
QString explainValue(const QueryResult &r, const QString &label);

int argValue(int argc, char **argv, const char *name, int fallback);
bool hasFlag(int argc, char **argv, const char *name);
void printTables(const std::vector<CaseResult> &results, const Options &options);

} // namespace poolscope::samplerbench
