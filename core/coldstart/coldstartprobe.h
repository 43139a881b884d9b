#pragma once

// The cold-start probe: where the time of a first connection goes, phase by phase, and
// whether it is normal. Every trial opens a fresh libpq connection (never from a pool) with
// PQconnectStartParams + PQconnectPoll under its own deadline, after resolving DNS itself (timed,
// netprobe::resolve) and passing `hostaddr` together with `host` (SNI and verify-full still work).
// Blocking: run it on a worker thread or from a command.

#include "core/db/dberror.h"

#include <QList>
#include <QString>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

namespace poolscope {

struct ColdStartOptions
{
    QString conninfo; // keyword=value or URI; the first host of a multi-host list is probed
    int trials = 10;
    int warmQueries = 5; // per trial, on the trial's connection after its first query
    // > 0: after the last trial keep its connection open, wait this long, then run one query
    // (the guide's "verify connections work after idle"). Before the wait a real ConnectionPool
    // (min 1, max 1, application_name "poolscope-coldstart-pool") also checks out and returns one
    // connection, so that it sits idle in the pool; after the wait a checkout and a SELECT 1 on
    // it are timed (the pool validates an idle connection on checkout and replaces a dead one).
    std::chrono::milliseconds idleBefore { 0 };
    // Each trial's deadline (DNS + connect + first query), and each warm query's.
    std::chrono::milliseconds timeout { 10000 };
};

// One fresh connection. The phases come from PQstatus() transitions and are consecutive: their
// sum is totalMs. "tls" covers the SSLRequest and handshake and is 0 when the connection is not
// encrypted (a refused SSLRequest, sslmode=prefer against a server without TLS, counts as
// startup: "auth"). "auth" runs from the startup packet to ready-for-query (a Neon compute's
// wake-up shows up here).
struct ColdStartTrial
{
    double dnsMs = 0;
    double tcpMs = 0;
    double tlsMs = 0;
    double authMs = 0;
    double firstQueryMs = 0;
    double totalMs = 0;
    QString tls;         // "TLSv1.3" or "not encrypted" (unix sockets too)
    QString address;     // the hostaddr used, empty for a unix socket
    int backendPid = 0;  // from the startup (a pooler's own key when pooled)
    QString failedPhase; // empty when the trial succeeded
    std::optional<DbError> error;

    bool ok() const { return !error; }
};

struct ColdStartReport
{
    QList<ColdStartTrial> trials; // failed trials included (the run stops after the first)
    QList<double> warmQueryMs;    // all warm queries of all trials
    // Over the successful trials' totals (nearest rank); 0 when there are none.
    double p50TotalMs = 0;
    double p95TotalMs = 0;
    double maxTotalMs = 0;
    double warmP50Ms = 0;
    double warmP95Ms = 0;
    std::optional<double> afterIdleMs; // set when the after-idle query ran and succeeded
    std::optional<DbError> afterIdleError;
    // The pool checkout after the idle period (idleBefore > 0): acquire() and a SELECT 1 on the
    // lease, timed separately; poolReconnected when the pool had to replace the connection that
    // sat idle (found dead on its idle check or on checkout, so it opened a new one).
    std::optional<double> poolCheckoutAfterIdleMs;
    std::optional<double> poolQueryAfterIdleMs;
    std::optional<DbError> poolAfterIdleError;
    bool poolReconnected = false;
    bool cancelled = false;
    QString verdict;              // "pass", "warn" or "fail"
    QString reason;               // one sentence: what was compared with what
    std::optional<DbError> error; // the first failure (a failed trial), with its remedy

    int okTrials() const;
};

// The guide's expectations: a first connection within 2-5 s (Neon now documents compute
// activation in "a few hundred milliseconds"), later queries under 500 ms.
constexpr double ColdStartGuideFirstConnectMs = 5000;
constexpr double ColdStartNeonActivationMs = 500;
constexpr double ColdStartGuideWarmQueryMs = 500;

// Runs the trials one after another. `cancel` is checked between trials, between warm queries
// and during the idle wait: the report then holds what was measured. `onIdle`, when set, is
// called on the calling thread once the idle wait has begun (the pool's connection is idle by
// then); tests use it to interfere with the idle connections. `onTrial` is called after
// each trial (index from 0) on the calling thread.
ColdStartReport
runColdStartProbe(const ColdStartOptions &options, const std::atomic<bool> *cancel = nullptr,
                  const std::function<void(int, const ColdStartTrial &)> &onTrial = {},
                  const std::function<void()> &onIdle = {});

// Sleeps `duration` in steps of at most 50 ms; false when `cancel` was set before it ended.
bool coldStartWait(std::chrono::milliseconds duration, const std::atomic<bool> *cancel);

// Nearest-rank percentile (p in 0..100) of unsorted values; 0 for an empty list.
double coldStartPercentile(QList<double> values, double p);

} // namespace poolscope
