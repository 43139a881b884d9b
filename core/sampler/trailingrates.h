#pragma once

#include "core/sampler/activitysample.h"

#include <chrono>
#include <deque>

namespace poolscope {

// Rates of the pg_stat_database counters as a trailing average over a window of at least 60 s.
//
// Why a window: PostgreSQL 15 keeps a backend's counters locally and flushes them to shared
// memory at most once a second, skips the flush while the shared entry is locked, and forces it
// only after 60 s; a transaction that touches no table is flushed only with the backend's next
// other statistics. Between two ticks the server's counters therefore lag by up to a minute and
// arrive in bursts; over 60 s and more they add up to what was done.
//
// The sampler's own per-tick transaction (BEGIN READ ONLY ... COMMIT) is counted in
// xact_commit: one commit per tick in the window is subtracted.
//
// Pending, never a bare 0 or a number far below the truth: until the window spans `window`;
// while it shows no commit although client backends were active or idle in transaction at one of
// its ticks; and while its commits and rollbacks are fewer than half of the transactions that
// pg_stat_activity saw end (ActivitySample::wentIdleSincePrevious, summed over the window: a
// lower bound, one per backend and tick, that is never flushed late).
//
// Bounded: one point per tick within the window, at most kMaxPoints (the oldest dropped first).
// Not thread-safe; owned by the sampling thread.
class TrailingRates
{
public:
    static constexpr std::chrono::seconds kMinimumWindow { 60 };
    static constexpr int kMaxPoints = 4096;

    explicit TrailingRates(std::chrono::milliseconds window = kMinimumWindow);

    std::chrono::milliseconds window() const { return m_window; }
    // Adds one tick (its time, counters and client-backend counts) and returns the rates over
    // the window ending with it. A counter that went backwards (statistics reset) restarts the
    // window.
    Rates add(const ActivitySample &sample);
    // After a gap: the next add() starts a new window.
    void reset();
    int size() const { return int(m_points.size()); }

private:
    struct Point
    {
        qint64 atMs = 0;
        DatabaseCounters counters;
        bool clientsBusy = false; // active or idle in transaction at this tick
        int wentIdle = 0;         // transactions seen ending since the previous point
    };

    const std::chrono::milliseconds m_window;
    std::deque<Point> m_points;
};

} // namespace poolscope
