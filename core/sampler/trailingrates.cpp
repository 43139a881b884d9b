#include "core/sampler/trailingrates.h"

#include <algorithm>

namespace poolscope {
namespace {

bool wentBackwards(const DatabaseCounters &a, const DatabaseCounters &b)
{
    auto back = [](qint64 before, qint64 after) {
        return before >= 0 && after >= 0 && after < before;
    };
    return back(a.commits, b.commits) || back(a.rollbacks, b.rollbacks)
        || back(a.sessions, b.sessions) || back(a.sessionsFatal, b.sessionsFatal)
        || back(a.sessionsKilled, b.sessionsKilled)
        || back(a.sessionsAbandoned, b.sessionsAbandoned);
}

double rate(qint64 before, qint64 after, double seconds)
{
    if (before < 0 || after < 0)
        return -1;
    return double(std::max<qint64>(0, after - before)) / seconds;
}

} // namespace

TrailingRates::TrailingRates(std::chrono::milliseconds window)
    : m_window(std::max<std::chrono::milliseconds>(window, kMinimumWindow))
{
}

void TrailingRates::reset()
{
    m_points.clear();
}

Rates TrailingRates::add(const ActivitySample &sample)
{
    Rates r;
    r.windowSeconds = double(m_window.count()) / 1000.0;
    if (!sample.takenAt.isValid())
        return r;
    Point p;
    p.atMs = sample.takenAt.toMSecsSinceEpoch();
    p.counters = sample.counters;
    p.clientsBusy = sample.counts.active > 0 || sample.counts.idleInTransaction > 0
        || sample.counts.idleInTransactionAborted > 0;
    p.wentIdle = std::max(0, sample.wentIdleSincePrevious);
    if (!m_points.empty()
        && (p.atMs <= m_points.back().atMs || wentBackwards(m_points.back().counters, p.counters)))
        m_points.clear();
    m_points.push_back(p);

    // Keep the newest point at or before (now - window) as the window's start, so that the
    // window spans at least `window` once the sampler has run that long.
    const qint64 start = p.atMs - m_window.count();
    while (m_points.size() >= 2 && m_points[1].atMs <= start)
        m_points.pop_front();
    while (int(m_points.size()) > kMaxPoints)
        m_points.pop_front();

    const Point &first = m_points.front();
    r.intervalSeconds = double(p.atMs - first.atMs) / 1000.0;
    if (first.atMs > start || r.intervalSeconds <= 0)
        return r; // WindowFilling

    const double seconds = r.intervalSeconds;
    const DatabaseCounters &a = first.counters;
    const DatabaseCounters &b = p.counters;
    // One commit of the sampler's own per tick after the window's first point.
    const qint64 ownCommits = qint64(m_points.size()) - 1;
    const qint64 commits = std::max<qint64>(0, b.commits - a.commits - ownCommits);
    const qint64 rollbacks = std::max<qint64>(0, b.rollbacks - a.rollbacks);
    qint64 seen = 0;
    bool busy = false;
    for (auto q = m_points.begin() + 1; q != m_points.end(); ++q) {
        seen += q->wentIdle;
        busy = busy || q->clientsBusy;
    }
    r.seenAtLeastPerSecond = double(seen) / seconds;
    if ((commits + rollbacks == 0 && busy) || 2 * (commits + rollbacks) < seen) {
        r.pending = Rates::Pending::NotFlushed;
        return r;
    }
    r.commitsPerSecond = double(commits) / seconds;
    r.rollbacksPerSecond = double(rollbacks) / seconds;
    r.transactionsPerSecond = r.commitsPerSecond + r.rollbacksPerSecond;
    r.sessionsPerSecond = rate(a.sessions, b.sessions, seconds);
    r.sessionsFatalPerSecond = rate(a.sessionsFatal, b.sessionsFatal, seconds);
    r.sessionsKilledPerSecond = rate(a.sessionsKilled, b.sessionsKilled, seconds);
    r.sessionsAbandonedPerSecond = rate(a.sessionsAbandoned, b.sessionsAbandoned, seconds);
    r.pending = Rates::Pending::No;
    r.valid = true;
    return r;
}

} // namespace poolscope
