#pragma once

// Output of `poolscope demo`: the JSON object and the text summary (runs side by side), kept
// apart from the option handling in democommand.cpp.

#include "core/loaddemo/loaddemo.h"

#include <QJsonObject>

namespace poolscope::app {

QJsonObject loadDemoRunJson(const LoadDemoRunSummary &run);
QJsonObject loadDemoConfigJson(const LoadDemoConfig &config);
// Prints the runs side by side, then each run's first error per class with its remedy, and the
// warnings.
void printLoadDemoSummary(const LoadDemoReport &report);
// One line of live figures (the command prints about one per second).
QString loadDemoLiveLine(const LoadDemoSnapshot &snapshot);
QString loadDemoCount(qint64 value); // "-" for unknown (negative)

} // namespace poolscope::app
