#include "core/timeseries/seriesring.h"

#include <algorithm>
#include <limits>

namespace poolscope {

SeriesRing::SeriesRing(std::size_t capacity)
    : m_points(std::max<std::size_t>(capacity, 1))
{
}

std::size_t SeriesRing::lowerBound(std::int64_t offsetMs) const
{
    std::size_t lo = 0;
    std::size_t hi = m_size;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (std::int64_t(at(mid).offsetMs) < offsetMs)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

std::size_t SeriesRing::dropBefore(std::int64_t offsetMs)
{
    const std::size_t n = lowerBound(offsetMs);
    if (n == 0)
        return 0;
    m_head = n == m_size ? 0 : physical(n);
    m_size -= n;
    return n;
}

void SeriesRing::shiftOffsets(std::int64_t deltaMs)
{
    for (std::size_t i = 0; i < m_size; ++i) {
        StoredPoint &p = m_points[physical(i)];
        const std::int64_t shifted = std::int64_t(p.offsetMs) - deltaMs;
        p.offsetMs =
            std::int32_t(std::clamp<std::int64_t>(shifted, std::numeric_limits<std::int32_t>::min(),
                                                  std::numeric_limits<std::int32_t>::max()));
    }
}

} // namespace poolscope
