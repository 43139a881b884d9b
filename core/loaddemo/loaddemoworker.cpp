// One worker of the load demo engine: an epoll loop over non-blocking libpq connections, its
// share of the Poisson arrivals, and the timers (acquire and connect deadlines, client-side
// holds). The instance pools' decisions are in loaddemopool.cpp.
#include "core/loaddemo/loaddemoengine_p.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace poolscope::loaddemo {
namespace {

constexpr std::chrono::milliseconds kSweepInterval { 100 };
constexpr quint64 kWakeId = 0; // epoll data of the eventfd; connection ids start at 1

Clock::duration seconds(double s)
{
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

} // namespace

void EngineSettings::setConninfo(const QList<QPair<QString, QString>> &entries)
{
    keywordStorage.clear();
    valueStorage.clear();
    for (const auto &e : entries) {
        keywordStorage.push_back(e.first.toUtf8());
        valueStorage.push_back(e.second.toUtf8());
    }
    keywords.clear();
    values.clear();
    for (size_t i = 0; i < keywordStorage.size(); ++i) {
        keywords.push_back(keywordStorage[i].constData());
        values.push_back(valueStorage[i].constData());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
}

Worker::Worker(const EngineSettings &settings, int index, int workerCount, quint64 seed)
    : m_settings(settings)
    , m_config(settings.config)
    , m_random(seed)
{
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    m_wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_epoll >= 0 && m_wake >= 0) {
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.u64 = kWakeId;
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &ev);
    }
    const int total = m_config.instances;
    for (int global = index; global < total; global += workerCount) {
        Instance inst;
        inst.index = global;
        m_instances.push_back(std::move(inst));
    }
    const auto share = double(m_instances.size()) / double(std::max(1, total));
    const double rate = m_config.ratePerSecond * share;
    m_gap = std::exponential_distribution<double>(rate > 0 ? rate : 1.0);
    m_arrivalsEnd = settings.start + m_config.duration;
    m_nextArrival = rate > 0 ? settings.start + seconds(m_gap(m_random)) : m_arrivalsEnd;
    if (m_config.burstRamp.count() > 0) {
        for (const Instance &inst : m_instances)
            m_burst.push_back(settings.start
                              + m_config.burstRamp * inst.index / std::max(1, total));
    }
    m_measureFrom = settings.start + m_config.warmup;
    m_nextSweep = settings.start + kSweepInterval;
}

