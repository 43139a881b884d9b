#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace poolscope {

// Fixed-memory log-linear histogram of durations in microseconds (HDR-style): 16 linear
// sub-buckets per power of two, so any recorded value is reported within ~6 % of its true value,
// from 1 µs to about 2^40 µs (12 days). Recording is O(1) and allocation-free; merging and
// percentiles are O(buckets). Not synchronised: the owner guards it (the pool records under its
// own mutex; the bench keeps one per worker and merges).
class LatencyHistogram
{
public:
    void record(std::chrono::nanoseconds duration);
    void recordMicros(std::uint64_t micros);
    void merge(const LatencyHistogram &other);
    void reset();

    std::uint64_t count() const { return m_count; }
    std::uint64_t maxMicros() const { return m_max; }
    double meanMicros() const { return m_count ? double(m_sum) / double(m_count) : 0.0; }
    // q in [0, 1]; 0 when empty. Returns the upper bound of the bucket holding the quantile,
    // capped at the largest value seen.
    std::uint64_t percentileMicros(double q) const;

private:
    static constexpr int kSubBucketBits = 4;
    static constexpr int kSubBuckets = 1 << kSubBucketBits;
    static constexpr int kBuckets = (41 - kSubBucketBits) * kSubBuckets + kSubBuckets;
    static int indexFor(std::uint64_t micros);
    static std::uint64_t upperBoundOf(int index);

    std::array<std::uint64_t, kBuckets> m_counts {};
    std::uint64_t m_count = 0;
    std::uint64_t m_sum = 0;
    std::uint64_t m_max = 0;
};

// p50/p95/p99 and friends, as carried in snapshots.
struct LatencySummary
{
    std::uint64_t count = 0;
    double meanUs = 0;
    std::uint64_t p50Us = 0;
    std::uint64_t p95Us = 0;
    std::uint64_t p99Us = 0;
    std::uint64_t maxUs = 0;

    static LatencySummary of(const LatencyHistogram &h);
};

} // namespace poolscope
