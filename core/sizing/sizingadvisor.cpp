#include "core/sizing/sizingadvisor.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <limits>

namespace poolscope {
namespace {

// When no load is given: node-postgres' default max and the guide's serverless MAX_SIZE.
constexpr int kDefaultNeed = 10;
constexpr int kSmallestPool = 2; // never a pool of 1 (Vercel, node-postgres)
constexpr double kHeadroom = 1.5;

struct Limits
{
    QList<LimitPreset> presets;
    PoolerFacts pooler;
    int neonReserved = 7;
    double perCu = 419.66;
    int floorConnections = 100;
    int capConnections = 4000;
    double capFromCu = 9;
    QList<GuideProfile> profiles;
};

Limits loadLimits()
{
    Limits limits;
    QFile file(QStringLiteral(":/limits.json"));
    if (!file.open(QIODevice::ReadOnly))
        return limits;
    const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    const QJsonObject neon = root.value(QLatin1String("neon")).toObject();
    limits.neonReserved = neon.value(QLatin1String("reserved")).toInt(7);
    const QJsonObject scaling = neon.value(QLatin1String("autoscaling")).toObject();
    limits.perCu = scaling.value(QLatin1String("per_cu")).toDouble(419.66);
    limits.floorConnections = scaling.value(QLatin1String("floor")).toInt(100);
    limits.capConnections = scaling.value(QLatin1String("cap")).toInt(4000);
    limits.capFromCu = scaling.value(QLatin1String("cap_from_cu")).toDouble(9);
    const QJsonObject pooler = neon.value(QLatin1String("pooler")).toObject();
    limits.pooler.poolMode = pooler.value(QLatin1String("pool_mode")).toString();
    limits.pooler.maxClientConnections = pooler.value(QLatin1String("max_client_conn")).toInt();
    limits.pooler.defaultPoolSizeFraction =
        pooler.value(QLatin1String("default_pool_size_fraction")).toDouble();
    limits.pooler.queryWaitTimeoutSeconds =
        pooler.value(QLatin1String("query_wait_timeout_s")).toInt();
    limits.pooler.source = pooler.value(QLatin1String("source")).toString();

    const QJsonArray presets = root.value(QLatin1String("presets")).toArray();
    for (const QJsonValue &value : presets) {
        const QJsonObject o = value.toObject();
        LimitPreset p;
        p.name = o.value(QLatin1String("name")).toString();
        p.label = o.value(QLatin1String("label")).toString();
        p.maxConnections = o.value(QLatin1String("max_connections")).toInt();
        p.reserved = o.value(QLatin1String("reserved")).toInt();
        p.fromGuide = o.value(QLatin1String("from_guide")).toBool();
        p.guideRecommendedMax = o.value(QLatin1String("guide_recommended_max")).toInt();
        p.source = o.value(QLatin1String("source")).toString();
        p.computeUnits = o.value(QLatin1String("compute_units")).toDouble();
        p.note = o.value(QLatin1String("note")).toString();
        limits.presets.append(p);
    }
    const QJsonArray profiles = root.value(QLatin1String("guide_profiles"))
                                    .toObject()
                                    .value(QLatin1String("profiles"))
                                    .toArray();
    for (const QJsonValue &value : profiles) {
        const QJsonObject o = value.toObject();
        GuideProfile g;
        g.name = o.value(QLatin1String("name")).toString();
        g.label = o.value(QLatin1String("label")).toString();
        g.minSize = o.value(QLatin1String("min_size")).toInt();
        g.maxSize = o.value(QLatin1String("max_size")).toInt();
        g.statementTimeoutSeconds = o.value(QLatin1String("statement_timeout_s")).toInt();
        g.endpoint = o.value(QLatin1String("endpoint")).toString();
        limits.profiles.append(g);
    }
    return limits;
}

const Limits &limits()
{
    static const Limits loaded = loadLimits();
    return loaded;
}

DbError invalid(const QString &message)
{
    return makeError(ErrorKind::InvalidConfiguration, message);
}

std::optional<QString> validate(const SizingInput &in)
{
    auto negative = [](const QString &what, int v) {
        return QStringLiteral("%1 must not be negative (got %2)").arg(what).arg(v);
    };
    if (in.maxConnections < 0)
        return negative(QStringLiteral("max_connections"), in.maxConnections);
    if (in.reserved < 0)
        return negative(QStringLiteral("reserved connections"), in.reserved);
    if (in.otherClients < 0)
        return negative(QStringLiteral("other clients"), in.otherClients);
    if (in.instances < 1)
        return QStringLiteral("instances must be at least 1 (got %1)").arg(in.instances);
    if (in.poolMax && *in.poolMax < 1)
        return QStringLiteral("pool max must be at least 1 (got %1)").arg(*in.poolMax);
    if (in.poolMin && *in.poolMin < 0)
        return negative(QStringLiteral("pool min"), *in.poolMin);
    if (in.poolMin && in.poolMax && *in.poolMin > *in.poolMax)
        return QStringLiteral("pool min (%1) must not exceed pool max (%2)")
            .arg(*in.poolMin)
            .arg(*in.poolMax);
    if (in.poolerMaxClients < 0)
        return negative(QStringLiteral("pooler client limit"), in.poolerMaxClients);
    if (in.ratePerSecond.has_value() != in.holdMs.has_value())
        return QStringLiteral("rate and hold time go together: give both or neither");
    if (in.ratePerSecond && !(std::isfinite(*in.ratePerSecond) && *in.ratePerSecond >= 0))
        return QStringLiteral("rate must be a number >= 0 (got %1)").arg(*in.ratePerSecond);
    if (in.holdMs && !(std::isfinite(*in.holdMs) && *in.holdMs >= 0))
        return QStringLiteral("hold time must be a number >= 0 ms (got %1)").arg(*in.holdMs);
    return std::nullopt;
}

// The largest pool (>= 2) that both the need and the per-instance cap allow; nullopt below 2.
std::optional<int> pick(int need, int cap)
{
    if (cap < kSmallestPool)
        return std::nullopt;
    return std::max(kSmallestPool, std::min(need, cap));
}

} // namespace

QList<LimitPreset> limitPresets()
{
    return limits().presets;
}

std::optional<LimitPreset> findPreset(const QString &name)
{
    for (const LimitPreset &p : limits().presets) {
        if (p.name.compare(name, Qt::CaseInsensitive) == 0)
            return p;
    }
    return std::nullopt;
}

PoolerFacts neonPoolerFacts()
{
    return limits().pooler;
}

int neonReservedConnections()
{
    return limits().neonReserved;
}

QList<GuideProfile> guideProfiles()
{
    return limits().profiles;
}

int neonMaxConnections(double computeUnits)
{
    const Limits &l = limits();
    if (!(computeUnits > 0) || !std::isfinite(computeUnits))
        return 0;
    if (computeUnits >= l.capFromCu) // the documented table: 4000 from 9 CU
        return l.capConnections;
    const int byFormula = int(std::floor(computeUnits * l.perCu));
    return std::max(l.floorConnections, std::min(l.capConnections, byFormula));
}

int neonMaxConnections(double minCu, double maxCu)
{
    if (!(minCu > 0) || !(maxCu >= minCu))
        return 0;
    return neonMaxConnections(std::min(maxCu, 8 * minCu));
}

Result<SizingResult, DbError> adviseSizing(const SizingInput &in)
{
    if (const auto problem = validate(in))
        return invalid(*problem);

    SizingResult r;
    r.maxConnections = in.maxConnections;
    r.available = std::max(0, in.maxConnections - in.reserved - in.otherClients);
    const PoolerFacts pooler = neonPoolerFacts();
    r.pooledServerPool = int(std::floor(in.maxConnections * pooler.defaultPoolSizeFraction));
    r.pooledClientLimit = in.poolerMaxClients;

    int need = kDefaultNeed;
    double busy = 0;
    if (in.ratePerSecond && in.holdMs) {
        busy = *in.ratePerSecond * *in.holdMs / 1000.0;
        r.littlesLaw = busy * kHeadroom;
        need = std::max(kSmallestPool, int(std::ceil(*r.littlesLaw / in.instances - 1e-9)));
        r.littlesLawPerInstance = need;
    }
    const int directCap = r.available / in.instances;
    const int pooledCap = in.poolerMaxClients / in.instances;
    const std::optional<int> directMax = pick(need, directCap);
    r.pooledRecommendedMax = pick(need, pooledCap);
    r.recommendedMax = in.pooled ? r.pooledRecommendedMax : directMax;
    if (r.recommendedMax)
        r.recommendedMin =
            in.scaleToZero ? 0 : std::min(in.instances > 1 ? 1 : 2, *r.recommendedMax);

    // The limit the pools' clients count against: the server's slots, or the pooler's clients.
    const int limit = in.pooled ? in.poolerMaxClients : r.available;
    const int evaluated = in.poolMax.value_or(r.recommendedMax.value_or(kSmallestPool));
    const qint64 total = qint64(in.instances) * evaluated;
    r.worstCase = int(std::min<qint64>(total + in.otherClients, std::numeric_limits<int>::max()));
    r.fits = in.poolMax ? total <= limit : r.recommendedMax.has_value();
    r.maxSafeInstances = limit / evaluated;
    if (r.recommendedMax) {
        r.envLines = { QStringLiteral("DATABASE_POOL_MIN_SIZE=%1").arg(*r.recommendedMin),
                       QStringLiteral("DATABASE_POOL_MAX_SIZE=%1").arg(*r.recommendedMax) };
    }

    // The explanation, in plain sentences.
    QStringList s;
    s << QStringLiteral("max_connections %1 minus %2 reserved and %3 other clients leaves %4 "
                        "for the pools together.")
             .arg(in.maxConnections)
             .arg(in.reserved)
             .arg(in.otherClients)
             .arg(r.available);
    s << QStringLiteral("%1 instance(s) x pool max %2 + %3 others = %4 %5connections at worst.")
             .arg(in.instances)
             .arg(evaluated)
             .arg(in.otherClients)
             .arg(r.worstCase)
             .arg(in.pooled ? QStringLiteral("client ") : QString());
    if (r.littlesLaw) {
        s << QStringLiteral("Little's law: %1 req/s x %2 ms = %3 busy, x%4 headroom = %5, "
                            "about %6 per instance.")
                 .arg(*in.ratePerSecond)
                 .arg(*in.holdMs)
                 .arg(busy, 0, 'f', 1)
                 .arg(kHeadroom)
                 .arg(*r.littlesLaw, 0, 'f', 1)
                 .arg(need);
    }
    if (in.pooled) {
        s << QStringLiteral("Through the pooler (%1 mode), clients count against its %2 client "
                            "connections (%3 per instance); the server side is the pooler's own "
                            "pool, on Neon 0.9 x max_connections = %4 per user/database pair, "
                            "shared by all instances, and pools of different users or databases "
                            "share the same %5 server slots.")
                 .arg(pooler.poolMode.isEmpty() ? QStringLiteral("transaction") : pooler.poolMode)
                 .arg(in.poolerMaxClients)
                 .arg(pooledCap)
                 .arg(r.pooledServerPool)
                 .arg(in.maxConnections);
        if (r.littlesLaw && *r.littlesLaw > r.pooledServerPool)
            s << QStringLiteral("The load needs more busy server connections than the pooler's "
                                "pool: transactions queue and are dropped after "
                                "query_wait_timeout (%1 s).")
                     .arg(pooler.queryWaitTimeoutSeconds);
        else
            s << QStringLiteral("Keep pools small anyway: beyond its pool the pooler queues, and "
                                "query_wait_timeout (%1 s) disconnects waiting clients.")
                     .arg(pooler.queryWaitTimeoutSeconds);
    }
    if (!directMax && !in.pooled) {
        s << QStringLiteral("A direct endpoint cannot fit: even a pool of 2 per instance needs %1 "
                            "connections, more than the %2 available. Use the pooled endpoint: "
                            "%3 client connections (%4 per instance), served by a pool of %5 "
                            "server connections (0.9 x max_connections on Neon)%6.")
                 .arg(qint64(in.instances) * kSmallestPool)
                 .arg(r.available)
                 .arg(in.poolerMaxClients)
                 .arg(pooledCap)
                 .arg(r.pooledServerPool)
                 .arg(r.pooledRecommendedMax ? QStringLiteral("; with it, pool max %1 per instance")
                                                   .arg(*r.pooledRecommendedMax)
                                             : QString());
    } else if (!r.recommendedMax) {
        s << QStringLiteral("Even a pool of 2 per instance exceeds the pooler's %1 client "
                            "connections: fewer instances, or a shared pool.")
                 .arg(in.poolerMaxClients);
    } else {
        s << QStringLiteral("Recommended: min %1, max %2 per instance (never 1).")
                 .arg(*r.recommendedMin)
                 .arg(*r.recommendedMax);
        if (r.littlesLaw && need > *r.recommendedMax)
            s << QStringLiteral("The load wants %1 per instance but only %2 fit: requests will "
                                "wait for connections; use the pooler, fewer instances or a "
                                "larger compute.")
                     .arg(need)
                     .arg(*r.recommendedMax);
    }
    if (in.poolMax) {
        s << (r.fits ? QStringLiteral("Pool max %1 fits; up to %2 instances stay within the "
                                      "limit.")
                     : QStringLiteral("Pool max %1 does not fit: at most %2 instances can use it "
                                      "safely."))
                 .arg(*in.poolMax)
                 .arg(r.maxSafeInstances);
    } else if (r.recommendedMax) {
        s << QStringLiteral("With it, up to %1 instances fit.").arg(r.maxSafeInstances);
    }
    if (in.scaleToZero) {
        s << QStringLiteral("Min 0 lets the endpoint scale to zero: idle pooled connections and "
                            "validation queries would keep the compute awake.");
        if (in.poolMin.value_or(0) > 0)
            s << QStringLiteral("Your pool min %1 would keep it awake.").arg(*in.poolMin);
    }
    r.explanation = s.join(QLatin1Char(' '));
    return r;
}

} // namespace poolscope