Worker::~Worker()
{
    closeEverything();
    if (m_wake >= 0)
        ::close(m_wake);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

void Worker::requestStop()
{
    m_stop = true;
    const quint64 one = 1;
    [[maybe_unused]] const auto n = ::write(m_wake, &one, sizeof one);
}

void Worker::stopArrivals()
{
    m_noMoreArrivals = true;
    const quint64 one = 1;
    [[maybe_unused]] const auto n = ::write(m_wake, &one, sizeof one);
}

WorkerStats Worker::stats(bool resetWindow)
{
    std::lock_guard lock(m_statsMutex);
    WorkerStats copy = m_stats;
    if (resetWindow) {
        m_stats.latencyWindow.reset();
        m_stats.acquireWindow.reset();
        m_stats.finishedWindow = 0;
    }
    return copy;
}

Conn *Worker::conn(quint64 id)
{
    const auto it = m_conns.find(id);
    return it == m_conns.end() ? nullptr : it->second.get();
}

void Worker::run()
{
    std::array<epoll_event, 256> events {};
    while (!m_stop.load()) {
        Clock::time_point now = Clock::now();
        dispatchArrivals(now);
        runTimers(now);
        if (now >= m_nextSweep) {
            sweep(now);
            m_nextSweep = now + kSweepInterval;
        }
        publishGauges();
        const int n = ::epoll_wait(m_epoll, events.data(), int(events.size()), waitTimeoutMs(now));
        for (int i = 0; i < n && !m_stop.load(); ++i) {
            if (events[size_t(i)].data.u64 == kWakeId) {
                quint64 drained = 0;
                [[maybe_unused]] const auto r = ::read(m_wake, &drained, sizeof drained);
                continue;
            }
            handleEvent(events[size_t(i)].data.u64, events[size_t(i)].events);
        }
    }
    closeEverything();
    publishGauges();
}

int Worker::waitTimeoutMs(Clock::time_point now) const
{
    Clock::time_point next = m_nextSweep;
    const bool arrivals = !m_noMoreArrivals.load();
    if (arrivals && m_nextArrival < m_arrivalsEnd)
        next = std::min(next, m_nextArrival);
    if (arrivals && m_burstNext < m_burst.size())
        next = std::min(next, m_burst[m_burstNext]);
    if (arrivals && now < m_arrivalsEnd)
        next = std::min(next, m_arrivalsEnd); // to publish arrivalsDone on time
    if (!m_timers.empty())
        next = std::min(next, m_timers.top().at);
    if (next <= now)
        return 0;
    // Round up: waking early would only spin. Dispatch lag from the 1 ms granularity is
    // measured (dispatchLag) and included in the latencies.
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(next - now).count();
    return int(std::min<qint64>((us + 999) / 1000, 1000));
}

void Worker::dispatchArrivals(Clock::time_point now)
{
    if (m_noMoreArrivals.load()) {
        m_nextArrival = m_arrivalsEnd;
        m_burstNext = m_burst.size();
    }
    // Burst mode: instances come up in order, each with a request of its own; the Poisson
    // arrivals go to the instances up at their time.
    auto upAt = [this](Clock::time_point t) {
        if (m_burst.empty())
            return m_instances.size();
        const auto up =
            size_t(std::upper_bound(m_burst.begin(), m_burst.end(), t) - m_burst.begin());
        return std::max<size_t>(up, 1);
    };
    while (m_burstNext < m_burst.size() && m_burst[m_burstNext] <= now) {
        const Clock::time_point at = m_burst[m_burstNext];
        if (at < m_arrivalsEnd)
            arrive(m_instances[m_burstNext], at, now);
        ++m_burstNext;
    }
    while (!m_instances.empty() && m_nextArrival <= now && m_nextArrival < m_arrivalsEnd) {
        const Clock::time_point at = m_nextArrival;
        m_nextArrival += seconds(m_gap(m_random));
        std::uniform_int_distribution<size_t> pick(0, upAt(at) - 1);
        arrive(m_instances[pick(m_random)], at, now);
    }
    const bool done = m_noMoreArrivals.load()
        || (now >= m_arrivalsEnd && m_nextArrival >= m_arrivalsEnd
            && m_burstNext >= m_burst.size());
    if (done) {
        std::lock_guard lock(m_statsMutex);
        m_stats.arrivalsDone = true;
    }
}

void Worker::runTimers(Clock::time_point now)
{
    while (!m_timers.empty() && m_timers.top().at <= now) {
        const Timer t = m_timers.top();
        m_timers.pop();
        switch (t.kind) {
        case TimerKind::AcquireTimeout:
            acquireTimedOut(t.id, now);
            break;
        case TimerKind::ConnectTimeout:
            if (Conn *c = conn(t.id); c && c->phase == ConnPhase::Connecting)
                connectFailed(*c,
                              makeError(ErrorKind::ConnectionTimeout,
                                        QStringLiteral("no connection within %1 ms")
                                            .arg(qint64(m_config.pool.connectTimeout.count()))));
            break;
        case TimerKind::HoldDone:
            if (Conn *c = conn(t.id); c && c->phase == ConnPhase::Holding) {
                c->phase = ConnPhase::Commit;
                sendStatement(*c, "COMMIT");
            }
            break;
        }
    }
}

void Worker::publishGauges()
{
    std::lock_guard lock(m_statsMutex);
    m_stats.inFlight = m_inFlight;
    m_stats.waiting = m_waiting;
    m_stats.clientConnections = m_open;
    m_stats.connecting = m_connecting;
    m_stats.warmInstances = m_warm;
}

void Worker::updateInterest(Conn &c, quint32 wanted)
{
    const int fd = c.pg ? PQsocket(c.pg.get()) : -1;
    if (fd != c.fd) {
        // libpq may replace its socket while connecting (another address, a retry without
        // TLS); the old descriptor was closed, which removed it from the epoll set already.
        if (c.fd >= 0 && c.interest)
            ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
        c.fd = fd;
        c.interest = 0;
    }
    if (c.fd < 0 || wanted == c.interest)
        return;
    epoll_event ev {};
    ev.events = wanted;
    ev.data.u64 = c.id;
    if (c.interest == 0) {
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, c.fd, &ev) != 0 && errno == EEXIST)
            ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd, &ev);
    } else if (::epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd, &ev) != 0 && errno == ENOENT) {
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, c.fd, &ev);
    }
    c.interest = wanted;
}

