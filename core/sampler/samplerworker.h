#pragma once

#include "core/db/connection.h"
#include "core/sampler/activityquery.h"
#include "core/sampler/sampler.h"
#include "core/sampler/trailingrates.h"

#include <QObject>

#include <atomic>
#include <optional>
#include <random>

class QTimer;

namespace poolscope {

// Lives on the Sampler's thread (moved there before start()); every slot and its timer run there.
// Owns the sampler's two connections (database, PgBouncer console): no other thread touches them.
class SamplerWorker : public QObject
{
    Q_OBJECT

public:
    SamplerWorker(SamplerConfig config, TimeSeriesStore *store);
    ~SamplerWorker() override;

    // Written from any thread, read at the next tick.
    std::atomic<qint64> intervalMs;
    std::atomic<int> pace;
    std::atomic<bool> sessionsWanted;

public Q_SLOTS:
    void start();
    void stop();

Q_SIGNALS:
    void sampled(const poolscope::ActivitySample &sample);
    void poolerSampled(const poolscope::PoolerSample &sample);
    void poolStatsSampled(const poolscope::PoolStats &stats);
    void tickFailed(const poolscope::DbError &error);
    void connectionLost(const poolscope::DbError &error);
    void connectionRestored();
    void poolerUnavailable(const poolscope::DbError &error);

private:
    void tick();
    void sampleDatabase();
    void samplePoolerConsole();
    void samplePool();
    void onDatabaseFailure(const DbError &error);
    void onPoolerFailure();
    std::chrono::milliseconds nextDelay() const;
    std::chrono::milliseconds retryCap() const; // slowest retry while something is down
    std::chrono::milliseconds consoleRetryDelay() const;

    const SamplerConfig m_config;
    TimeSeriesStore *const m_store;
    QTimer *m_timer = nullptr;
    std::optional<Connection> m_connection;
    std::optional<Connection> m_console;
    TrailingRates m_rates;
    qint64 m_previousSampleMs = 0; // server clock; 0 after a gap
    std::optional<PoolerSample> m_previousPooler;
    int m_failures = 0;            // consecutive database failures
    bool m_poolerReported = false; // poolerUnavailable said for the current outage
    bool m_consoleWorked = false;  // the console answered at least once
    std::chrono::steady_clock::time_point m_consoleRetryAt {};
    std::mt19937 m_random { std::random_device {}() };
};

} // namespace poolscope
