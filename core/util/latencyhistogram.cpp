#include "core/util/latencyhistogram.h"

#include <algorithm>
#include <bit>

namespace poolscope {

int LatencyHistogram::indexFor(std::uint64_t micros)
{
    // Values below kSubBuckets map linearly; above, the top kSubBucketBits+1 bits select the
    // bucket within the value's power of two.
    if (micros < std::uint64_t(kSubBuckets))
        return int(micros);
    const int msb = 63 - std::countl_zero(micros);
    const int shift = msb - kSubBucketBits;
    const int sub = int((micros >> shift) & (kSubBuckets - 1));
    const int index = (shift + 1) * kSubBuckets + sub;
    return std::min(index, kBuckets - 1);
}

std::uint64_t LatencyHistogram::upperBoundOf(int index)
{
    if (index < kSubBuckets)
        return std::uint64_t(index);
    const int shift = index / kSubBuckets - 1;
    const std::uint64_t sub = std::uint64_t(index % kSubBuckets) | std::uint64_t(kSubBuckets);
    return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::record(std::chrono::nanoseconds duration)
{
    const auto ns = duration.count();
    // Round in unsigned arithmetic: ns + 500 overflows (UB) for durations near nanoseconds::max().
    recordMicros(ns <= 0 ? 0 : (std::uint64_t(ns) + 500) / 1000);
}

void LatencyHistogram::recordMicros(std::uint64_t micros)
{
    ++m_counts[size_t(indexFor(micros))];
    ++m_count;
    m_sum += micros;
    m_max = std::max(m_max, micros);
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
    for (size_t i = 0; i < m_counts.size(); ++i)
        m_counts[i] += other.m_counts[i];
    m_count += other.m_count;
    m_sum += other.m_sum;
    m_max = std::max(m_max, other.m_max);
}

void LatencyHistogram::reset()
{
    *this = LatencyHistogram();
}

std::uint64_t LatencyHistogram::percentileMicros(double q) const
{
    if (m_count == 0)
        return 0;
    q = std::clamp(q, 0.0, 1.0);
    const auto rank = std::max<std::uint64_t>(1, std::uint64_t(q * double(m_count) + 0.5));
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
        seen += m_counts[size_t(i)];
        if (seen >= rank)
            return std::min(upperBoundOf(i), m_max);
    }
    return m_max;
}

LatencySummary LatencySummary::of(const LatencyHistogram &h)
{
    return { h.count(),
             h.meanMicros(),
             h.percentileMicros(0.50),
             h.percentileMicros(0.95),
             h.percentileMicros(0.99),
             h.maxMicros() };
}

} // namespace poolscope
