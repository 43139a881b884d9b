// The simulated instances' pools: what happens when a request arrives, a connection opens or
// fails, a request finishes and time passes. One instance's pool behaves like node-postgres'
// pg-pool (the serverless default): a cold instance opens its pool on the first request with
// max(minSize, 1) connections; every waiting request beyond the connections being opened starts
// one more attempt while the pool is below maxSize; a failed attempt fails the oldest waiter with
// the server's reason (53300, ...) when no other attempt is left for it; waiters are served first
// come, first served and time out after acquireTimeout from their arrival.
#include "core/loaddemo/loaddemoengine_p.h"

#include <sys/epoll.h>

#include <algorithm>

namespace poolscope::loaddemo {
namespace {

template<typename C, typename V>
void eraseValue(C &container, const V &value)
{
    const auto it = std::find(container.begin(), container.end(), value);
    if (it != container.end())
        container.erase(it);
}

void ignoreNotice(void *, const char *) { }

} // namespace

void Worker::arrive(Instance &inst, Clock::time_point scheduled, Clock::time_point now)
{
    const quint64 id = m_nextId++;
    const bool measured = scheduled >= m_measureFrom;
    m_requests.emplace(id, Request { id, &inst, scheduled, true, measured });
    ++inst.inFlight;
    ++m_inFlight;
    inst.lastRequest = now;
    {
        std::lock_guard lock(m_statsMutex);
        ++m_stats.requests;
        if (measured) {
            ++m_stats.measuredRequests;
            m_stats.dispatchLag.record(now - scheduled);
        }
    }
    if (!inst.warm)
        openPool(inst, now);
    if (!inst.idle.empty()) {
        const quint64 connId = inst.idle.back();
        inst.idle.pop_back();
        if (Conn *c = conn(connId)) {
            handOver(*c, id, now);
            return;
        }
    }
    inst.waiters.push_back(id);
    ++m_waiting;
    // The deadline counts from the arrival: a request dispatched late has waited already.
    m_timers.push({ scheduled + m_config.pool.acquireTimeout, TimerKind::AcquireTimeout, id });
    pump(inst, now);
}

void Worker::openPool(Instance &inst, Clock::time_point now)
{
    inst.warm = true;
    inst.warmSince = now;
    ++m_warm;
    {
        std::lock_guard lock(m_statsMutex);
        ++m_stats.coldStarts;
    }
    const int n = std::clamp(m_config.pool.minSize, 1, m_config.pool.maxSize);
    for (int i = 0; i < n; ++i)
        startConnect(inst, now);
}

void Worker::startConnect(Instance &inst, Clock::time_point now)
{
    PgConnPtr pg(PQconnectStartParams(m_settings.keywords.data(), m_settings.values.data(), 0));
    if (!pg || PQstatus(pg.get()) == CONNECTION_BAD) {
        const DbError error = pg
            ? errorFromConnectMessage(QString::fromUtf8(PQerrorMessage(pg.get())))
            : makeError(ErrorKind::Unknown, QStringLiteral("out of memory"));
        failHeadWaiter(inst, error, now);
        return;
    }
    // Verbose errors carry the SQLSTATE of a FATAL during startup (53300 too many clients).
    PQsetErrorVerbosity(pg.get(), PQERRORS_VERBOSE);
    PQsetNoticeProcessor(pg.get(), ignoreNotice, nullptr);
    auto c = std::make_unique<Conn>();
    c->id = m_nextId++;
    c->pg = std::move(pg);
    c->instance = &inst;
    c->created = now;
    c->lastUsed = now;
    c->phase = ConnPhase::Connecting;
    inst.conns.push_back(c->id);
    ++inst.connecting;
    ++m_connecting;
    m_timers.push({ now + m_config.pool.connectTimeout, TimerKind::ConnectTimeout, c->id });
    Conn &ref = *c;
    m_conns.emplace(c->id, std::move(c));
    // libpq: after PQconnectStart, poll as if PQconnectPoll had said PGRES_POLLING_WRITING.
    updateInterest(ref, EPOLLOUT);
}

void Worker::connected(Conn &c, Clock::time_point now)
{
    Instance &inst = *c.instance;
    --inst.connecting;
    --m_connecting;
    ++m_open;
    c.phase = ConnPhase::Idle;
    c.created = now;
    c.lastUsed = now;
    {
        std::lock_guard lock(m_statsMutex);
        ++m_stats.connectionsOpened;
    }
    if (!inst.waiters.empty()) {
        const quint64 req = inst.waiters.front();
        inst.waiters.pop_front();
        --m_waiting;
        handOver(c, req, now);
        return;
    }
    inst.idle.push_back(c.id);
    updateInterest(c, EPOLLIN);
}

void Worker::connectFailed(Conn &c, const DbError &error)
{
    const Clock::time_point now = Clock::now();
    Instance &inst = *c.instance;
    closeConn(c.id);
    // The oldest waiter fails with the server's reason unless another attempt in progress can
    // still serve it (a pool warming up opens several at once).
    if (int(inst.waiters.size()) > inst.connecting)
        failHeadWaiter(inst, error, now);
    pump(inst, now);
}

void Worker::handOver(Conn &c, quint64 requestId, Clock::time_point now)
{
    const auto it = m_requests.find(requestId);
    if (it == m_requests.end()) {
        release(c, now);
        return;
    }
    it->second.waiting = false;
    c.request = requestId;
    c.phase = ConnPhase::Query;
    {
        std::lock_guard lock(m_statsMutex);
        m_stats.acquireWindow.record(now - it->second.arrival);
        if (it->second.measured)
            m_stats.acquireAll.record(now - it->second.arrival);
    }
    sendStatement(c, m_settings.holdSql.constData());
}

void Worker::release(Conn &c, Clock::time_point now)
{
    Instance &inst = *c.instance;
    c.phase = ConnPhase::Idle;
    c.lastUsed = now;
    const auto lifetime = m_config.pool.maxLifetime;
    if (!inst.warm || (lifetime.count() > 0 && now - c.created >= lifetime)) {
        closeConn(c.id);
        pump(inst, now);
        return;
    }
    if (!inst.waiters.empty()) {
        const quint64 req = inst.waiters.front();
        inst.waiters.pop_front();
        --m_waiting;
        handOver(c, req, now);
        return;
    }
    inst.idle.push_back(c.id);
    updateInterest(c, EPOLLIN);
}

void Worker::pump(Instance &inst, Clock::time_point now)
{
    while (inst.warm && !inst.waiters.empty() && int(inst.waiters.size()) > inst.connecting
           && int(inst.conns.size()) < m_config.pool.maxSize) {
        const size_t before = inst.waiters.size() + inst.conns.size();
        startConnect(inst, now);
        if (inst.waiters.size() + inst.conns.size() == before)
            break; // defensive: no progress
    }
}

void Worker::finishRequest(quint64 requestId, const std::optional<DbError> &error,
                           Clock::time_point now)
{
    const auto it = m_requests.find(requestId);
    if (it == m_requests.end())
        return;
    const Request r = it->second;
    m_requests.erase(it);
    --r.instance->inFlight;
    --m_inFlight;
    std::lock_guard lock(m_statsMutex);
    ++m_stats.finishedWindow;
    if (!error) {
        ++m_stats.ok;
        m_stats.latencyWindow.record(now - r.arrival);
        if (r.measured) {
            ++m_stats.measuredOk;
            m_stats.latencyAll.record(now - r.arrival);
        }
        return;
    }
    const LoadDemoErrorClass cls = loadDemoErrorClass(*error);
    switch (cls) {
    case LoadDemoErrorClass::TooManyConnections:
        ++m_stats.errors.tooManyConnections;
        break;
    case LoadDemoErrorClass::AcquireTimeout:
        ++m_stats.errors.acquireTimeout;
        break;
    case LoadDemoErrorClass::Pooler:
        ++m_stats.errors.pooler;
        break;
    case LoadDemoErrorClass::Other:
        ++m_stats.errors.other;
        break;
    }
    const bool seen =
        std::any_of(m_stats.firstErrors.cbegin(), m_stats.firstErrors.cend(),
                    [cls](const LoadDemoFirstError &e) { return e.errorClass == cls; });
    if (!seen)
        m_stats.firstErrors.append(LoadDemoFirstError {
            cls, *error, std::chrono::duration<double>(now - m_settings.start).count() });
}

void Worker::failHeadWaiter(Instance &inst, const DbError &error, Clock::time_point now)
{
    if (inst.waiters.empty())
        return; // an attempt made to warm the pool: no request was waiting on it
    const quint64 req = inst.waiters.front();
    inst.waiters.pop_front();
    --m_waiting;
    finishRequest(req, error, now);
}

void Worker::acquireTimedOut(quint64 requestId, Clock::time_point now)
{
    const auto it = m_requests.find(requestId);
    if (it == m_requests.end() || !it->second.waiting)
        return;
    Instance &inst = *it->second.instance;
    eraseValue(inst.waiters, requestId);
    --m_waiting;
    finishRequest(requestId,
                  makeError(ErrorKind::AcquireTimeout,
                            QStringLiteral("instance %1: no connection within %2 ms (%3 open or "
                                           "opening, pool max %4)")
                                .arg(inst.index)
                                .arg(qint64(m_config.pool.acquireTimeout.count()))
                                .arg(inst.conns.size())
                                .arg(m_config.pool.maxSize)),
                  now);
}

void Worker::closeConn(quint64 connId)
{
    const auto it = m_conns.find(connId);
    if (it == m_conns.end())
        return;
    Conn &c = *it->second;
    Instance &inst = *c.instance;
    if (c.fd >= 0 && c.interest)
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
    if (c.phase == ConnPhase::Connecting) {
        --inst.connecting;
        --m_connecting;
    } else {
        --m_open;
        std::lock_guard lock(m_statsMutex);
        ++m_stats.connectionsClosed;
    }
    eraseValue(inst.idle, connId);
    eraseValue(inst.conns, connId);
    m_conns.erase(it); // PQfinish: sends Terminate and closes the socket
}

void Worker::sweep(Clock::time_point now)
{
    const LoadDemoPoolProfile &p = m_config.pool;
    for (Instance &inst : m_instances) {
        if (!inst.warm)
            continue;
        const bool quiet = inst.inFlight == 0 && inst.waiters.empty();
        const bool idleTooLong =
            p.instanceIdleTimeout.count() > 0 && now - inst.lastRequest >= p.instanceIdleTimeout;
        const bool tooOld =
            p.instanceLifetime.count() > 0 && now - inst.warmSince >= p.instanceLifetime;
        if (quiet && (idleTooLong || tooOld)) {
            // Scale to zero / recycle: the next request is a cold start again.
            const std::vector<quint64> all = inst.conns;
            for (quint64 id : all)
                closeConn(id);
            inst.warm = false;
            --m_warm;
            continue;
        }
        if (p.maxIdle.count() > 0) {
            const std::vector<quint64> idle = inst.idle; // oldest first (LIFO list's front)
            for (quint64 id : idle) {
                if (int(inst.conns.size()) <= p.minSize)
                    break;
                if (const Conn *c = conn(id); c && now - c->lastUsed >= p.maxIdle)
                    closeConn(id);
            }
        }
    }
}

void Worker::closeEverything()
{
    if (!m_requests.empty()) {
        std::lock_guard lock(m_statsMutex);
        m_stats.abandoned += qint64(m_requests.size());
    }
    m_requests.clear();
    std::vector<quint64> ids;
    ids.reserve(m_conns.size());
    for (const auto &entry : m_conns)
        ids.push_back(entry.first);
    for (quint64 id : ids)
        closeConn(id);
    for (Instance &inst : m_instances) {
        inst.waiters.clear();
        inst.inFlight = 0;
        if (inst.warm)
            --m_warm;
        inst.warm = false;
    }
    m_waiting = 0;
    m_inFlight = 0;
}

} // namespace poolscope::loaddemo
