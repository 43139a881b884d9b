#pragma once

// Private to the pool: the shared state behind ConnectionPool, its leases and its maintainer.

#include "core/db/connection.h"
#include "core/pool/lease.h"
#include "core/pool/poolconfig.h"
#include "core/pool/poolstats.h"

#include <spdlog/logger.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

namespace poolscope {

struct PooledConnection
{
    explicit PooledConnection(Connection c)
        : connection(std::move(c))
    {
    }
    Connection connection;
    std::uint64_t id = 0;
    Clock::time_point createdAt;
    Clock::time_point expiresAt;  // createdAt + maxLifetime minus jitter
    Clock::time_point lastUsedAt; // when it was last returned (or opened)
    Clock::time_point checkedOutAt;
};

// One caller blocked in acquire(), queued FIFO while it waits. Shared ownership so that the thread
// handing it a connection can notify it after releasing the pool mutex (notifying under the mutex
// makes the woken thread block on that mutex straight away). Fields are guarded by m_mutex.
struct Waiter
{
    std::condition_variable wakeup;
    std::unique_ptr<PooledConnection> connection; // handed over by release() or the maintainer
    std::optional<DbError> error;                 // set to fail the waiter early
};

// Bookkeeping for a lease that is out, for leak detection.
struct LeaseRecord
{
    QString label;
    Clock::time_point checkedOutAt;
    bool flagged = false;
};

class PoolShared : public std::enable_shared_from_this<PoolShared>
{
public:
    PoolShared(PoolConfig config, ConnInfo connectInfo);
    ~PoolShared();

    void startMaintainer();
    void close();

    Result<Lease, DbError> acquire(const QString &label, std::chrono::milliseconds timeout);
    void release(std::unique_ptr<PooledConnection> connection);
    PoolStats stats() const;
    bool waitUntilSize(int count, std::chrono::milliseconds timeout) const;

    const PoolConfig &config() const { return m_config; }
    const ConnInfo &connectInfo() const { return m_connectInfo; }
    std::chrono::milliseconds statementDeadline() const;

private:
    // --- acquire/release helpers (connectionpool.cpp), called with m_mutex held unless noted
    Lease grant(std::unique_ptr<PooledConnection> c, const QString &label, Clock::time_point start);
    // To the oldest waiter (returned: notify it once the mutex is released), else to idle.
    [[nodiscard]] std::shared_ptr<Waiter> handOff(std::unique_ptr<PooledConnection> c);
    // Pops the most recently used live idle connection; `liveness` is its socket check's outcome.
    std::unique_ptr<PooledConnection>
    takeIdle(std::vector<std::unique_ptr<PooledConnection>> &discard, Liveness &liveness);
    // Without the lock: ping when `liveness` or the idle time asks for it, SET on checkout.
    bool prepareForUse(PooledConnection &c, Clock::time_point now, Liveness liveness);
    void wakeMaintainer();

    // --- maintainer (poolmaintainer.cpp), runs on m_maintainer
    void maintainerLoop();
    void housekeeping(Clock::time_point now,
                      std::vector<std::unique_ptr<PooledConnection>> &discard);
    int connectionsWanted() const;
    void onConnected(Connection connection, Clock::duration took);
    void onConnectFailed(const DbError &error);
    Clock::duration nextBackoff();

    const PoolConfig m_config;
    const ConnInfo m_connectInfo; // with application_name and startup options applied
    std::shared_ptr<spdlog::logger> m_log;

    mutable std::mutex m_mutex;
    mutable std::condition_variable m_sizeChanged;
    std::vector<std::unique_ptr<PooledConnection>> m_idle; // LIFO: back is the most recently used
    std::deque<std::shared_ptr<Waiter>> m_waiters;         // FIFO
    std::unordered_map<std::uint64_t, LeaseRecord> m_leased;
    int m_connecting = 0;
    bool m_closed = false;
    std::uint64_t m_nextId = 1;
    PoolStats m_counters; // counters and health; gauges are filled in by stats()
    LatencyHistogram m_acquireWait;
    LatencyHistogram m_connectTime;
    LatencyHistogram m_holdTime;
    Clock::time_point m_backoffUntil {};
    std::mt19937_64 m_random { std::random_device {}() };

    int m_wakeFd = -1; // eventfd: wakes the maintainer's poll()
    std::thread m_maintainer;
};

} // namespace poolscope
