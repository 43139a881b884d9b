#pragma once

#include "core/timeseries/timeseriesstore.h"

#include <QByteArray>
#include <QList>
#include <QStringList>

namespace poolscope::ui {

// CSV of raw points (store.rawMany), one column per series and one row per distinct timestamp:
//   time,<name 1>,<name 2>,...
//   2026-11-26T10:00:00.000Z,12,3,...
// Times are ISO 8601 in UTC (unambiguous across DST, unlike the chart's local-time axis); a gap,
// or a series with no point at that time, is an empty cell, never a 0. Fields are quoted as
// RFC 4180 asks when they hold a comma, quote or line break.
QByteArray pointsToCsv(const QStringList &columns, const QList<QList<TimePoint>> &points);

} // namespace poolscope::ui
