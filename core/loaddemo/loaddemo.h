#pragma once

// The load demo: a serverless fan-out simulator against real limits. K simulated
// function instances each own a small pool of real libpq connections; requests arrive open-loop
// (Poisson, total rate λ), each goes to a uniformly random instance and holds one of its
// connections for `hold`. Run against a direct endpoint, N instances × pool max exhausts
// max_connections (SQLSTATE 53300); through a transaction-mode pooler the same load is absorbed.
//
// How it runs (see loaddemoengine_p.h for the engine): a few worker threads (default 2), each an
// epoll loop over non-blocking libpq connections (PQconnectStartParams/PQconnectPoll,
// PQsendQuery/PQflush/PQconsumeInput): never a thread per connection. The server side is
// measured on a monitoring connection of its own, on its own thread, every `snapshotInterval`
// (client backends of the target database in pg_stat_activity, excluding itself; for a pooled
// target PgBouncer's SHOW POOLS on the console). The calling thread coordinates: every
// `snapshotInterval` it merges the workers' counters and windowed latency histograms and the
// latest server figures into an immutable LoadDemoSnapshot, writes it to the caller's
// TimeSeriesStore and hands it to the caller.
//
// Bounded and self-stopping: instances, pool size, rate, hold, duration and the total number of
// client connections are capped (LoadDemoLimits; tighter caps for a non-loopback target, which is
// refused unless allowRemote). A run stops by itself at `duration` (+ a short drain); cancel or
// destruction stops it earlier. Every connection a run opened is closed before the run's summary
// is produced; the summary then reports the server-side count after the run against the
// baseline measured before it.

#include "core/db/dberror.h"
#include "core/util/latencyhistogram.h"
#include "core/util/result.h"

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

