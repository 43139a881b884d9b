#include "core/monitor/demoworkload.h"

#include "core/db/threadtlsstate.h"
#include "core/logging/logging.h"
#include "core/pool/connectionpool.h"

#include <cmath>
#include <random>

namespace poolscope {
namespace {

constexpr int kDirectWorkers = 6;
constexpr int kPooledWorkers = 4;

std::shared_ptr<ConnectionPool> makePool(const QString &uri, EndpointRole role, const QString &name,
                                         int max)
{
    PoolConfig config;
    config.conninfo = uri;
    config.endpointRole = role;
    config.applicationName = name;
    config.minSize = 2;
    config.maxSize = max;
    config.acquireTimeout = std::chrono::seconds(5);
    config.leakThreshold = std::chrono::seconds(20);
    auto pool = ConnectionPool::create(config);
    if (!pool) {
        logging::logger("demo")->warn("demo workload pool not created: {}",
                                      pool.error().summary().toStdString());
        return nullptr;
    }
    return std::move(pool).value();
}

} // namespace

DemoWorkload::DemoWorkload(const QString &directUri, const QString &pooledUri)
    : m_direct(makePool(directUri, EndpointRole::Direct, QStringLiteral("demo-api"), 5))
    , m_pooled(makePool(pooledUri, EndpointRole::Pooled, QStringLiteral("demo-functions"), 4))
{
    if (m_direct) {
        for (int i = 0; i < kDirectWorkers; ++i)
            m_threads.emplace_back([this, i] { run(m_direct.get(), i, false); });
    }
    if (m_pooled) {
        for (int i = 0; i < kPooledWorkers; ++i)
            m_threads.emplace_back([this, i] { run(m_pooled.get(), i, true); });
    }
    logging::logger("demo")->info("demo workload started: {} workers", m_threads.size());
}

DemoWorkload::~DemoWorkload()
{
    m_stop = true;
    // Closing the pools first fails any worker waiting in acquire() at once, so that the join
    // below costs at most one short query.
    if (m_direct)
        m_direct->close();
    if (m_pooled)
        m_pooled->close();
    for (std::thread &t : m_threads)
        t.join();
    m_threads.clear();
    m_pooled.reset();
    m_direct.reset();
}

void DemoWorkload::run(ConnectionPool *pool, int worker, bool pooled)
{
    ThreadTlsStateGuard tls;
    std::mt19937 random(std::random_device {}() + unsigned(worker));
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto start = std::chrono::steady_clock::now();
    const QString label = QStringLiteral("%1 worker %2")
                              .arg(pooled ? QStringLiteral("function") : QStringLiteral("api"))
                              .arg(worker);
    auto sleepFor = [&](double seconds) {
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (!m_stop && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    };
    while (!m_stop) {
        if (m_paused) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        // Intensity follows a slow wave (period about 3 minutes), so the charts show rises,
        // plateaus and falls rather than noise around a constant.
        const double t =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double intensity = 0.5 + 0.45 * std::sin(t * 2.0 * M_PI / 180.0 + worker);
        if (unit(random) > intensity) {
            sleepFor(0.5 + unit(random));
            continue;
        }
        auto lease = pool->acquire(label, std::chrono::seconds(5));
        if (!lease) {
            sleepFor(1.0);
            continue;
        }
        const double query = 0.05 + 0.6 * unit(random);
        if (!pooled && unit(random) < 0.15) {
            // A transaction left open while the client "does other work": idle in transaction.
            if (lease.value().exec(QStringLiteral("BEGIN; SELECT 1"))) {
                sleepFor(1.0 + 2.0 * unit(random));
                (void)lease.value().exec(QStringLiteral("COMMIT"));
            }
        } else {
            (void)lease.value().exec(QStringLiteral("SELECT pg_sleep(%1)").arg(query, 0, 'f', 3));
        }
        lease.value().release();
        sleepFor(0.05 + 0.3 * unit(random));
    }
}

} // namespace poolscope
