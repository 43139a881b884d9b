#pragma once

// Private to core: the load demo's engine. A few worker threads, each an epoll loop over
// non-blocking libpq connections; each worker owns a disjoint set of simulated instances (with
// their pools, waiters and requests) and generates its share of the Poisson arrivals itself, so
// workers share nothing but their statistics (under a mutex each) and the stop flags.
//
// Ownership: the Engine owns the Workers; a Worker owns its epoll fd, its eventfd, its
// instances, connections (PGconn via unique_ptr + PgConnDeleter) and requests. Worker::run()
// closes every connection before it returns, whatever made it return, and the Engine's
// destructor stops and joins the workers: no connection outlives the Engine.

#include "core/db/connection.h" // before connection_p.h, which needs <memory>
#include "core/db/connection_p.h"
#include "core/loaddemo/loaddemo.h"

#include <QByteArray>
#include <queue>

#include <atomic>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

namespace poolscope::loaddemo {

using Clock = std::chrono::steady_clock;
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

// What the workers share, read-only once the engine starts.
struct EngineSettings
{
    LoadDemoConfig config;
    std::vector<QByteArray> keywordStorage; // conninfo as libpq keyword/value pairs
    std::vector<QByteArray> valueStorage;
    std::vector<const char *> keywords; // null-terminated, pointing into the storage above
    std::vector<const char *> values;
    QByteArray holdSql; // "SELECT pg_sleep(0.050)" or "BEGIN"
    Clock::time_point start;

    void setConninfo(const QList<QPair<QString, QString>> &entries);
};

// Cumulative counters and gauges of one worker, plus the latency window since the last take().
struct WorkerStats
{
    qint64 requests = 0;
    qint64 ok = 0;
    LoadDemoErrorCounts errors;
    qint64 abandoned = 0;
    qint64 measuredRequests = 0; // arrived after the warmup
    qint64 measuredOk = 0;
    qint64 connectionsOpened = 0;
    qint64 connectionsClosed = 0;
    qint64 coldStarts = 0;
    int inFlight = 0;
    int waiting = 0;
    int clientConnections = 0; // open (connected) connections
    int connecting = 0;
    int warmInstances = 0;
    bool arrivalsDone = false;
    LatencyHistogram latencyWindow;
    LatencyHistogram acquireWindow;
    qint64 finishedWindow = 0; // ok + errors since the last take()
    LatencyHistogram latencyAll;
    LatencyHistogram acquireAll;
    LatencyHistogram dispatchLag;
    QList<LoadDemoFirstError> firstErrors;

    void merge(const WorkerStats &other);
};

struct Instance;

enum class ConnPhase {
    Connecting, // PQconnectPoll until OK or FAILED
    Idle,       // in the instance's idle list
    Query,      // the hold statement (or BEGIN) sent, reading its results
    Holding,    // ClientTransaction: inside BEGIN, waiting `hold` on the client side
    Commit,     // ClientTransaction: COMMIT sent
};

struct Conn
{
    quint64 id = 0;
    PgConnPtr pg;
    int fd = -1;
    quint32 interest = 0; // events registered with epoll (0: not registered)
    ConnPhase phase = ConnPhase::Connecting;
    PostgresPollingStatusType pollWant = PGRES_POLLING_WRITING;
    Instance *instance = nullptr;
    Clock::time_point created;
    Clock::time_point lastUsed;
    quint64 request = 0; // the request holding it (0: none)
    std::optional<DbError> resultError;
};

struct Request
{
    quint64 id = 0;
    Instance *instance = nullptr;
    Clock::time_point arrival; // the scheduled (Poisson) time, not the dispatch time
    bool waiting = true;
    bool measured = true; // arrived after the warmup
};

struct Instance
{
    int index = 0;
    bool warm = false;
    Clock::time_point warmSince;
    Clock::time_point lastRequest;
    std::vector<quint64> conns; // every connection of this instance (any phase)
    std::vector<quint64> idle;  // LIFO: the most recently used first
    std::deque<quint64> waiters;
    int connecting = 0;
    int inFlight = 0;
};

enum class TimerKind { AcquireTimeout, ConnectTimeout, HoldDone };

struct Timer
{
    Clock::time_point at;
    TimerKind kind;
    quint64 id; // request or connection id
    bool operator>(const Timer &o) const { return at > o.at; }
};

class Worker
{
public:
    Worker(const EngineSettings &settings, int index, int workerCount, quint64 seed);
    ~Worker();
    Worker(const Worker &) = delete;
    Worker &operator=(const Worker &) = delete;