namespace poolscope {

class TimeSeriesStore;
namespace sandbox {
struct SandboxEndpoints;
}

// ----------------------------------------------------------------------------------------------
// Configuration

// One simulated function instance's pool (the guide's DATABASE_POOL_MIN_SIZE/MAX_SIZE plus the
// knobs serverless platforms turn). An instance starts cold: its first request opens the pool,
// which starts max(minSize, 1) connections at once (the guide's "each function invocation
// creates a pool").
struct LoadDemoPoolProfile
{
    int minSize = 2;  // connections opened when the pool opens and kept while the instance lives
    int maxSize = 10; // never more connections (open + connecting) per instance
    // A request waiting longer than this for a connection fails with acquire_timeout. Waiters
    // are served first come, first served.
    std::chrono::milliseconds acquireTimeout { 5000 };
    // Deadline of one connection attempt (libpq's connect_timeout is not applied by
    // PQconnectPoll); an overrun fails the waiting request with connection_timeout ("other").
    std::chrono::milliseconds connectTimeout { 5000 };
    // A connection older than this is closed when it is released (0: never).
    std::chrono::milliseconds maxLifetime { 0 };
    // Idle connections above minSize are closed after this long unused (0: never).
    std::chrono::milliseconds maxIdle { 0 };
    // Serverless churn: an instance without requests for this long scales to zero (all its
    // connections closed; the next request is a cold start again). 0: never.
    std::chrono::milliseconds instanceIdleTimeout { 0 };
    // Serverless churn: an instance is recycled after this age (its pool is closed as soon as no
    // request holds a connection; the next request is a cold start). 0: never.
    std::chrono::milliseconds instanceLifetime { 0 };
};

// What a request does while it holds its connection.
enum class LoadDemoHold {
    ServerSleep,       // one statement: SELECT pg_sleep(hold) (one short transaction)
    ClientTransaction, // BEGIN; then the client waits `hold` (app work); then COMMIT
};

struct LoadDemoConfig
{
    int instances = 10;
    LoadDemoPoolProfile pool;
    double ratePerSecond = 50; // λ: total arrival rate over all instances (Poisson)
    std::chrono::milliseconds hold { 50 };
    LoadDemoHold holdMode = LoadDemoHold::ServerSleep;
    // How long requests keep arriving. In-flight requests then get `drainGrace` to finish;
    // those still unfinished are counted as `abandoned` and their connections closed.
    std::chrono::milliseconds duration { 10000 };
    std::chrono::milliseconds drainGrace { 2000 };
    // Burst mode (a scale-out): > 0 brings instance i up at t = i × burstRamp / instances with
    // one request of its own (a cold start each); until then the Poisson arrivals go only to the
    // instances already up (a worker with none up yet sends them to its first instance). So
    // requests ≈ rate × duration + instances. 0: all instances are up from the start, cold until
    // their first request.
    std::chrono::milliseconds burstRamp { 0 };
    // Requests arriving before this are left out of the summary's latency, acquire-wait and
    // dispatch-lag percentiles and of its offered/achieved rates (they are still counted in
    // requests/ok/errors): e.g. the burst ramp, to measure the steady state. 0: measure all.
    std::chrono::milliseconds warmup { 0 };
    int workerThreads = 2; // event loops; instances are spread over them round-robin
    std::chrono::milliseconds snapshotInterval { 250 };
    // Random seed of the arrival process and instance choice (0: from the clock).
    quint64 seed = 0;
};

// Hard caps, checked by applyLoadDemoLimits(). A request beyond a local cap is refused (never
// silently clamped); for a non-loopback target the remote caps are applied (clamped, with a
// warning naming each cap) because the load then lands on someone's real database.
struct LoadDemoLimits
{
    static constexpr int kMaxInstances = 5000;
    static constexpr int kMaxPoolSize = 100;
    static constexpr int kMaxClientConnections = 6000; // instances × pool maxSize
    static constexpr double kMaxRatePerSecond = 20000;
    static constexpr std::chrono::milliseconds kMaxHold { 60000 };
    static constexpr std::chrono::milliseconds kMaxDuration { 600000 };
    static constexpr std::chrono::milliseconds kMaxDrainGrace { 10000 };
    static constexpr std::chrono::milliseconds kMaxBurstRamp { 60000 };
    static constexpr int kMaxWorkerThreads = 8;
    // Non-loopback targets (allowRemote): clamped to these.
    static constexpr int kRemoteMaxInstances = 20;
    static constexpr int kRemoteMaxPoolSize = 5;
    static constexpr int kRemoteMaxClientConnections = 50;
    static constexpr double kRemoteMaxRatePerSecond = 20;
    static constexpr std::chrono::milliseconds kRemoteMaxHold { 1000 };
    static constexpr std::chrono::milliseconds kRemoteMaxDuration { 60000 };
};

// One endpoint to run the load against. conninfo strings carry secrets: they are only handed to
// libpq and never copied into snapshots or summaries (those carry `label` and `displayName`).
struct LoadDemoTarget
{
    QString label;    // "direct", "pooled", or the host for a user endpoint
    QString conninfo; // keyword=value or URI: where the instances connect
    bool pooled = false;
    // Server-side monitoring connection (pg_stat_activity). Empty: `conninfo` itself. For the
    // sandbox: its admin URI (the superuser has a reserved slot, so it still gets in when the
    // target is out of connections, and it sees every backend).
    QString monitorConninfo;
    // Which database's client backends count as "server connections". Empty: the target's
    // dbname (from conninfo).
    QString database;
    // PgBouncer console (SHOW POOLS: cl_waiting, sv_active). Empty: no pooler figures.
    QString poolerConsoleConninfo;
    // PgBouncer console as an admin user. Non-empty: after the run, RECONNECT is issued there so
    // that PgBouncer closes the server connections it keeps idle (server_idle_timeout is 600 s);
    // without it the server-side count after a pooled run stays at what PgBouncer holds.
    QString poolerAdminConninfo;
    // The PgBouncer pool size behind a pooled target, when known (sandbox: SandboxOptions
    // poolSize), for the summary; 0: unknown.
    int poolerPoolSize = 0;
};

struct LoadDemoRequest
{
    LoadDemoConfig config;
    QList<LoadDemoTarget> targets; // 1..4, run one after the other, each with the same config
    // Required for any target that is not on this machine (ConnInfo::targetsLoopbackOnly).
    bool allowRemote = false;
    // Optional, not owned; must outlive the run (until finished() / runLoadDemo returns). Every
    // snapshot is appended under the loaddemoseries names below. Thread-safe store: written from
    // the coordinating thread.
    TimeSeriesStore *store = nullptr;
    // Between two targets: wait (bounded) until the server count is back at the baseline.
    std::chrono::milliseconds settleTimeout { 5000 };
};

// The sandbox's endpoints as targets: `which` is "direct", "pooled" or "both" (direct first).
// Monitoring goes through the admin URI (superuser: a reserved slot, sees every backend), the
// pooled target gets the stats console (SHOW POOLS) and the admin console (RECONNECT after the
// run). poolerPoolSize: the sandbox's SandboxOptions::poolSize, for the summary.
QList<LoadDemoTarget> loadDemoSandboxTargets(const sandbox::SandboxEndpoints &endpoints,
                                             const QString &which, int poolerPoolSize);

// Checks every bound and, for non-loopback targets, clamps to the remote caps. Returns why the
// request is refused (bad value, a local cap exceeded, a remote target without allowRemote, an
// unparsable conninfo, too few file descriptors for the client connections) or the warnings of
// the caps applied (empty for the sandbox). Idempotent; runLoadDemo() calls it too.
Result<QStringList, QString> applyLoadDemoLimits(LoadDemoRequest &request);

// ----------------------------------------------------------------------------------------------
// Scenario presets (the guide's profiles and the demos)

struct LoadDemoScenario
{
    QString name;        // command line key: "local-dev", "serverless", "small-plan", "fanout-50"
    QString title;       // for the window's picker
    QString description; // one or two sentences: what it shows
    LoadDemoConfig config;
    int sandboxMaxConnections = 100; // the sandbox to start for it (SandboxOptions)
    int sandboxPoolSize = 20;
    QString targets = QStringLiteral("both"); // "direct", "pooled" or "both"
};

QList<LoadDemoScenario> loadDemoScenarios();
std::optional<LoadDemoScenario> loadDemoScenario(const QString &name);

// ----------------------------------------------------------------------------------------------
// Results (immutable values, safe to copy across threads)

// Errors by class, from the project's one mapping (core/db/dberror.h): 53300 ->
// tooManyConnections; the instance pool's own timeout -> acquireTimeout; PgBouncer's errors
// (08P01: query_wait_timeout, max_client_conn, ...) -> pooler; everything else -> other.
struct LoadDemoErrorCounts
{
    qint64 tooManyConnections = 0;
    qint64 acquireTimeout = 0;
    qint64 pooler = 0;
    qint64 other = 0;

