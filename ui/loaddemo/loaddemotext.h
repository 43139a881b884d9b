#pragma once

#include "core/loaddemo/loaddemo.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace poolscope::ui {

// Plain-words texts of the Load demo page, from the core's immutable results. No conninfo ever
// reaches them (runs carry a label and a redacted display name), so no password can either.

// Milliseconds from a latency summary's microseconds, one decimal ("12.3"); "-" when nothing
// was measured.
QString loadDemoMs(const LatencySummary &summary, std::uint64_t micros);
// A count, "-" when unknown (< 0).
QString loadDemoCountText(qint64 value);

// "0 errors" or "340 too-many-connections errors, 2 acquire timeouts".
QString loadDemoErrorsPhrase(const LoadDemoErrorCounts &errors);

// One demo's runs compared, one line each, then what differs (a pooled and a direct run next to
// each other: errors, peak server connections, p95 latency), e.g.
//   "pooled: 0 errors, 12 server connections at peak; direct: 340 too-many-connections errors,
//    17 server connections at peak (the limit is 17)"
// followed by whether each run returned to its baseline, runs that did not run or were stopped,
// and the first error of each class with its remedy. Empty for no runs.
QStringList loadDemoComparison(const QList<LoadDemoRunSummary> &runs);

// A one-line live figure for the status line while a run goes on.
QString loadDemoLiveText(const LoadDemoSnapshot &snapshot);

} // namespace poolscope::ui
