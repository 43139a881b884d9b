#pragma once

#include "core/sampler/activitysample.h"
#include "core/timeseries/timeseriesstore.h"

#include <QString>

#include <optional>

namespace poolscope::ui {

// The figures next to the connections chart: how many connections ordinary roles can still
// open, and, while the count rises, when they would run out at the recent slope.

// How far back the slope is fitted: long enough to ignore one noisy second, short enough to
// follow a leak that started a few minutes ago.
constexpr qint64 kExhaustionFitWindowMs = 5 * 60 * 1000;
// A few seconds of rise (a pool filling up at start) is not a trend: no estimate before the fit
// covers at least this much uninterrupted history.
constexpr qint64 kExhaustionMinimumSpanMs = 60 * 1000;

QString headroomText(const ActivitySample &sample); // "42 of 97 usable connections free"

// core's secondsToExhaustion() over connections.total in (atMs - window, atMs], gaps skipped.
std::optional<double> estimateSecondsToExhaustion(const TimeSeriesStore &store, qint64 atMs,
                                                  double usable);

// "Rising: usable connections run out in about 6 min"; empty when there is nothing to say
// (flat or falling, or more than a day away).
QString exhaustionText(std::optional<double> seconds);

} // namespace poolscope::ui