    qint64 total() const { return tooManyConnections + acquireTimeout + pooler + other; }
};

enum class LoadDemoErrorClass { TooManyConnections, AcquireTimeout, Pooler, Other };
LoadDemoErrorClass loadDemoErrorClass(const DbError &error);
QString loadDemoErrorClassName(LoadDemoErrorClass c); // "too_many_connections", ... (JSON keys)

// The first error seen of one class, with the mapping's remedy.
struct LoadDemoFirstError
{
    LoadDemoErrorClass errorClass = LoadDemoErrorClass::Other;
    DbError error;
    double atSeconds = 0; // since the run started
};

// Live figures, every snapshotInterval. Counters are cumulative since the run started; latency
// percentiles cover only the requests completed since the previous snapshot (the window).
// Server-side figures are -1 when unknown (monitoring query failed or not applicable).
struct LoadDemoSnapshot
{
    int runIndex = 0; // 0-based position of the target in the request
    QString target;   // LoadDemoTarget::label
    qint64 tMs = 0;   // wall clock, ms since the Unix epoch (the store's time axis)
    double elapsedSeconds = 0;
    bool arrivalsDone = false; // past `duration`: draining

    qint64 requests = 0; // arrived so far (including burst requests)
    qint64 ok = 0;
    LoadDemoErrorCounts errors;
    int inFlight = 0;              // arrived, not finished (waiting or holding)
    int waiting = 0;               // of those, queued for a connection in their instance
    int clientConnections = 0;     // open connections over all instance pools
    int connecting = 0;            // connection attempts in progress
    int warmInstances = 0;         // instances whose pool is open
    double completedPerSecond = 0; // ok + errors finished in the window, per second

    LatencySummary latency;     // request: arrival to finish (window)
    LatencySummary acquireWait; // arrival to connection handed over (window)

