#pragma once

#include "core/db/dberror.h"
#include "core/pool/poolstats.h"
#include "core/sampler/activitysample.h"

#include <QObject>

#include <chrono>
#include <memory>

class QThread;

namespace poolscope {

class ConnectionPool;
class TimeSeriesStore;
class SamplerWorker;

// How often the sampler may touch the server. A 1 s poll keeps a scale-to-zero endpoint (Neon
// suspends a compute after 5 minutes without queries) awake for as long as the dashboard runs,
// and that costs the user compute hours. Idle connections do not keep a compute awake; queries do.
enum class SamplerPace {
    Live,   // every `interval`
    Drowsy, // every `drowsyInterval` (minutes): the endpoint can suspend in between
    Asleep, // no queries at all; the sampler's connection is closed
};

struct SamplerConfig
{
    QString conninfo;              // libpq conninfo or URI of the database
    QString poolerConsoleConninfo; // optional: PgBouncer admin console (dbname=pgbouncer)
    std::chrono::milliseconds interval { 1000 }; // 250 ms to 60 s
    std::chrono::minutes drowsyInterval { 10 };
    std::chrono::milliseconds statementTimeout { 2000 }; // for the sampler's own queries
    std::chrono::milliseconds connectTimeout { 5000 };
    int topN = 10;         // breakdown entries before "other"
    int maxGroups = 200;   // ActivityGroup entries before folding
    int maxSessions = 500; // session list rows (the oldest backends first)
    // The trailing window of the server's rates (TrailingRates): 60 s or more, since PostgreSQL
    // may hold a backend's counters back for up to 60 s; at most 15 min (TrailingRates keeps
    // one point per tick, at most kMaxPoints).
    std::chrono::seconds rateWindow { 60 };
    QString applicationName = QStringLiteral("poolscope-sampler");
    // Where the first tick starts; setPace()/setSessionListEnabled() change them, before start()
    // as after it.
    SamplerPace pace = SamplerPace::Live;
    bool sessionList = false; // fetch the session list with each tick
    // Optional: the application's own pool, whose statistics are taken once per tick on the
    // sampling thread. Shared: the sampler keeps the pool object alive for as long as it may read
    // it, whatever the order in which the owners let go (a closed pool still answers stats()).
    std::shared_ptr<const ConnectionPool> ownPool;

    std::optional<DbError> validate() const;
};

// Samples pg_stat_activity (and PgBouncer's console, and the app's own pool) on its own thread,
// through its own dedicated connection, which it excludes from everything it reports. One round
// trip per tick; the next tick is scheduled when the previous one has finished, so a slow server
// never piles up queries. A lost connection becomes an explicit gap, a typed event, and a
// reconnect with exponential backoff.
//
// Thread contract: create, configure and destroy the Sampler on one thread (normally the GUI
// thread). Its signals are emitted from the sampling thread; connect with a context object so
// they are queued to the receiver's thread. Every value they carry is immutable. If a store is
// given, the sampler appends one batch per tick to it from the sampling thread (the store is
// thread-safe); the store must outlive the sampler. The destructor stops the thread and closes
// the connections; it waits at most for the current tick (bounded by the statement timeout).
class Sampler : public QObject
{
    Q_OBJECT

public:
    explicit Sampler(SamplerConfig config, TimeSeriesStore *store = nullptr,
                     QObject *parent = nullptr);
    ~Sampler() override;

    void start();
    void stop();
    bool isRunning() const;
    const SamplerConfig &config() const { return m_config; }

    // Take effect at the next tick; set before start(), they apply from the first one.
    void setInterval(std::chrono::milliseconds interval);
    void setPace(SamplerPace pace);
    void setSessionListEnabled(bool enabled);

Q_SIGNALS:
    void sampled(const poolscope::ActivitySample &sample);
    void poolerSampled(const poolscope::PoolerSample &sample);
    void poolStatsSampled(const poolscope::PoolStats &stats);
    // Every tick that produced no sample (a gap), with its typed error.
    void tickFailed(const poolscope::DbError &error);
    // The sampler's connection failed (first failure of an outage only) / works again.
    void connectionLost(const poolscope::DbError &error);
    void connectionRestored();
    // PgBouncer's console could not be used; said once, sampling of the database goes on.
    void poolerUnavailable(const poolscope::DbError &error);

private:
    SamplerConfig m_config;
    TimeSeriesStore *m_store;
    QThread *m_thread = nullptr;
    SamplerWorker *m_worker = nullptr;
};

void registerSamplerMetaTypes();

} // namespace poolscope
