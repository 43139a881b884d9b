// The pool's maintainer thread: opens connections (several at once, multiplexing non-blocking
// libpq connects with poll()), retries with exponential backoff and jitter while the server is
// unreachable, and does the periodic housekeeping (idle/lifetime expiry, dead idle sockets,
// leak detection).
#include "core/db/threadtlsstate.h"
#include "core/pool/pool_p.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>

namespace poolscope {
namespace {

qint64 toMs(Clock::duration d)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

} // namespace

void PoolShared::startMaintainer()
{
    m_maintainer = std::thread([this] {
        ThreadTlsStateGuard tls;
        maintainerLoop();
    });
}

int PoolShared::connectionsWanted() const
{
    const int open = int(m_idle.size() + m_leased.size());
    const int total = open + m_connecting;
    const int forMinimum = m_config.minSize - total;
    const int forWaiters = int(m_waiters.size()) - m_connecting;
    return std::clamp(std::max(forMinimum, forWaiters), 0, m_config.maxSize - total);
}

Clock::duration PoolShared::nextBackoff()
{
    // Exponential, capped, with "equal jitter" (half fixed, half random) so that many clients
    // retrying after the same outage do not reconnect in lockstep.
    const int exponent = std::min(m_counters.consecutiveConnectFailures - 1, 20);
    const auto base = std::min<Clock::duration>(m_config.reconnectBackoffMax,
                                                m_config.reconnectBackoffInitial
                                                    * (1LL << std::max(exponent, 0)));
    std::uniform_real_distribution<double> half(0.5, 1.0);
    return std::chrono::duration_cast<Clock::duration>(base * half(m_random));
}

void PoolShared::onConnected(Connection connection, Clock::duration took)
{
    const Clock::time_point now = Clock::now();
    auto c = std::make_unique<PooledConnection>(std::move(connection));
    c->createdAt = now;
    c->lastUsedAt = now;
    std::uniform_real_distribution<double> jitter(0.0, m_config.lifetimeJitter);
    c->expiresAt = now
        + std::chrono::duration_cast<Clock::duration>(m_config.maxLifetime
                                                      * (1.0 - jitter(m_random)));
    std::shared_ptr<Waiter> served;
    {
        std::lock_guard lock(m_mutex);
        c->id = m_nextId++;
        --m_connecting;
        ++m_counters.connectsOk;
        m_connectTime.record(took);
        if (m_counters.health == PoolHealth::Reconnecting) {
            m_log->info("connected again after {} failed attempts",
                        m_counters.consecutiveConnectFailures);
            m_counters.health = PoolHealth::Ok;
        }
        m_counters.consecutiveConnectFailures = 0;
        m_backoffUntil = {};
        if (m_closed)
            return; // c closes on scope exit
        served = handOff(std::move(c));
    }
    if (served)
        served->wakeup.notify_one();
    m_sizeChanged.notify_all();
}

void PoolShared::onConnectFailed(const DbError &error)
{
    std::lock_guard lock(m_mutex);
    --m_connecting;
    ++m_counters.connectsFailed;
    ++m_counters.connectsFailedByKind[error.kind];
    m_counters.lastConnectError = error;
    const int failures = ++m_counters.consecutiveConnectFailures;
    m_counters.health = PoolHealth::Reconnecting;
    const Clock::duration backoff = nextBackoff();
    m_backoffUntil = Clock::now() + backoff;
    // First failure and then every power of two: visible without flooding the log in an outage.
    if ((failures & (failures - 1)) == 0)
        m_log->warn("connect failed ({} in a row), retrying in {} ms: {}", failures, toMs(backoff),
                    error.summary().toStdString());
    else
        m_log->debug("connect failed ({} in a row): {}", failures, error.summary().toStdString());
    if (!error.isTransient()) {
        // A wrong password or a missing database will not fix itself: fail callers now rather
        // than letting each of them wait out its acquire timeout.
        for (const auto &w : m_waiters) {
            w->error = error;
            w->wakeup.notify_one();
        }
        m_waiters.clear();
    }
}

void PoolShared::housekeeping(Clock::time_point now,
                              std::vector<std::unique_ptr<PooledConnection>> &discard)
{
    // Idle connections, least recently used first (the front of the LIFO stack).
    int open = int(m_idle.size() + m_leased.size());
    for (auto it = m_idle.begin(); it != m_idle.end();) {
        PooledConnection &c = **it;
        bool remove = false;
        if (now >= c.expiresAt) {
            ++m_counters.destroyedLifetime;
            remove = true;
        } else if (c.connection.checkLiveness() == Liveness::Dead) {
            ++m_counters.connectionsLost;
            m_log->info("idle connection found closed by the server (backend pid {}), discarded",
                        c.connection.backendPid());
            remove = true;
        } else if (open > m_config.minSize && now - c.lastUsedAt > m_config.maxIdle) {
            ++m_counters.destroyedIdle;
            remove = true;
        }
        if (remove) {
            discard.push_back(std::move(*it));
            it = m_idle.erase(it);
            --open;
        } else {
            ++it;
        }
    }

    if (m_config.leakThreshold.count() > 0) {
        for (auto &[id, lease] : m_leased) {
            if (lease.flagged || now - lease.checkedOutAt < m_config.leakThreshold)
                continue;
            lease.flagged = true;
            ++m_counters.leaksFlagged;
            m_log->warn("possible connection leak: held for {} ms by '{}' (threshold {} ms)",
                        toMs(now - lease.checkedOutAt),
                        lease.label.isEmpty() ? std::string("unlabelled")
                                              : lease.label.toStdString(),
                        m_config.leakThreshold.count());
        }
    }
    if (!discard.empty())
        m_sizeChanged.notify_all();
}

void PoolShared::maintainerLoop()
{
    std::vector<ConnectAttempt> attempts;
    Clock::time_point nextHousekeeping = Clock::now();

    for (;;) {
        std::vector<std::unique_ptr<PooledConnection>> discard;
        int toStart = 0;
        bool waitingForBackoff = false;
        Clock::time_point now = Clock::now();
        {
            std::lock_guard lock(m_mutex);
            if (m_closed)
                break;
            if (now >= nextHousekeeping) {
                housekeeping(now, discard);
                nextHousekeeping = now + m_config.housekeepingInterval;
            }
            const int wanted = connectionsWanted();
            if (wanted > 0 && now < m_backoffUntil) {
                waitingForBackoff = true;
            } else if (wanted > 0) {
                // While reconnecting, probe with one attempt at a time rather than a burst.
                toStart = m_counters.consecutiveConnectFailures > 0 ? std::min(wanted, 1) : wanted;
                if (m_counters.consecutiveConnectFailures > 0 && m_connecting > 0)
                    toStart = 0;
                m_connecting += toStart;
                m_counters.peakConnecting = std::max(m_counters.peakConnecting, m_connecting);
            }
        }
        discard.clear(); // close outside the lock

        for (int i = 0; i < toStart; ++i) {
            attempts.emplace_back(m_connectInfo, now + m_config.connectTimeout);
            m_log->debug("opening a connection ({} in flight)", attempts.size());
        }

        // Settle finished attempts.
        for (auto it = attempts.begin(); it != attempts.end();) {
            const ConnectAttempt::Want want = it->wants();
            if (want != ConnectAttempt::Want::Done && want != ConnectAttempt::Want::Failed) {
                ++it;
                continue;
            }
            const Clock::duration took = Clock::now() - it->startedAt();
            auto result = it->take();
            it = attempts.erase(it);
            if (result)
                onConnected(std::move(result).value(), took);
            else
                onConnectFailed(result.error());
        }

        // Sleep until a socket is ready, the maintainer is woken, or something is due.
        std::vector<pollfd> fds;
        fds.push_back({ m_wakeFd, POLLIN, 0 });
        Clock::time_point wakeAt = nextHousekeeping;
        for (const ConnectAttempt &a : attempts) {
            fds.push_back({ a.socketDescriptor(),
                            short(a.wants() == ConnectAttempt::Want::Read ? POLLIN : POLLOUT), 0 });
            wakeAt = std::min(wakeAt, a.deadline());
        }
        if (waitingForBackoff) {
            std::lock_guard lock(m_mutex);
            wakeAt = std::min(wakeAt, m_backoffUntil);
        }
        const qint64 waitMs = std::max<qint64>(0, toMs(wakeAt - Clock::now()) + 1);
        const int rc =
            ::poll(fds.data(), nfds_t(fds.size()), int(std::min<qint64>(waitMs, 60'000)));
        if (rc > 0 && (fds[0].revents & POLLIN)) {
            std::uint64_t counter;
            [[maybe_unused]] ssize_t n = ::read(m_wakeFd, &counter, sizeof counter);
        }
        now = Clock::now();
        for (size_t i = 0; i < attempts.size(); ++i) {
            if (rc > 0 && fds[i + 1].revents != 0)
                attempts[i].advance();
            else if (now >= attempts[i].deadline())
                attempts[i].expire();
        }
    }

    // Closing: abandon attempts in flight (PQfinish via their destructors).
    std::lock_guard lock(m_mutex);
    m_connecting -= int(attempts.size());
}

} // namespace poolscope