    int serverConnections = -1;    // client backends of the target database, monitor excluded
    int serverLimit = -1;          // max_connections - superuser_reserved_connections
    int poolerClientsWaiting = -1; // SHOW POOLS cl_waiting (pooled targets with a console)
    int poolerServersActive = -1;  // SHOW POOLS sv_active
};

struct LoadDemoRunSummary
{
    int runIndex = 0;
    QString target;      // label
    QString displayName; // host:port/db, no user or password
    bool pooled = false;
    LoadDemoConfig config;
    QDateTime startedAt;
    double durationSeconds = 0; // from the first arrival to the last connection closed

    qint64 requests = 0;
    qint64 ok = 0;
    LoadDemoErrorCounts errors;
    qint64 abandoned = 0; // still in flight when the drain grace ended (closed, not counted ok)
    QList<LoadDemoFirstError> firstErrors; // one per class seen, in class order

    LatencySummary latency;     // successful requests (after the warmup)
    LatencySummary acquireWait; // requests that got a connection (after the warmup)
    // How late the engine dispatched arrivals against their Poisson schedule: the engine's own
    // saturation (a p99 of a few ms means the generator kept up). Latency is measured from the
    // scheduled arrival, so lag is included in it (no coordinated omission).
    LatencySummary dispatchLag;
    // Over the arrival period after the warmup (config.warmup .. duration, or the cancel):
    qint64 measuredRequests = 0;      // requests that arrived in it
    qint64 measuredOk = 0;            // of those, the successful ones
    double offeredRatePerSecond = 0;  // measuredRequests / its length
    double achievedRatePerSecond = 0; // measuredOk / its length

    int baselineServerConnections = -1; // before the run (monitor excluded)
    int peakServerConnections = -1;     // highest sampled during the run
    int serverConnectionsAfter = -1;    // after every connection was closed (and settled)
    bool returnedToBaseline = false;    // serverConnectionsAfter <= baseline
    int serverLimit = -1;
    int poolerPoolSize = 0; // LoadDemoTarget::poolerPoolSize
    int peakPoolerClientsWaiting = -1;
    int peakClientConnections = 0;
    qint64 connectionsOpened = 0; // successful connects over the run
    qint64 connectionsClosed = 0; // by lifetime, idle, recycling, errors and the final close
    qint64 coldStarts = 0;        // pools opened (first requests and after scale-to-zero)
    double clientCpuSeconds = 0;  // this process, user + system, during the run

