#pragma once

#include "core/timeseries/seriesring.h"

#include <QHash>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <vector>

namespace poolscope {

// Sizing of a TimeSeriesStore. Everything it will ever allocate for samples is
// maxSeries × capacityPerSeries × 8 bytes (see TimeSeriesStore::memoryBudgetBytes).
struct TimeSeriesStoreOptions
{
    int maxSeries = 48;             // new names beyond this are refused, never evicting
    int capacityPerSeries = 86'400; // points per series: 24 h at 1 Hz
    std::optional<qint64> epochMs;  // time origin of the 32-bit offsets; default: first sample
};

// One raw sample. A NaN value is a gap (e.g. the connection was lost), never a 0.
struct TimePoint
{
    qint64 tMs = 0;
    double value = 0;
    bool isGap() const { return std::isnan(value); }
};

// Aggregate of the samples with startMs <= t < endMs. min/max keep every spike and dip visible
// however far a chart zooms out.
struct Bucket
{
    qint64 startMs = 0;                                    // inclusive
    qint64 endMs = 0;                                      // exclusive
    double min = std::numeric_limits<double>::quiet_NaN(); // NaN when count == 0
    double max = std::numeric_limits<double>::quiet_NaN();
    double last = std::numeric_limits<double>::quiet_NaN(); // the newest finite value
    double mean = std::numeric_limits<double>::quiet_NaN();
    int count = 0;            // finite values in the bucket
    bool containsGap = false; // a gap marker lies in the bucket: a chart breaks its line here
    // No finite value: either no sample fell in the bucket or only gap markers did.
    bool isGap() const { return count == 0; }
};

struct TimeSeriesStoreStats
{
    qint64 refusedOutOfOrder = 0; // values not newer than their series' last (or out of range)
    qint64 refusedNewSeries = 0;  // values for new names refused because maxSeries was reached
    qint64 rebases = 0;           // times the 32-bit offsets ran out and were re-based
    qint64 droppedByRebase = 0;   // points older than the ±24.8-day offset range at a re-base
    qint64 epochMs = 0;           // current time origin (0 until the first sample)
};

// In-memory time series for the live charts: one fixed ring buffer per named series.
//
// Memory budget (fixed and predictable). A point is 8 bytes (int32 millisecond offset from the
// store's epoch + float value). A series' ring is allocated in full when the series is first
// written and never grows; with the defaults:
//     86,400 points × 8 B = 691,200 B (0.66 MiB) per series = 24 h at 1 Hz,
//     × 48 series max = 33,177,600 B (31.6 MiB) in all, whatever the run time.
// memoryBytes() is what is allocated now (rings of the series written so far), never above
// memoryBudgetBytes(). Names and the index add a few hundred bytes per series, not counted.
// The ring holds a number of points, not a duration: at the fastest sample rate (4 Hz) it
// covers 6 h, at 1 Hz 24 h, slower rates cover more, but never more than 24.8 days (below).
//
// Time. Times are milliseconds on any monotonic-enough origin (the sampler passes server
// timestamps since the Unix epoch), |t| < 2^62. They must be strictly increasing per series:
// a value not newer than its series' last point is refused and counted, never reordered.
// Offsets are int32 around the epoch: when a write is more than 2^31-1 ms (24.8 days) past it,
// the store re-bases (epoch := that write's time; one O(total points) pass, under the write
// lock) and drops points more than 24.8 days older than the new epoch. The store never reads
// a clock itself, so tests drive it with simulated times and an injected epoch.
//
// Gaps are values: appendGap() writes a NaN marker into every existing series; a NaN (or a
// non-finite, or beyond float range) value given to append() is stored as a gap too. raw()
// returns gaps as NaN; a bucket with no finite value isGap(), never a 0.
//
// Thread contract. Every member function is thread-safe; a std::shared_mutex makes writers
// exclusive and readers shared.
//  - Writers (append, appendGap): the sampler's thread, one call per tick. A whole tick is
//    stored under one exclusive lock, so no reader ever sees half of it. Creating a series
//    allocates its ring under that lock (once per series, ~0.7 MB zero-filled).
//  - Readers (everything else): any thread, typically the GUI thread at ~25 fps. They get value
//    copies (QList of structs), never references into the rings, so a result stays valid and
//    unchanged after the lock is released. queryMany()/rawMany() read several series under one
//    shared lock: the same ticks for all of them (separate calls may straddle a write).
//  - Query cost: binary search for the window start, then one pass over the points in the
//    window (86,400 at most per series) plus the buckets.
// Refusing a new series (maxSeries reached) is logged once per store on the "store" logger.
class TimeSeriesStore
{
public:
    using Values = QList<QPair<QString, double>>;
    static constexpr int kMaxBuckets = 100'000;

