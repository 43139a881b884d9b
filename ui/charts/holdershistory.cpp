#include "ui/charts/holdershistory.h"

#include <algorithm>
#include <limits>
#include <optional>

namespace poolscope::ui {

QString holderDimensionName(HolderDimension dimension)
{
    switch (dimension) {
    case HolderDimension::Application:
        return QStringLiteral("application");
    case HolderDimension::User:
        return QStringLiteral("user");
    case HolderDimension::Database:
        return QStringLiteral("database");
    case HolderDimension::Client:
        return QStringLiteral("client");
    }
    return {};
}

const QList<BreakdownEntry> &breakdownOf(const ActivitySample &sample, HolderDimension dimension)
{
    switch (dimension) {
    case HolderDimension::Application:
        return sample.byApplication;
    case HolderDimension::User:
        return sample.byUser;
    case HolderDimension::Database:
        return sample.byDatabase;
    case HolderDimension::Client:
        break;
    }
    return sample.byClient;
}

HoldersHistory::HoldersHistory()
{
    clear();
}

void HoldersHistory::clear()
{
    for (Dimension &d : m_dimensions) {
        d.store = std::make_unique<TimeSeriesStore>(storeOptions());
        d.keys.clear();
        d.lastRetireMs = 0;
        ++d.generation;
    }
}

TimeSeriesStoreOptions HoldersHistory::storeOptions()
{
    TimeSeriesStoreOptions options;
    options.maxSeries = kChartedHolders + 1;
    options.capacityPerSeries = kCapacityPerSeries;
    return options;
}

qint64 HoldersHistory::memoryBudgetBytes()
{
    return kHolderDimensionCount * TimeSeriesStore::memoryBudgetBytes(storeOptions());
}

QString HoldersHistory::otherSeries()
{
    return QStringLiteral("(other)");
}

QString HoldersHistory::seriesName(const QString &key)
{
    return QStringLiteral("holder:") + key;
}

void HoldersHistory::record(const ActivitySample &sample)
{
    const qint64 t = sample.takenAt.toMSecsSinceEpoch();
    for (int i = 0; i < kHolderDimensionCount; ++i) {
        Dimension &d = m_dimensions[i];
        const QList<BreakdownEntry> &entries = breakdownOf(sample, HolderDimension(i));
        QStringList present;
        for (const BreakdownEntry &e : entries) {
            if (!e.isOther)
                present.append(e.key);
        }
        for (qsizetype rank = 0; rank < std::min<qsizetype>(present.size(), kChartedHolders);
             ++rank) {
            const QString &key = present.at(rank);
            if (d.keys.contains(key))
                continue;
            if (d.keys.size() < kChartedHolders) {
                d.keys.append(key);
                continue;
            }
            if (t - d.lastRetireMs < kRetireIntervalMs)
                break;
            for (const QString &charted : std::as_const(d.keys)) {
                if (!present.contains(charted)) {
                    retire(d, charted, key);
                    d.lastRetireMs = t;
                    break;
                }
            }
            break;
        }

        QList<int> counts(d.keys.size(), 0); // a charted holder absent now holds nothing
        int other = 0;
        for (const BreakdownEntry &e : entries) {
            const qsizetype slot = e.isOther ? -1 : d.keys.indexOf(e.key);
            if (slot < 0)
                other += e.total;
            else
                counts[slot] += e.total;
        }
        TimeSeriesStore::Values values;
        values.reserve(d.keys.size() + 1);
        for (qsizetype k = 0; k < d.keys.size(); ++k)
            values.append({ seriesName(d.keys.at(k)), double(counts.at(k)) });
        values.append({ otherSeries(), double(other) });
        d.store->append(t, values);
    }
}

void HoldersHistory::retire(Dimension &d, const QString &retired, const QString &newcomer)
{
    QStringList names;
    for (const QString &key : std::as_const(d.keys))
        names.append(seriesName(key));
    names.append(otherSeries());
    const qint64 all = std::numeric_limits<qint64>::max() / 4;
    const QList<QList<TimePoint>> points = d.store->rawMany(names, -all, all);

    // Every tick wrote "(other)" and every series that existed then (a gap marks them all), so
    // "(other)"'s times are every tick's, and the others' points are a subsequence of them.
    const qsizetype retiredIndex = d.keys.indexOf(retired);
    const qsizetype otherIndex = names.size() - 1;
    const QList<TimePoint> &timeline = points.at(otherIndex);
    QList<qsizetype> cursor(names.size(), 0);
    auto valueAt = [&](qsizetype series, qint64 tMs) -> std::optional<double> {
        const QList<TimePoint> &list = points.at(series);
        qsizetype &c = cursor[series];
        while (c < list.size() && list.at(c).tMs < tMs)
            ++c;
        if (c < list.size() && list.at(c).tMs == tMs)
            return list.at(c++).value;
        return std::nullopt;
    };
    auto store = std::make_unique<TimeSeriesStore>(storeOptions());
    TimeSeriesStore::Values values;
    for (const TimePoint &tick : timeline) {
        values.clear();
        double other = tick.value;
        for (qsizetype s = 0; s < otherIndex; ++s) {
            const std::optional<double> v = valueAt(s, tick.tMs);
            if (!v)
                continue;
            if (s == retiredIndex)
                other += *v; // a gap (NaN) stays a gap
            else
                values.append({ names.at(s), *v });
        }
        values.append({ names.at(otherIndex), other });
        store->append(tick.tMs, values);
    }
    d.store = std::move(store);
    d.keys[retiredIndex] = newcomer;
    ++d.generation;
}

void HoldersHistory::recordGap(qint64 tMs)
{
    for (Dimension &d : m_dimensions)
        d.store->appendGap(tMs);
}

const TimeSeriesStore &HoldersHistory::store(HolderDimension dimension) const
{
    return *m_dimensions[int(dimension)].store;
}

QStringList HoldersHistory::keys(HolderDimension dimension) const
{
    return m_dimensions[int(dimension)].keys;
}

int HoldersHistory::generation(HolderDimension dimension) const
{
    return m_dimensions[int(dimension)].generation;
}

qint64 HoldersHistory::memoryBytes() const
{
    qint64 bytes = 0;
    for (const Dimension &d : m_dimensions)
        bytes += d.store->memoryBytes();
    return bytes;
}

} // namespace poolscope::ui
