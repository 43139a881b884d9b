#pragma once

#include "core/sampler/activitysample.h"
#include "core/timeseries/timeseriesstore.h"

#include <QStringList>

#include <array>
#include <memory>

namespace poolscope::ui {

// What "who holds the connections" groups by; the sampler's four breakdowns.
enum class HolderDimension { Application, User, Database, Client };
inline constexpr int kHolderDimensionCount = 4;

QString holderDimensionName(HolderDimension dimension); // "application", "user", ...
const QList<BreakdownEntry> &breakdownOf(const ActivitySample &sample, HolderDimension dimension);

// Connections over time per holder, for the Overview's stacked chart: one private
// TimeSeriesStore per dimension (so that churning client addresses never crowd out the
// applications), never the session's store.
//
// Bounded in memory however long the app runs: a dimension charts at most kChartedHolders
// holders; a holder beyond them, and the sampler's own "other", are added to the "(other)"
// series, so the stack still sums to the total. When all slots are taken and a holder that is
// not charted enters the sample's top kChartedHolders (say a new application storms the server)
// while a charted one is gone from the sample, the gone one is retired: its history is added
// into "(other)" and the store rebuilt without it (one pass over the retained points, at most
// once per kRetireIntervalMs per dimension, so churning client addresses cost little).
// Each store holds at most kChartedHolders + 1 series of kCapacityPerSeries points (8 bytes
// each), allocated when a series is first written:
//     4 dimensions × 8 series × 43,200 points × 8 B = 11,059,200 B (10.5 MiB) at most,
// which covers 12 h at one sample a second (3 h at the fastest 4 Hz); older points are
// overwritten. memoryBudgetBytes() returns that bound.
//
// Thread contract: used on one thread (the GUI thread, fed by MonitorSession's signals); the
// stores themselves are thread-safe for the charts that read them.
class HoldersHistory
{
public:
    static constexpr int kChartedHolders = 7;
    static constexpr int kCapacityPerSeries = 43'200;
    static constexpr qint64 kRetireIntervalMs = 10'000;

    HoldersHistory();

    static TimeSeriesStoreOptions storeOptions();
    static qint64 memoryBudgetBytes();
    // Store series names: "(other)" for the fold, "holder:" + key for a holder (a key may be
    // anything, "(other)" included).
    static QString otherSeries();
    static QString seriesName(const QString &key);

    void record(const ActivitySample &sample);
    void recordGap(qint64 tMs);
    // Forgets everything (another server is watched now); bumps every generation.
    void clear();

    const TimeSeriesStore &store(HolderDimension dimension) const;
    // The holders with a series, in the order they were first seen (the order of the stack).
    QStringList keys(HolderDimension dimension) const;
    // Bumped when a retirement replaced the dimension's store: a chart reading the old one must
    // be rebuilt before control returns to the event loop.
    int generation(HolderDimension dimension) const;
    qint64 memoryBytes() const; // allocated now, over the four stores

private:
    struct Dimension
    {
        std::unique_ptr<TimeSeriesStore> store;
        QStringList keys;
        qint64 lastRetireMs = 0;
        int generation = 0;
    };
    // Makes room for `newcomer` in place of `retired`: a new store with retired's points added
    // into "(other)".
    void retire(Dimension &d, const QString &retired, const QString &newcomer);
    std::array<Dimension, kHolderDimensionCount> m_dimensions;
};

} // namespace poolscope::ui
