#pragma once

#include "core/pool/poolstats.h"
#include "core/sampler/activitysample.h"

#include <QByteArray>

#include <cstdint>
#include <optional>

namespace poolscope {

// Everything one scrape shows. The caller (the exporter command, or an app embedding the
// exporter) decides what is current: a sample older than a few intervals is stale and must be
// passed as nullopt, so that a scrape never repeats old values as if they were new.
struct MetricsInput
{
    // The latest database sample; nullopt before the first one and once it is stale.
    std::optional<ActivitySample> activity;
    // The sampler's connection is down (connectionLost without connectionRestored since). With
    // it set, pg_up is 0 and the database families are left out even if `activity` is set.
    bool lastTickFailed = false;
    // Outages of the sampler's connection since the exporter started (connectionLost signals).
    std::uint64_t samplerOutages = 0;

    // PgBouncer's console: poolscope_pgbouncer_up is shown only when one was configured; the
    // pooler families only while a current sample exists.
    bool poolerConfigured = false;
    std::optional<PoolerSample> pooler;

    // The statistics of an application's own pool (PoolScope's ConnectionPool), when embedded.
    std::optional<PoolStats> pool;
};

// Renders `input` in the Prometheus text exposition format 0.0.4 (UTF-8, "\n" line ends).
// Pure: no I/O, no clock. Every family has one # HELP and one # TYPE line; families come in a
// fixed order, and so do the series of a family (sorted by their label values where the labels
// are data), so two renderings of the same input are byte-identical. Label values are escaped (\\,
// \", \n) and passed through redactSecrets() (an application_name is data a client chose); no
// conninfo is ever rendered.
//
// Content type to serve it with: kPrometheusContentType.
QByteArray renderPrometheusMetrics(const MetricsInput &input);

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Exposed for tests: the escaping of a label value ("a\"b" -> a\\\"b, newline -> \\n).
QByteArray escapePrometheusLabelValue(const QString &value);
// Exposed for tests: a sample value as Prometheus reads it (shortest round-trip form, NaN,
// +Inf, -Inf).
QByteArray formatPrometheusValue(double value);

} // namespace poolscope