    bool cancelled = false;
    QStringList warnings;         // remote caps applied, monitoring failures, ...
    std::optional<DbError> fatal; // the run could not start (e.g. monitoring connection failed)
};

struct LoadDemoReport
{
    QList<LoadDemoRunSummary> runs; // in target order; fewer when cancelled or refused
    QStringList warnings;           // from applyLoadDemoLimits
    std::optional<QString> refused; // applyLoadDemoLimits refused the request: nothing ran
    bool cancelled = false;
    QDateTime startedAt;
    QDateTime finishedAt;
};

// ----------------------------------------------------------------------------------------------
// Running

struct LoadDemoCallbacks
{
    std::function<void(const LoadDemoRunSummary &startedRun)> runStarted; // config, baseline
    std::function<void(const LoadDemoSnapshot &)> snapshot;
    std::function<void(const LoadDemoRunSummary &)> runFinished;
};

// Blocking: runs every target one after the other on worker threads it starts and joins, and
// coordinates from the calling thread (callbacks are called there). `cancel` is polled at least
// every snapshotInterval; once set, arrivals stop, every connection is closed and the report
// holds what was measured (cancelled = true). Returns only after every connection is closed;
// after each run it re-measures the server side until the count is back at the baseline
// (settleTimeout at most) unless `abandon` is set, which skips that (the runner's destructor:
// serverConnectionsAfter then stays -1). For commands and tests; the window uses LoadDemoRunner.
LoadDemoReport runLoadDemo(const LoadDemoRequest &request,
                           const std::atomic<bool> *cancel = nullptr,
                           const LoadDemoCallbacks &callbacks = {},
                           const std::atomic<bool> *abandon = nullptr);

// The series written to the store (one append per snapshot; 15 series, within the store's 48 with
// the sampler's ~27). Runs of several targets write the same names one after the other; each
// run starts with a gap marker in these series only.
namespace loaddemoseries {
inline const QString ServerConnections = QStringLiteral("demo.server_connections");
inline const QString ServerLimit = QStringLiteral("demo.server_limit");
inline const QString ClientConnections = QStringLiteral("demo.client_connections");
inline const QString InFlight = QStringLiteral("demo.in_flight");
inline const QString CompletedPerSecond = QStringLiteral("demo.completed_per_second");
inline const QString LatencyP50 = QStringLiteral("demo.latency_p50_ms");
inline const QString LatencyP95 = QStringLiteral("demo.latency_p95_ms");
inline const QString LatencyP99 = QStringLiteral("demo.latency_p99_ms");
inline const QString AcquireWaitP95 = QStringLiteral("demo.acquire_wait_p95_ms");
// Errors per second over the last snapshot interval, by class.
inline const QString ErrorsTooManyConnections = QStringLiteral("demo.errors.too_many_connections");
inline const QString ErrorsAcquireTimeout = QStringLiteral("demo.errors.acquire_timeout");
inline const QString ErrorsPooler = QStringLiteral("demo.errors.pooler");
inline const QString ErrorsOther = QStringLiteral("demo.errors.other");
inline const QString PoolerClientsWaiting = QStringLiteral("demo.pooler_cl_waiting");
inline const QString PoolerServersActive = QStringLiteral("demo.pooler_sv_active");
QStringList all();
} // namespace loaddemoseries

// The window's handle on a load demo.
//
// Thread contract:
//  - Create, start(), isRunning() and destroy on one thread (normally the GUI thread, "the
//    runner's thread"). stop() is thread-safe.
//  - start() never blocks and never touches the network: it validates the request
//    (applyLoadDemoLimits) and starts one std::thread that calls runLoadDemo(); that thread
//    starts the engine's worker threads. Nothing runs on the runner's thread but signal delivery.
//  - Every signal is emitted on the runner's thread (queued), in the order produced: per target
//    runStarted, snapshot (every ~250 ms), runFinished; then finished exactly once per successful
//    start(). Each carries an immutable copied value without secrets.
//  - isRunning() is true from a successful start() until finished() is emitted (already false in
//    a slot connected to finished(), so that slot may start the next demo).
//  - stop() returns at once; within ~20 ms arrivals stop and every connection (attempts in
//    progress included) is closed; then the server side is re-measured until it is back at the
//    baseline (up to settleTimeout, 5 s) and finished() comes with cancelled = true and what was
//    measured.
//  - The destructor stops, skips that re-measuring and joins: when it returns, every connection
//    of the demo is closed. It normally returns within a few tens of ms; when the server stops
//    answering, a monitoring query in progress can hold it up to its 2 s deadline. Signals not
//    yet delivered are dropped.
//  - The store given in the request must outlive the run (the destructor is enough).
class LoadDemoRunner : public QObject
{
    Q_OBJECT

public:
    explicit LoadDemoRunner(QObject *parent = nullptr);
    ~LoadDemoRunner() override;

    // False (with the reason in *whyNot) when already running or when applyLoadDemoLimits
    // refuses the request. Never blocks.
    bool start(const LoadDemoRequest &request, QString *whyNot = nullptr);
    void stop();
    bool isRunning() const;

Q_SIGNALS:
    void runStarted(const poolscope::LoadDemoRunSummary &run); // config, target, baseline
    void snapshot(const poolscope::LoadDemoSnapshot &snapshot);
    void runFinished(const poolscope::LoadDemoRunSummary &summary);
    void finished(const poolscope::LoadDemoReport &report);

private:
    std::thread m_worker;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::shared_ptr<std::atomic<bool>> m_abandon; // set by the destructor only
    bool m_running = false;
};

void registerLoadDemoMetaTypes(); // called by the runner's constructor; idempotent

} // namespace poolscope

Q_DECLARE_METATYPE(poolscope::LoadDemoSnapshot)
Q_DECLARE_METATYPE(poolscope::LoadDemoRunSummary)
Q_DECLARE_METATYPE(poolscope::LoadDemoReport)