    bool valid() const { return m_epoll >= 0 && m_wake >= 0; }
    void run();          // the thread's body: returns after closing every connection
    void requestStop();  // thread-safe: leave the loop now (in-flight requests are abandoned)
    void stopArrivals(); // thread-safe: no new arrivals from now on (cancel)
    // Copies the statistics; with resetWindow the latency window starts again.
    WorkerStats stats(bool resetWindow);

private:
    // loaddemoworker.cpp: the loop, arrivals, timers, epoll and libpq
    void dispatchArrivals(Clock::time_point now);
    void runTimers(Clock::time_point now);
    int waitTimeoutMs(Clock::time_point now) const;
    void handleEvent(quint64 connId, quint32 events);
    void advanceConnect(Conn &c);
    void sendStatement(Conn &c, const char *sql);
    void readResults(Conn &c);
    void statementDone(Conn &c);
    void updateInterest(Conn &c, quint32 wanted);
    void publishGauges();
    Conn *conn(quint64 id);

    // loaddemopool.cpp: the instance pools
    void arrive(Instance &inst, Clock::time_point scheduled, Clock::time_point now);
    void openPool(Instance &inst, Clock::time_point now);
    void startConnect(Instance &inst, Clock::time_point now);
    void connected(Conn &c, Clock::time_point now);
    void connectFailed(Conn &c, const DbError &error);
    void handOver(Conn &c, quint64 requestId, Clock::time_point now);
    void release(Conn &c, Clock::time_point now);
    void pump(Instance &inst, Clock::time_point now);
    void finishRequest(quint64 requestId, const std::optional<DbError> &error,
                       Clock::time_point now);
    void failHeadWaiter(Instance &inst, const DbError &error, Clock::time_point now);
    void acquireTimedOut(quint64 requestId, Clock::time_point now);
    void closeConn(quint64 connId);
    void sweep(Clock::time_point now);
    void closeEverything();

    const EngineSettings &m_settings;
    const LoadDemoConfig &m_config;
    int m_epoll = -1;
    int m_wake = -1; // eventfd: requestStop()/stopArrivals() wake the loop
    std::atomic<bool> m_stop { false };
    std::atomic<bool> m_noMoreArrivals { false };

    std::vector<Instance> m_instances;
    std::unordered_map<quint64, std::unique_ptr<Conn>> m_conns;
    std::unordered_map<quint64, Request> m_requests;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> m_timers;
    quint64 m_nextId = 1;

    std::mt19937_64 m_random;
    std::exponential_distribution<double> m_gap; // seconds between this worker's arrivals
    Clock::time_point m_nextArrival;
    Clock::time_point m_arrivalsEnd;
    // Burst mode: when each local instance comes up (ascending); the first m_burstNext are up.
    std::vector<Clock::time_point> m_burst;
    size_t m_burstNext = 0;
    Clock::time_point m_measureFrom;
    Clock::time_point m_nextSweep;

    // Local gauges, published into m_stats after each loop iteration.
    int m_inFlight = 0;
    int m_open = 0;
    int m_waiting = 0;
    int m_warm = 0;
    int m_connecting = 0;

    std::mutex m_statsMutex;
    WorkerStats m_stats;
};

// The worker threads of one run.
class Engine
{
public:
    explicit Engine(EngineSettings settings);
    ~Engine(); // requestStop + join: every connection closed
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    bool start(QString *error); // false when a worker could not get its epoll/eventfd
    void stopArrivals();
    void stop(); // closes everything and joins; idempotent
    WorkerStats stats(bool resetWindow);
    const EngineSettings &settings() const { return m_settings; }

private:
    EngineSettings m_settings;
    std::vector<std::unique_ptr<Worker>> m_workers;
    std::vector<std::thread> m_threads;
};

} // namespace poolscope::loaddemo