    explicit TimeSeriesStore(const TimeSeriesStoreOptions &options = {});
    ~TimeSeriesStore();
    TimeSeriesStore(const TimeSeriesStore &) = delete;
    TimeSeriesStore &operator=(const TimeSeriesStore &) = delete;

    // --- Writers ---
    // Stores one tick: every (series, value) at time tMs, atomically. New names create their
    // series (up to maxSeries). Returns the number of values stored; the others are counted in
    // stats() (out of order, duplicate name in the batch, or refused new series).
    int append(qint64 tMs, const Values &values);
    // Writes a gap marker at tMs into every existing series (those whose last point is older).
    // Returns the number of series marked.
    int appendGap(qint64 tMs);

    // --- Readers ---
    // [fromMs, toMs) cut into buckets that tile it exactly (widths differ by at most 1 ms).
    // Returns min(bucketCount, toMs - fromMs, kMaxBuckets) buckets; none if the window is empty
    // or the series unknown. Buckets without samples are gaps (isGap()).
    QList<Bucket> query(const QString &series, qint64 fromMs, qint64 toMs, int bucketCount) const;
    // The same for several series under one lock; one list per name, in order.
    QList<QList<Bucket>> queryMany(const QStringList &series, qint64 fromMs, qint64 toMs,
                                   int bucketCount) const;
    // Every point with fromMs <= t < toMs, oldest first, gaps as NaN (e.g. for CSV export).
    QList<TimePoint> raw(const QString &series, qint64 fromMs, qint64 toMs) const;
    QList<QList<TimePoint>> rawMany(const QStringList &series, qint64 fromMs, qint64 toMs) const;
    // The newest point (possibly a gap); nullopt for an unknown or empty series.
    std::optional<TimePoint> latest(const QString &series) const;
    QStringList seriesNames() const;                             // in creation order
    qint64 memoryBytes() const;                                  // ring storage allocated now
    TimeSeriesStoreOptions options() const { return m_options; } // as normalised
    TimeSeriesStoreStats stats() const;

    // maxSeries × capacityPerSeries × sizeof(StoredPoint), after normalising the options.
    static qint64 memoryBudgetBytes(const TimeSeriesStoreOptions &options = {});

private:
    struct Series
    {
        QString name;
        SeriesRing ring;
    };

    static TimeSeriesStoreOptions normalised(TimeSeriesStoreOptions options);
    const SeriesRing *findLocked(const QString &name) const;
    SeriesRing *findOrCreateLocked(const QString &name);
    // Sets the epoch on the first write and re-bases when tMs is past the int32 range.
    void prepareEpochLocked(qint64 tMs);
    void rebaseLocked(qint64 newEpochMs);
    QList<Bucket> bucketsLocked(const SeriesRing &ring, qint64 fromMs, qint64 toMs,
                                int bucketCount) const;
    QList<TimePoint> rawLocked(const SeriesRing &ring, qint64 fromMs, qint64 toMs) const;

    const TimeSeriesStoreOptions m_options;
    mutable std::shared_mutex m_mutex;
    std::vector<std::unique_ptr<Series>> m_series; // creation order
    QHash<QString, int> m_index;                   // name -> position in m_series
    bool m_epochSet = false;
    qint64 m_epochMs = 0;
    TimeSeriesStoreStats m_stats;
    bool m_refusalLogged = false;
};

} // namespace poolscope
