// The load demo engine: starts the workers on their threads, merges their statistics, stops and
// joins them (see loaddemoengine_p.h for the ownership contract).
#include "core/db/threadtlsstate.h"
#include "core/loaddemo/loaddemoengine_p.h"

#include <algorithm>
#include <cstring>

namespace poolscope::loaddemo {

void WorkerStats::merge(const WorkerStats &o)
{
    requests += o.requests;
    ok += o.ok;
    errors.tooManyConnections += o.errors.tooManyConnections;
    errors.acquireTimeout += o.errors.acquireTimeout;
    errors.pooler += o.errors.pooler;
    errors.other += o.errors.other;
    abandoned += o.abandoned;
    measuredRequests += o.measuredRequests;
    measuredOk += o.measuredOk;
    connectionsOpened += o.connectionsOpened;
    connectionsClosed += o.connectionsClosed;
    coldStarts += o.coldStarts;
    inFlight += o.inFlight;
    waiting += o.waiting;
    clientConnections += o.clientConnections;
    connecting += o.connecting;
    warmInstances += o.warmInstances;
    arrivalsDone = arrivalsDone && o.arrivalsDone;
    latencyWindow.merge(o.latencyWindow);
    acquireWindow.merge(o.acquireWindow);
    finishedWindow += o.finishedWindow;
    latencyAll.merge(o.latencyAll);
    acquireAll.merge(o.acquireAll);
    dispatchLag.merge(o.dispatchLag);
    // The earliest error of each class over all workers.
    for (const LoadDemoFirstError &e : o.firstErrors) {
        auto it =
            std::find_if(firstErrors.begin(), firstErrors.end(), [&e](const LoadDemoFirstError &x) {
                return x.errorClass == e.errorClass;
            });
        if (it == firstErrors.end())
            firstErrors.append(e);
        else if (e.atSeconds < it->atSeconds)
            *it = e;
    }
    std::sort(firstErrors.begin(), firstErrors.end(),
              [](const LoadDemoFirstError &a, const LoadDemoFirstError &b) {
                  return int(a.errorClass) < int(b.errorClass);
              });
}

Engine::Engine(EngineSettings settings)
    : m_settings(std::move(settings))
{
}

Engine::~Engine()
{
    stop();
}

bool Engine::start(QString *error)
{
    const LoadDemoConfig &config = m_settings.config;
    const int count = std::clamp(config.workerThreads, 1, std::max(1, config.instances));
    quint64 seed = config.seed;
    if (seed == 0)
        seed = quint64(Clock::now().time_since_epoch().count());
    for (int i = 0; i < count; ++i) {
        auto worker = std::make_unique<Worker>(m_settings, i, count, seed + quint64(i) * 7919);
        if (!worker->valid()) {
            if (error)
                *error = QStringLiteral("could not create the event loop (epoll/eventfd): %1")
                             .arg(QString::fromLocal8Bit(std::strerror(errno)));
            m_workers.clear();
            return false;
        }
        m_workers.push_back(std::move(worker));
    }
    for (auto &worker : m_workers)
        m_threads.emplace_back([w = worker.get()] {
            ThreadTlsStateGuard tls;
            w->run();
        });
    return true;
}

void Engine::stopArrivals()
{
    for (auto &worker : m_workers)
        worker->stopArrivals();
}

void Engine::stop()
{
    for (auto &worker : m_workers)
        worker->requestStop();
    for (std::thread &t : m_threads) {
        if (t.joinable())
            t.join();
    }
    m_threads.clear();
}

WorkerStats Engine::stats(bool resetWindow)
{
    WorkerStats total;
    total.arrivalsDone = true;
    for (auto &worker : m_workers)
        total.merge(worker->stats(resetWindow));
    if (m_workers.empty())
        total.arrivalsDone = false;
    return total;
}

} // namespace poolscope::loaddemo
