#include "core/timeseries/timeseriesstore.h"

#include "core/logging/logging.h"

#include <algorithm>
#include <mutex>

namespace poolscope {

namespace {

constexpr qint64 kMaxAbsTimeMs = qint64(1) << 62;
constexpr qint64 kOffsetMin = std::numeric_limits<std::int32_t>::min();
constexpr qint64 kOffsetMax = std::numeric_limits<std::int32_t>::max();

// |t| < 2^62, so that the difference of two times (or of a time and the epoch) never overflows.
bool validTime(qint64 tMs)
{
    return tMs > -kMaxAbsTimeMs && tMs < kMaxAbsTimeMs;
}

qint64 clampTime(qint64 tMs)
{
    return std::clamp(tMs, -kMaxAbsTimeMs + 1, kMaxAbsTimeMs - 1);
}

// NaN for anything a float cannot hold as a finite number (the double -> float conversion of an
// out-of-range value would be undefined behaviour).
float toStored(double value)
{
    if (!std::isfinite(value) || std::abs(value) > double(std::numeric_limits<float>::max()))
        return std::numeric_limits<float>::quiet_NaN();
    return float(value);
}

// Boundary i of n over [fromMs, fromMs + span): fromMs + floor(i * span / n), exact and without
// overflow (span < 2^64, n <= kMaxBuckets).
qint64 boundary(qint64 fromMs, quint64 span, quint64 n, quint64 i)
{
    const quint64 q = span / n;
    const quint64 r = span % n;
    return qint64(quint64(fromMs) + q * i + (r * i) / n);
}

} // namespace

TimeSeriesStore::TimeSeriesStore(const TimeSeriesStoreOptions &options)
    : m_options(normalised(options))
{
    if (m_options.epochMs) {
        m_epochSet = true;
        m_epochMs = *m_options.epochMs;
        m_stats.epochMs = m_epochMs;
    }
}

TimeSeriesStore::~TimeSeriesStore() = default;

TimeSeriesStoreOptions TimeSeriesStore::normalised(TimeSeriesStoreOptions options)
{
    options.maxSeries = std::max(options.maxSeries, 1);
    options.capacityPerSeries = std::max(options.capacityPerSeries, 1);
    if (options.epochMs)
        options.epochMs = clampTime(*options.epochMs);
    return options;
}

qint64 TimeSeriesStore::memoryBudgetBytes(const TimeSeriesStoreOptions &options)
{
    const TimeSeriesStoreOptions o = normalised(options);
    return qint64(o.maxSeries) * qint64(o.capacityPerSeries) * qint64(sizeof(StoredPoint));
}

const SeriesRing *TimeSeriesStore::findLocked(const QString &name) const
{
    const auto it = m_index.constFind(name);
    return it == m_index.constEnd() ? nullptr : &m_series[size_t(*it)]->ring;
}

SeriesRing *TimeSeriesStore::findOrCreateLocked(const QString &name)
{
    const auto it = m_index.constFind(name);
    if (it != m_index.constEnd())
        return &m_series[size_t(*it)]->ring;
    if (int(m_series.size()) >= m_options.maxSeries)
        return nullptr;
    m_series.push_back(
        std::make_unique<Series>(Series { name, SeriesRing(size_t(m_options.capacityPerSeries)) }));
    m_index.insert(name, int(m_series.size()) - 1);
    return &m_series.back()->ring;
}

void TimeSeriesStore::prepareEpochLocked(qint64 tMs)
{
    if (!m_epochSet) {
        m_epochSet = true;
        m_epochMs = tMs;
        m_stats.epochMs = tMs;
        return;
    }
    if (tMs - m_epochMs > kOffsetMax)
        rebaseLocked(tMs);
}

void TimeSeriesStore::rebaseLocked(qint64 newEpochMs)
{
    const qint64 delta = newEpochMs - m_epochMs;
    for (const auto &series : m_series) {
        // Old offsets below delta + INT32_MIN would not fit around the new epoch.
        m_stats.droppedByRebase += qint64(series->ring.dropBefore(delta + kOffsetMin));
        series->ring.shiftOffsets(delta);
    }
    m_epochMs = newEpochMs;
    m_stats.epochMs = newEpochMs;
    ++m_stats.rebases;
}

int TimeSeriesStore::append(qint64 tMs, const Values &values)
{
    if (values.isEmpty())
        return 0;
    int stored = 0;
    QString firstRefused;
    {
        std::unique_lock lock(m_mutex);
        if (!validTime(tMs)) {
            m_stats.refusedOutOfOrder += values.size();
            return 0;
        }
        prepareEpochLocked(tMs);
        const qint64 offset = tMs - m_epochMs;
        if (offset < kOffsetMin) {
            m_stats.refusedOutOfOrder += values.size();
            return 0;
        }
        for (const auto &[name, value] : values) {
            SeriesRing *ring = findOrCreateLocked(name);
            if (!ring) {
                ++m_stats.refusedNewSeries;
                if (!m_refusalLogged && firstRefused.isNull()) {
                    m_refusalLogged = true;
                    firstRefused = name;
                }
                continue;
            }
            if (!ring->empty() && offset <= qint64(ring->back().offsetMs)) {
                ++m_stats.refusedOutOfOrder;
                continue;
            }
            ring->push({ std::int32_t(offset), toStored(value) });
            ++stored;
        }
    }
    if (!firstRefused.isNull()) {
        logging::logger("store")->warn(
            "time-series store full ({} series): refusing new series '{}'; further refusals are "
            "only counted",
            m_options.maxSeries, firstRefused.toStdString());
    }
    return stored;
}

int TimeSeriesStore::appendGap(qint64 tMs)
{
    std::unique_lock lock(m_mutex);
    if (m_series.empty())
        return 0;
    if (!validTime(tMs)) {
        m_stats.refusedOutOfOrder += qint64(m_series.size());
        return 0;
    }
    prepareEpochLocked(tMs);
    const qint64 offset = tMs - m_epochMs;
    if (offset < kOffsetMin) {
        m_stats.refusedOutOfOrder += qint64(m_series.size());
        return 0;
    }
    int marked = 0;
    const StoredPoint gap { std::int32_t(offset), std::numeric_limits<float>::quiet_NaN() };
    for (const auto &series : m_series) {
        if (!series->ring.empty() && offset <= qint64(series->ring.back().offsetMs)) {
            ++m_stats.refusedOutOfOrder;
            continue;
        }
        series->ring.push(gap);
        ++marked;
    }
    return marked;
}

QList<Bucket> TimeSeriesStore::bucketsLocked(const SeriesRing &ring, qint64 fromMs, qint64 toMs,
                                             int bucketCount) const
{
    if (toMs <= fromMs || bucketCount <= 0)
        return {};
    const quint64 span = quint64(toMs) - quint64(fromMs); // well defined and exact as toMs > fromMs
    const quint64 n = std::min({ quint64(bucketCount), span, quint64(kMaxBuckets) });

    QList<Bucket> buckets(qsizetype(n), Bucket {});
    std::vector<double> sums(n, 0.0);
    Bucket *out = buckets.data();
    for (quint64 i = 0; i < n; ++i) {
        out[i].startMs = boundary(fromMs, span, n, i);
        out[i].endMs = boundary(fromMs, span, n, i + 1);
    }

    const qint64 fromOffset = clampTime(fromMs) - m_epochMs;
    const qint64 toOffset = clampTime(toMs) - m_epochMs;
    size_t b = 0;
    for (size_t i = ring.lowerBound(fromOffset); i < ring.size(); ++i) {
        const StoredPoint &p = ring.at(i);
        if (qint64(p.offsetMs) >= toOffset)
            break;
        const qint64 t = m_epochMs + p.offsetMs;
        while (t >= out[b].endMs)
            ++b; // points are sorted, so buckets are visited once: one pass in all
        Bucket &bucket = out[b];
        if (std::isnan(p.value)) {
            bucket.containsGap = true;
            continue;
        }
        const double v = p.value;
        if (bucket.count == 0) {
            bucket.min = v;
            bucket.max = v;
        } else {
            bucket.min = std::min(bucket.min, v);
            bucket.max = std::max(bucket.max, v);
        }
        bucket.last = v;
        ++bucket.count;
        sums[b] += v;
    }
    for (size_t i = 0; i < n; ++i) {
        if (out[i].count > 0)
            out[i].mean = sums[i] / out[i].count;
    }
    return buckets;
}

QList<TimePoint> TimeSeriesStore::rawLocked(const SeriesRing &ring, qint64 fromMs,
                                            qint64 toMs) const
{
    QList<TimePoint> points;
    if (toMs <= fromMs)
        return points;
    const qint64 toOffset = clampTime(toMs) - m_epochMs;
    const size_t first = ring.lowerBound(clampTime(fromMs) - m_epochMs);
    const size_t last = ring.lowerBound(toOffset);
    points.reserve(qsizetype(last - first));
    for (size_t i = first; i < last; ++i) {
        const StoredPoint &p = ring.at(i);
        points.append({ m_epochMs + p.offsetMs, double(p.value) });
    }
    return points;
}

QList<Bucket> TimeSeriesStore::query(const QString &series, qint64 fromMs, qint64 toMs,
                                     int bucketCount) const
{
    std::shared_lock lock(m_mutex);
    const SeriesRing *ring = findLocked(series);
    return ring ? bucketsLocked(*ring, fromMs, toMs, bucketCount) : QList<Bucket> {};
}

QList<QList<Bucket>> TimeSeriesStore::queryMany(const QStringList &series, qint64 fromMs,
                                                qint64 toMs, int bucketCount) const
{
    QList<QList<Bucket>> result;
    result.reserve(series.size());
    std::shared_lock lock(m_mutex);
    for (const QString &name : series) {
        const SeriesRing *ring = findLocked(name);
        result.append(ring ? bucketsLocked(*ring, fromMs, toMs, bucketCount) : QList<Bucket> {});
    }
    return result;
}

QList<TimePoint> TimeSeriesStore::raw(const QString &series, qint64 fromMs, qint64 toMs) const
{
    std::shared_lock lock(m_mutex);
    const SeriesRing *ring = findLocked(series);
    return ring ? rawLocked(*ring, fromMs, toMs) : QList<TimePoint> {};
}

QList<QList<TimePoint>> TimeSeriesStore::rawMany(const QStringList &series, qint64 fromMs,
                                                 qint64 toMs) const
{
    QList<QList<TimePoint>> result;
    result.reserve(series.size());
    std::shared_lock lock(m_mutex);
    for (const QString &name : series) {
        const SeriesRing *ring = findLocked(name);
        result.append(ring ? rawLocked(*ring, fromMs, toMs) : QList<TimePoint> {});
    }
    return result;
}

std::optional<TimePoint> TimeSeriesStore::latest(const QString &series) const
{
    std::shared_lock lock(m_mutex);
    const SeriesRing *ring = findLocked(series);
    if (!ring || ring->empty())
        return std::nullopt;
    const StoredPoint &p = ring->back();
    return TimePoint { m_epochMs + p.offsetMs, double(p.value) };
}

QStringList TimeSeriesStore::seriesNames() const
{
    std::shared_lock lock(m_mutex);
    QStringList names;
    names.reserve(qsizetype(m_series.size()));
    for (const auto &series : m_series)
        names.append(series->name);
    return names;
}

qint64 TimeSeriesStore::memoryBytes() const
{
    std::shared_lock lock(m_mutex);
    qint64 bytes = 0;
    for (const auto &series : m_series)
        bytes += qint64(series->ring.memoryBytes());
    return bytes;
}

TimeSeriesStoreStats TimeSeriesStore::stats() const
{
    std::shared_lock lock(m_mutex);
    return m_stats;
}

} // namespace poolscope
