#pragma once

#include "core/db/connection.h"
#include "core/sampler/activitysample.h"

namespace poolscope {

// Reads PgBouncer's admin console (SHOW POOLS, SHOW STATS) on a connection to its "pgbouncer"
// pseudo-database. Columns are looked up by name, so versions that add columns keep working.
// The console speaks the simple query protocol only and has no transactions: two plain
// statements, two round trips, on the console connection (not on the database's).
Result<PoolerSample, DbError> samplePooler(Connection &console, Clock::duration timeout);

// Rates of SHOW STATS totals between two samples (client clock), for all databases and for each
// database seen in both; invalid after a reset (PgBouncer restarted).
void computePoolerRates(const PoolerSample &previous, PoolerSample &current);

} // namespace poolscope
