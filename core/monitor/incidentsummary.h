#pragma once

#include "core/db/dberror.h"
#include "core/sampler/activitysample.h"

#include <QDateTime>
#include <QString>

#include <optional>

namespace poolscope {

// One plain-words line answering "what is wrong right now", for the Overview's headline, the
// `sample` command's JSON and the incident channel. Pure functions over values: GUI-free, no I/O,
// callable from any thread.
//
// The line has three parts: how full the server is ("36 of 37 usable connections in use"), the
// single biggest holder ("26 held by storm-*, 16 of them idle in transaction for up to 14 s") and
// the single most urgent condition ("PgBouncer: 20 clients waiting up to 13 s"). Only the most
// urgent condition is named, in this order (the first that applies wins):
//   1. the server does not answer (the line then only says that, honestly: there are no numbers)
//   2. the PgBouncer console does not answer (the pooler may be down: every client through it is)
//   3. no connections left for ordinary roles (new connections fail now)
//   4. clients waiting at PgBouncer (requests are queued now)
//   5. nearly exhausted: 90 % or more of the usable connections in use
//   6. sessions waiting on locks (queries stalled behind another transaction)
//   7. idle in transaction for 10 s or more (slots and locks held by nobody working)
//   8. a transaction open for 5 min or more (bloat, locks)
// and a calm line when none applies.
enum class IncidentSeverity { Calm, Warning, Critical };

struct IncidentInput
{
    QString server; // serverLabel() of what is watched; never carries a password
    std::optional<ActivitySample> activity;
    std::optional<PoolerSample> pooler; // only when a console is configured and answered
    // The server stopped answering (the last sample, if any, is stale); the error says why.
    std::optional<DbError> serverError;
    // A configured PgBouncer console stopped answering.
    std::optional<DbError> poolerError;
};

struct IncidentSummary
{
    IncidentSeverity severity = IncidentSeverity::Calm;
    QString condition; // a stable key for tests and scripts: "calm", "exhausted", ...
    QString text;      // the line itself
    QDateTime at;      // the moment it describes (the sample's time), UTC; null when none
};

IncidentSummary summarizeIncident(const IncidentInput &input);

// The line as it goes to the incident channel: "2026-12-07T21:04:05Z db1:5432/app: <line>".
QString incidentClipboardText(const IncidentSummary &summary, const QString &server);

// host:port/dbname of a conninfo or URI, parsed by libpq; never the password or other keywords.
// The text itself (redacted) when libpq cannot parse it.
QString serverLabel(const QString &conninfo);

// Application names that differ only by an instance number are one holder: "storm-1" and
// "storm-12" -> "storm-*", "worker_3" -> "worker_*". Others are returned as they are.
QString holderFamily(const QString &application);

} // namespace poolscope
