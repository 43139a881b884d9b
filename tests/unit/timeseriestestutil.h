#pragma once

// Shared by the TimeSeriesStore tests.
#include "core/timeseries/timeseriesstore.h"

#include <QString>

#include <spdlog/sinks/base_sink.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <limits>
#include <mutex>

namespace poolscope::testing {

inline constexpr qint64 kSecond = 1000;
inline constexpr qint64 kDay = 86'400 * kSecond;
inline constexpr qint64 kT0 = 1'700'000'000'000; // 2023-11-14, a realistic server timestamp
inline constexpr qint64 kInt32Max = std::numeric_limits<std::int32_t>::max();
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kUnderThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kUnderThreadSanitizer = true;
#else
inline constexpr bool kUnderThreadSanitizer = false;
#endif
#else
inline constexpr bool kUnderThreadSanitizer = false;
#endif

// Resident set size of this process, from /proc/self/statm (second field, in pages).
inline qint64 residentBytes()
{
    FILE *f = std::fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    long size = 0;
    long resident = 0;
    const int read = std::fscanf(f, "%ld %ld", &size, &resident);
    std::fclose(f);
    return read == 2 ? qint64(resident) * qint64(sysconf(_SC_PAGESIZE)) : -1;
}

inline QString name(int i)
{
    return QStringLiteral("series_%1").arg(i);
}

inline TimeSeriesStore::Values one(const QString &series, double value)
{
    return { { series, value } };
}

// Counts the lines logged on the "store" logger.
class CountingSink final : public spdlog::sinks::base_sink<std::mutex>
{
public:
    std::atomic<int> storeLines { 0 };

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override
    {
        if (std::string_view(msg.logger_name.data(), msg.logger_name.size()) == "store")
            ++storeLines;
    }
    void flush_() override { }
};

} // namespace poolscope::testing
