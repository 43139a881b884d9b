#pragma once

#include "core/db/dberror.h"
#include "core/util/result.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace poolscope {

// Connection limits as data (resources/limits.json, each entry with its source URL).
struct LimitPreset
{
    QString name;  // e.g. "neon-1cu", "guide-free"
    QString label; // e.g. "Neon 1 CU", "Free (the guide's number)"
    int maxConnections = 0;
    int reserved = 0;            // reserved for the provider's superuser (Neon: 7)
    bool fromGuide = false;      // the guide's plan table: labelled as the guide's numbers
    int guideRecommendedMax = 0; // the guide's "Recommended MAX_SIZE" for its presets
    QString source;              // URL
    double computeUnits = 0;     // Neon presets: the compute size (9 stands for "9 CU and above")
    QString note; // guide presets: "the guide's numbers (projects-per-plan quotas, ...)"
};

// Neon's pooler as documented (PgBouncer, not user-configurable).
struct PoolerFacts
{
    QString poolMode;                   // "transaction"
    int maxClientConnections = 0;       // 10000
    double defaultPoolSizeFraction = 0; // 0.9 x max_connections, per user/database pair
    int queryWaitTimeoutSeconds = 0;    // 120
    QString source;
};
PoolerFacts neonPoolerFacts();
int neonReservedConnections(); // 7, from the resource

// The guide's summary table as profiles: local 5/20, serverless 2/10, 30 s statement_timeout,
// pooler endpoint. Defaults, not plan-derived limits.
struct GuideProfile
{
    QString name; // "local", "serverless"
    QString label;
    int minSize = 0;
    int maxSize = 0;
    int statementTimeoutSeconds = 0;
    QString endpoint; // "pooler"
};
QList<GuideProfile> guideProfiles();

// Loaded from the resource (compiled in); tests compare with the documented values.
QList<LimitPreset> limitPresets();
std::optional<LimitPreset> findPreset(const QString &name);

// Neon: max_connections for a compute size; with autoscaling compute_size = min(max_CU, 8*min_CU)
// and max_connections = max(100, min(4000, floor(compute_size * 419.66))); 7 reserved.
// Fixed size: the documented table (the formula below 9 CU, 4000 from 9 CU). Non-positive -> 0.
int neonMaxConnections(double computeUnits);
// Autoscaling between minCu and maxCu: compute_size = min(maxCu, 8 * minCu).
int neonMaxConnections(double minCu, double maxCu);

struct SizingInput
{
    int maxConnections = 100;   // the limit (a live value wins over a preset)
    int reserved = 3;           // superuser_reserved (+ provider reserve)
    int otherClients = 0;       // sampler, admin, migrations
    int instances = 1;          // concurrent serverless instances or processes
    std::optional<int> poolMax; // per-instance pool max to evaluate (else recommend one)
    std::optional<int> poolMin;
    bool pooled = false; // a transaction pooler (e.g. Neon's: 10,000 clients) in front
    int poolerMaxClients = 10000;
    std::optional<double> ratePerSecond; // requests/s across instances
    std::optional<double> holdMs;        // mean connection hold time
    bool scaleToZero = false;            // endpoint suspends when idle: recommend min 0
};

struct SizingResult
{
    int maxConnections = 0;
    int available = 0;                 // max_connections - reserved - other clients
    std::optional<int> recommendedMin; // nullopt when nothing fits
    std::optional<int> recommendedMax;
    bool fits = false;                // worst case fits what is available
    int worstCase = 0;                // instances * pool max + other clients
    std::optional<double> littlesLaw; // rate * hold time (with headroom), connections busy
    int maxSafeInstances = 0;         // for poolMax if given, else for the recommended max
    QString explanation;              // plain language, several sentences
    QStringList envLines;             // DATABASE_POOL_MIN_SIZE=..., DATABASE_POOL_MAX_SIZE=...
    // The pooler's figures (shown when pooled, and when a direct endpoint cannot fit):
    int pooledServerPool = 0;                // floor(0.9 x max_connections), per user/database pair
    int pooledClientLimit = 0;               // the pooler's client connections (10,000 on Neon)
    std::optional<int> pooledRecommendedMax; // per instance, through the pooler
    std::optional<int> littlesLawPerInstance; // ceil(littlesLaw / instances), at least 2
};

// Refuses negative numbers, instances < 1, min > max, with a message naming the input.
Result<SizingResult, DbError> adviseSizing(const SizingInput &input);

} // namespace poolscope
