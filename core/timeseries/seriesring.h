#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace poolscope {

// One stored sample: 8 bytes. The time is a signed 32-bit millisecond offset from the owning
// store's epoch (±24.8 days), the value a float (exact for integers up to 2^24, ~7 significant
// digits otherwise). A NaN value is a gap marker.
struct StoredPoint
{
    std::int32_t offsetMs = 0;
    float value = 0;
};
static_assert(sizeof(StoredPoint) == 8, "the memory budget assumes 8 bytes per point");

// Fixed-capacity ring of StoredPoint, oldest first. The storage is allocated and zero-filled
// (so its pages are really committed) once, in the constructor, and never grows: when full,
// push() overwrites the oldest point. Offsets must be pushed strictly increasing (the store
// checks), which lowerBound() relies on. Not synchronised: TimeSeriesStore guards it.
class SeriesRing
{
public:
    explicit SeriesRing(std::size_t capacity);

    std::size_t capacity() const { return m_points.size(); }
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    std::size_t memoryBytes() const { return m_points.capacity() * sizeof(StoredPoint); }

    // i in [0, size()): 0 is the oldest point.
    const StoredPoint &at(std::size_t i) const { return m_points[physical(i)]; }
    const StoredPoint &back() const { return at(m_size - 1); }

    void push(StoredPoint point)
    {
        if (m_size < m_points.size()) {
            m_points[physical(m_size)] = point;
            ++m_size;
        } else {
            m_points[m_head] = point;
            m_head = m_head + 1 == m_points.size() ? 0 : m_head + 1;
        }
    }

    // Index of the first point whose offset is >= offsetMs, size() if none. O(log n).
    std::size_t lowerBound(std::int64_t offsetMs) const;
    // Forgets the points whose offset is < offsetMs; returns how many.
    std::size_t dropBefore(std::int64_t offsetMs);
    // Subtracts deltaMs from every offset (re-basing). The caller guarantees every result fits in
    // an int32 (it drops the points that would not first). O(n).
    void shiftOffsets(std::int64_t deltaMs);

private:
    std::size_t physical(std::size_t i) const
    {
        const std::size_t p = m_head + i;
        return p < m_points.size() ? p : p - m_points.size();
    }

    std::vector<StoredPoint> m_points; // size() == capacity, from the start
    std::size_t m_head = 0;            // physical index of the oldest point
    std::size_t m_size = 0;
};

} // namespace poolscope
