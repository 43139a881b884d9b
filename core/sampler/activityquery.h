#pragma once

#include "core/db/dberror.h"
#include "core/sampler/activitysample.h"
#include "core/util/result.h"

#include <QString>

namespace poolscope {

// The sampler's one query per tick and the parsing of its answer, kept apart from the thread
// and connection handling so both can be tested on their own.
struct ActivityQueryOptions
{
    int serverVersionNum = 150000; // decides which pg_stat_database columns exist
    int topN = 10;
    int maxGroups = 200;
    bool includeSessions = false;
    int maxSessions = 500;
    int queryTextLimit = 2000; // characters of pg_stat_activity.query kept per session
    // The previous sample's time (ActivitySample::takenAt), for wentIdleSincePrevious; 0: none.
    qint64 idleSinceEpochMs = 0;
};

// One SELECT returning one row with one JSON column; the caller wraps it in
// BEGIN READ ONLY; SET LOCAL statement_timeout ...; <query>; COMMIT (one round trip, and safe
// through a transaction pooler). The sampler's own backend is excluded with pg_backend_pid().
//
// Client backends are `backend_type = 'client backend'`. Without pg_read_all_stats another role's
// row shows backend_type, state and query as hidden (NULL / '<insufficient privilege>'); such a
// row with a database and a user is counted as a client backend in state "unknown"
// (ConnectionCounts::other) and the sample is flagged queriesHidden.
QString buildActivityQuery(const ActivityQueryOptions &options);

// Parses the JSON column into a sample (rates are left invalid: they need the previous sample).
Result<ActivitySample, DbError> parseActivityResult(const QByteArray &json,
                                                    const ActivityQueryOptions &options);

} // namespace poolscope