void Worker::handleEvent(quint64 connId, quint32 events)
{
    Conn *c = conn(connId);
    if (!c)
        return; // closed earlier in this batch
    switch (c->phase) {
    case ConnPhase::Connecting:
        advanceConnect(*c);
        return;
    case ConnPhase::Idle:
    case ConnPhase::Holding: {
        // Nothing is expected: the server (or PgBouncer) closed the connection or sent a
        // notice. Consume it; a dead connection is dropped (a holding request fails with why).
        PGconn *pg = c->pg.get();
        if (!PQconsumeInput(pg) || PQstatus(pg) == CONNECTION_BAD) {
            const DbError error = connectionLostError(QString::fromUtf8(PQerrorMessage(pg)));
            if (c->phase == ConnPhase::Holding) {
                const quint64 req = c->request;
                c->request = 0;
                closeConn(c->id);
                finishRequest(req, error, Clock::now());
            } else {
                closeConn(c->id);
            }
        }
        return;
    }
    case ConnPhase::Query:
    case ConnPhase::Commit:
        if (events & EPOLLOUT) {
            const int f = PQflush(c->pg.get());
            if (f < 0) {
                c->resultError =
                    connectionLostError(QString::fromUtf8(PQerrorMessage(c->pg.get())));
                statementDone(*c);
                return;
            }
            updateInterest(*c, f == 1 ? EPOLLIN | EPOLLOUT : EPOLLIN);
        }
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            readResults(*c);
        return;
    }
}

void Worker::advanceConnect(Conn &c)
{
    PGconn *pg = c.pg.get();
    c.pollWant = PQconnectPoll(pg);
    switch (c.pollWant) {
    case PGRES_POLLING_OK:
        PQsetnonblocking(pg, 1);
        connected(c, Clock::now());
        return;
    case PGRES_POLLING_FAILED:
        connectFailed(c, errorFromConnectMessage(QString::fromUtf8(PQerrorMessage(pg))));
        return;
    case PGRES_POLLING_READING:
        updateInterest(c, EPOLLIN);
        return;
    default:
        updateInterest(c, EPOLLOUT);
        return;
    }
}

void Worker::sendStatement(Conn &c, const char *sql)
{
    PGconn *pg = c.pg.get();
    c.resultError.reset();
    if (!PQsendQuery(pg, sql)) {
        c.resultError = connectionLostError(QString::fromUtf8(PQerrorMessage(pg)));
        statementDone(c);
        return;
    }
    const int f = PQflush(pg);
    if (f < 0) {
        c.resultError = connectionLostError(QString::fromUtf8(PQerrorMessage(pg)));
        statementDone(c);
        return;
    }
    updateInterest(c, f == 1 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

void Worker::readResults(Conn &c)
{
    PGconn *pg = c.pg.get();
    if (!PQconsumeInput(pg)) {
        if (!c.resultError)
            c.resultError = connectionLostError(QString::fromUtf8(PQerrorMessage(pg)));
        statementDone(c);
        return;
    }
    while (!PQisBusy(pg)) {
        PGresult *r = PQgetResult(pg);
        if (!r) {
            statementDone(c);
            return;
        }
        const ExecStatusType status = PQresultStatus(r);
        if (!c.resultError && (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE))
            c.resultError = errorFromResult(r, pg);
        PQclear(r);
    }
}

// The statement in flight finished (all results read) or the connection broke.
void Worker::statementDone(Conn &c)
{
    const Clock::time_point now = Clock::now();
    const bool broken = PQstatus(c.pg.get()) == CONNECTION_BAD
        || (c.resultError && c.resultError->isConnectionFatal());
    if (c.resultError && broken && !c.resultError->isConnectionFatal())
        c.resultError->errorClass = ErrorClass::Connection;
    if (!c.resultError && c.phase == ConnPhase::Query
        && m_config.holdMode == LoadDemoHold::ClientTransaction) {
        // Inside BEGIN: the "app work" happens on the client while the transaction stays open.
        c.phase = ConnPhase::Holding;
        updateInterest(c, EPOLLIN);
        m_timers.push({ now + m_config.hold, TimerKind::HoldDone, c.id });
        return;
    }
    const quint64 req = c.request;
    const std::optional<DbError> error = c.resultError;
    c.request = 0;
    if (broken) {
        closeConn(c.id);
    } else {
        release(c, now);
    }
    finishRequest(req, error, now);
}

} // namespace poolscope::loaddemo
