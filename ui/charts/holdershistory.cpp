#include "ui/charts/holdershistory.h"

#include <algorithm>
#include <limits>
#include <map>

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

    // Every tick wrote every series that existed then (and a gap marks them all), so points
    // line up by time; a series created later simply has no point at the earlier times.
    std::map<qint64, TimeSeriesStore::Values> ticks;
    const qsizetype retiredIndex = d.keys.indexOf(retired);
    const qsizetype otherIndex = names.size() - 1;
    std::map<qint64, double> retiredAt;
    for (const TimePoint &p : points.at(retiredIndex))
        retiredAt[p.tMs] = p.value;
    for (qsizetype s = 0; s < names.size(); ++s) {
        if (s == retiredIndex)
            continue;
        for (const TimePoint &p : points.at(s)) {
            double value = p.value;
            if (s == otherIndex) {
                const auto r = retiredAt.find(p.tMs);
                if (r != retiredAt.end())
                    value += r->second; // a gap (NaN) stays a gap
            }
            ticks[p.tMs].append({ names.at(s), value });
        }
    }
    auto store = std::make_unique<TimeSeriesStore>(storeOptions());
    for (const auto &[tMs, values] : ticks)
        store->append(tMs, values);
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
