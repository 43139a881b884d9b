// ConnectionPool: acquire/release paths and statistics. The maintainer thread (opening,
// housekeeping, backoff) lives in poolmaintainer.cpp.
#include "core/pool/connectionpool.h"

#include "core/logging/logging.h"
#include "core/pool/pool_p.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace poolscope {

QString poolHealthName(PoolHealth health)
{
    switch (health) {
    case PoolHealth::Ok:
        return QStringLiteral("ok");
    case PoolHealth::Reconnecting:
        return QStringLiteral("reconnecting");
    case PoolHealth::Closed:
        return QStringLiteral("closed");
    }
    return {};
}

namespace {

// What libpq will actually be given: our application_name unless the user set one, and the
// statement_timeout startup parameter when that is the chosen mode.
ConnInfo effectiveConnInfo(const PoolConfig &config, ConnInfo info)
{
    if (!config.applicationName.isEmpty() && !info.has(QStringLiteral("application_name")))
        info.set(QStringLiteral("application_name"), config.applicationName);
    if (config.effectiveStatementTimeoutMode() == StatementTimeoutMode::StartupParameter) {
        const QString option =
            QStringLiteral("-c statement_timeout=%1").arg(config.statementTimeout.count());
        const QString existing = info.value(QStringLiteral("options")).trimmed();
        info.set(QStringLiteral("options"),
                 existing.isEmpty() ? option : existing + QLatin1Char(' ') + option);
    }
    return info;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// PoolShared: acquire / release

PoolShared::PoolShared(PoolConfig config, ConnInfo connectInfo)
    : m_config(std::move(config))
    , m_connectInfo(std::move(connectInfo))
    , m_log(logging::logger("pool"))
{
    m_wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

PoolShared::~PoolShared()
{
    close();
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
}

std::chrono::milliseconds PoolShared::statementDeadline() const
{
    // The server's statement_timeout should fire first; this is the backstop for a server or
    // network that stops answering altogether.
    constexpr auto grace = std::chrono::seconds(5);
    if (m_config.effectiveStatementTimeoutMode() == StatementTimeoutMode::Off)
        return std::chrono::hours(1);
    return m_config.statementTimeout + grace;
}

void PoolShared::wakeMaintainer()
{
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(m_wakeFd, &one, sizeof one);
}

std::unique_ptr<PooledConnection>
PoolShared::takeIdle(std::vector<std::unique_ptr<PooledConnection>> &discard, Liveness &liveness)
{
    const Clock::time_point now = Clock::now();
    while (!m_idle.empty()) {
        std::unique_ptr<PooledConnection> c = std::move(m_idle.back());
        m_idle.pop_back();
        // Lifetime and idle age are checked here too, not only by the maintainer: a process that
        // was frozen (a suspended serverless instance) resumes before any timer fires.
        if (now >= c->expiresAt) {
            ++m_counters.destroyedLifetime;
        } else if (now - c->lastUsedAt > m_config.maxIdle) {
            ++m_counters.destroyedIdle;
        } else if ((liveness = c->connection.checkLiveness()) == Liveness::Dead) {
            ++m_counters.connectionsLost;
            m_log->info("discarded a dead idle connection at checkout (backend pid {})",
                        c->connection.backendPid());
        } else {
            return c;
        }
        discard.push_back(std::move(c));
        wakeMaintainer();
    }
    return nullptr;
}

bool PoolShared::prepareForUse(PooledConnection &c, Clock::time_point now, Liveness liveness)
{
    // Called without the lock, on a connection nobody else can see. `liveness` is the checkout's
    // socket check: polling again would find the socket quiet once a Suspicious check has
    // consumed what the server sent, and so skip the verifying ping.
    const bool ping = liveness != Liveness::Alive || now - c.lastUsedAt > m_config.pingAfterIdle;
    if (ping) {
        if (auto r = c.connection.ping(m_config.validationTimeout); !r) {
            m_log->info("checkout validation failed, connection discarded: {}",
                        r.error().summary().toStdString());
            return false;
        }
    }
    if (m_config.effectiveStatementTimeoutMode() == StatementTimeoutMode::SetOnCheckout) {
        const QString sql =
            QStringLiteral("SET statement_timeout = %1").arg(m_config.statementTimeout.count());
        if (auto r = c.connection.exec(sql, m_config.validationTimeout); !r) {
            m_log->warn("SET statement_timeout on checkout failed: {}",
                        r.error().summary().toStdString());
            return false;
        }
    }
    return true;
}

Lease PoolShared::grant(std::unique_ptr<PooledConnection> c, const QString &label,
                        Clock::time_point start)
{
    const Clock::time_point now = Clock::now();
    c->checkedOutAt = now;
    m_leased[c->id] = LeaseRecord { label, now, false };
    m_acquireWait.record(now - start);
    return Lease(shared_from_this(), std::move(c));
}

Result<Lease, DbError> PoolShared::acquire(const QString &label, std::chrono::milliseconds timeout)
{
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + timeout;
    std::vector<std::unique_ptr<PooledConnection>> discard; // closed after the lock is released
    std::unique_lock lock(m_mutex);
    if (m_closed)
        return makeError(ErrorKind::PoolClosed, QStringLiteral("the pool is closed"));
    ++m_counters.acquires;
    bool countedWait = false;

    for (;;) {
        std::unique_ptr<PooledConnection> c;
        bool fresh = false; // handed over right after use or connect: no validation needed
        Liveness liveness = Liveness::Alive; // takeIdle's socket check: one poll() per checkout
        if (m_waiters.empty())
            c = takeIdle(discard, liveness);
        if (!c) {
            if (!countedWait) {
                ++m_counters.acquiresWaited;
                countedWait = true;
            }
            auto self = std::make_shared<Waiter>();
            m_waiters.push_back(self);
            // Only when a new connection may be opened: at maxSize the waiter is served by a
            // release, and waking the maintainer would cost a context switch for nothing.
            if (connectionsWanted() > 0)
                wakeMaintainer();
            self->wakeup.wait_until(lock, deadline,
                                    [&] { return self->connection || self->error || m_closed; });
            if (auto it = std::find(m_waiters.begin(), m_waiters.end(), self);
                it != m_waiters.end())
                m_waiters.erase(it);
            if (self->connection) {
                c = std::move(self->connection);
                fresh = true;
            } else if (self->error) {
                return *self->error;
            } else if (m_closed) {
                return makeError(ErrorKind::PoolClosed,
                                 QStringLiteral("the pool was closed while waiting"));
            } else {
                ++m_counters.acquireTimeouts;
                DbError e = makeError(
                    ErrorKind::AcquireTimeout,
                    QStringLiteral("no connection within %1 ms (%2 in use of max %3, %4 waiting)")
                        .arg(timeout.count())
                        .arg(m_leased.size())
                        .arg(m_config.maxSize)
                        .arg(m_waiters.size()));
                if (m_counters.consecutiveConnectFailures > 0 && m_counters.lastConnectError)
                    e.cause = std::make_shared<const DbError>(*m_counters.lastConnectError);
                lock.unlock();
                m_log->warn("acquire by '{}' timed out: {}", label.toStdString(),
                            e.summary().toStdString());
                return e;
            }
        }

        const bool needsSet =
            m_config.effectiveStatementTimeoutMode() == StatementTimeoutMode::SetOnCheckout;
        const Clock::time_point now = Clock::now();
        if (needsSet || (!fresh && now - c->lastUsedAt > m_config.pingAfterIdle)
            || (!fresh && liveness != Liveness::Alive)) {
            // Counts as in use while it is validated, so the pool never over-opens meanwhile.
            m_leased[c->id] = LeaseRecord { label, now, false };
            lock.unlock();
            discard.clear();
            const bool usable = prepareForUse(*c, now, fresh ? Liveness::Alive : liveness);
            lock.lock();
            if (!usable) {
                m_leased.erase(c->id);
                ++m_counters.connectionsLost;
                discard.push_back(std::move(c));
                wakeMaintainer();
                if (Clock::now() >= deadline) {
                    ++m_counters.acquireTimeouts;
                    return makeError(
                        ErrorKind::AcquireTimeout,
                        QStringLiteral("no usable connection within %1 ms").arg(timeout.count()));
                }
                continue;
            }
        }
        return grant(std::move(c), label, start);
    }
}

std::shared_ptr<Waiter> PoolShared::handOff(std::unique_ptr<PooledConnection> c)
{
    if (m_waiters.empty()) {
        m_idle.push_back(std::move(c));
        return nullptr;
    }
    std::shared_ptr<Waiter> oldest = std::move(m_waiters.front());
    m_waiters.pop_front();
    // Counted as in use from now on, not when the waiter wakes: otherwise the maintainer would
    // see a gap in the total and open one connection too many.
    m_leased[c->id] = LeaseRecord { QString(), Clock::now(), false };
    oldest->connection = std::move(c);
    return oldest;
}

void PoolShared::release(std::unique_ptr<PooledConnection> c)
{
    // Decide outside the lock whether the connection can be reused; only the ROLLBACK of a
    // transaction left open costs a round trip.
    const Clock::time_point now = Clock::now();
    enum class Fate { Reuse, Lost, Unusable, Expired } fate = Fate::Reuse;
    if (c->connection.isBroken()) {
        fate = Fate::Lost;
    } else {
        switch (c->connection.transactionState()) {
        case TransactionState::Idle:
            break;
        case TransactionState::InTransaction:
        case TransactionState::InError:
            if (!c->connection.exec(QStringLiteral("ROLLBACK"), m_config.validationTimeout))
                fate = Fate::Unusable;
            break;
        case TransactionState::Active:
        case TransactionState::Unknown:
            fate = Fate::Unusable; // a result is still pending: cannot be handed to anyone
            break;
        }
        if (fate == Fate::Reuse && now >= c->expiresAt)
            fate = Fate::Expired;
    }

    std::unique_ptr<PooledConnection> discard;
    std::shared_ptr<Waiter> served;
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_leased.find(c->id); it != m_leased.end()) {
            m_holdTime.record(now - it->second.checkedOutAt);
            m_leased.erase(it);
        }
        switch (fate) {
        case Fate::Reuse:
            break;
        case Fate::Lost:
            ++m_counters.connectionsLost;
            break;
        case Fate::Unusable:
            ++m_counters.destroyedBroken;
            break;
        case Fate::Expired:
            ++m_counters.destroyedLifetime;
            break;
        }
        if (fate == Fate::Reuse && !m_closed) {
            c->lastUsedAt = now;
            served = handOff(std::move(c));
        } else {
            discard = std::move(c);
            wakeMaintainer(); // replace it, for minSize or for a waiter
        }
    }
    if (served)
        served->wakeup.notify_one();
    m_sizeChanged.notify_all();
    // `discard` (if any) closes here, outside the lock.
}

PoolStats PoolShared::stats() const
{
    std::lock_guard lock(m_mutex);
    PoolStats s = m_counters;
    s.takenAt = QDateTime::currentDateTimeUtc();
    s.idle = int(m_idle.size());
    s.inUse = int(m_leased.size());
    s.connecting = m_connecting;
    s.size = s.idle + s.inUse + s.connecting;
    s.waiting = int(m_waiters.size());
    s.minSize = m_config.minSize;
    s.maxSize = m_config.maxSize;
    s.acquireWait = LatencySummary::of(m_acquireWait);
    s.connectTime = LatencySummary::of(m_connectTime);
    s.holdTime = LatencySummary::of(m_holdTime);
    if (m_closed)
        s.health = PoolHealth::Closed;
    return s;
}

bool PoolShared::waitUntilSize(int count, std::chrono::milliseconds timeout) const
{
    std::unique_lock lock(m_mutex);
    return m_sizeChanged.wait_for(lock, timeout,
                                  [&] { return int(m_idle.size() + m_leased.size()) >= count; });
}

void PoolShared::close()
{
    std::vector<std::unique_ptr<PooledConnection>> idle;
    {
        std::lock_guard lock(m_mutex);
        if (m_closed && !m_maintainer.joinable())
            return;
        m_closed = true;
        for (const auto &w : m_waiters) {
            w->error = makeError(ErrorKind::PoolClosed,
                                 QStringLiteral("the pool was closed while waiting"));
            w->wakeup.notify_one();
        }
        m_waiters.clear();
        idle.swap(m_idle);
    }
    wakeMaintainer();
    if (m_maintainer.joinable() && m_maintainer.get_id() != std::this_thread::get_id())
        m_maintainer.join();
    m_log->debug("pool closed; {} idle connections closed", idle.size());
}

// ---------------------------------------------------------------------------------------------
// ConnectionPool facade

ConnectionPool::ConnectionPool(std::shared_ptr<PoolShared> shared)
    : m_shared(std::move(shared))
{
}

ConnectionPool::~ConnectionPool()
{
    close();
}

Result<std::unique_ptr<ConnectionPool>, DbError> ConnectionPool::create(const PoolConfig &config)
{
    if (auto error = config.validate())
        return *error;
    auto parsed = ConnInfo::parse(config.conninfo);
    if (!parsed)
        return parsed.error();
    auto shared = std::make_shared<PoolShared>(config, effectiveConnInfo(config, parsed.value()));
    shared->startMaintainer();
    logging::logger("pool")->info(
        "pool created for {} (min {}, max {}, {} endpoint, statement_timeout {} ms via {})",
        parsed->redacted().toStdString(), config.minSize, config.maxSize,
        config.endpointRole == EndpointRole::Direct ? "direct" : "pooled",
        config.statementTimeout.count(),
        statementTimeoutModeName(config.effectiveStatementTimeoutMode()).toStdString());
    return std::unique_ptr<ConnectionPool>(new ConnectionPool(std::move(shared)));
}

Result<Lease, DbError> ConnectionPool::acquire(const QString &label,
                                               std::optional<std::chrono::milliseconds> timeout)
{
    return m_shared->acquire(label, timeout.value_or(m_shared->config().acquireTimeout));
}

PoolStats ConnectionPool::stats() const
{
    return m_shared->stats();
}

const PoolConfig &ConnectionPool::config() const
{
    return m_shared->config();
}

QString ConnectionPool::effectiveConninfoRedacted() const
{
    return m_shared->connectInfo().redacted();
}

bool ConnectionPool::waitUntilSize(int count, std::chrono::milliseconds timeout) const
{
    return m_shared->waitUntilSize(count, timeout);
}

void ConnectionPool::close()
{
    m_shared->close();
}

} // namespace poolscope
