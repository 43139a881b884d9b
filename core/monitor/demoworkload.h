#pragma once

#include <QString>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace poolscope {

class ConnectionPool;

// A light, varying load for `poolscope --demo`, so that the charts move: a few workers drive a
// real pool on the direct endpoint (short queries, sometimes a transaction left idle for a
// moment) and a few more go through the pooler, with an intensity that rises and falls over a
// few minutes. Loopback sandbox only; bounded (a handful of threads and connections); stops and
// closes everything in its destructor.
class DemoWorkload
{
public:
    DemoWorkload(const QString &directUri, const QString &pooledUri);
    ~DemoWorkload();
    DemoWorkload(const DemoWorkload &) = delete;
    DemoWorkload &operator=(const DemoWorkload &) = delete;

    bool isRunning() const { return !m_threads.empty(); }

    // Paused workers issue no queries and check nothing out, so the pools open no connections
    // (a real-cold test: queries keep a scale-to-zero compute awake). A query already in flight
    // finishes (an idle-in-transaction one with its COMMIT). Thread-safe.
    void setPaused(bool paused) { m_paused = paused; }
    bool isPaused() const { return m_paused; }
    // The pool on the direct endpoint, for the sampler's own-pool statistics. Shared, so that a
    // reader on another thread keeps it alive after this workload has closed it and gone.
    std::shared_ptr<const ConnectionPool> directPool() const { return m_direct; }

private:
    void run(ConnectionPool *pool, int worker, bool pooled);

    // Workers use the pools through raw pointers: they are joined before the pools are released.
    std::shared_ptr<ConnectionPool> m_direct;
    std::shared_ptr<ConnectionPool> m_pooled;
    std::atomic<bool> m_stop { false };
    std::atomic<bool> m_paused { false };
    std::vector<std::thread> m_threads;
};

} // namespace poolscope
