#pragma once

#include "core/coldstart/coldstartrunner.h"

#include <QByteArray>
#include <QList>

namespace poolscope::ui {

// CSV of cold-start runs, one row per trial (failed ones included):
//   run_id,started_at,target,endpoint,trial,dns_ms,tcp_ms,tls_ms,auth_ms,first_query_ms,
//   total_ms,ok,failed_phase,error_kind,sqlstate
// started_at is ISO 8601 in UTC; trial counts from 1; times in ms with three decimals; error
// columns are empty for a successful trial. The endpoint is the runner's redacted display name
// (no user, no password). Fields are quoted as RFC 4180 asks when they need it.
QByteArray coldStartRunsToCsv(const QList<ColdStartRun> &runs);

} // namespace poolscope::ui
