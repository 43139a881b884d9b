#include "core/sampler/sampler.h"

#include "core/db/conninfo.h"
#include "core/db/threadtlsstate.h"
#include "core/sampler/samplerworker.h"

#include <QThread>

namespace poolscope {

void registerSamplerMetaTypes()
{
    qRegisterMetaType<ActivitySample>("poolscope::ActivitySample");
    qRegisterMetaType<PoolerSample>("poolscope::PoolerSample");
    qRegisterMetaType<PoolStats>("poolscope::PoolStats");
    qRegisterMetaType<DbError>("poolscope::DbError");
}

std::optional<DbError> SamplerConfig::validate() const
{
    using namespace std::chrono_literals;
    if (interval < 250ms || interval > 60s)
        return makeError(
            ErrorKind::InvalidConfiguration,
            QStringLiteral("sampling interval must be between 250 ms and 60 s (got %1 ms)")
                .arg(interval.count()));
    if (rateWindow < 60s || rateWindow > 15min)
        return makeError(
            ErrorKind::InvalidConfiguration,
            QStringLiteral("the rates' trailing window must be 60 s to 15 min (got %1 s): "
                           "PostgreSQL may flush its counters up to 60 s late")
                .arg(rateWindow.count()));
    if (statementTimeout <= 0ms)
        return makeError(ErrorKind::InvalidConfiguration,
                         QStringLiteral("the sampler's statement timeout must be positive"));
    for (const QString &text : { conninfo, poolerConsoleConninfo }) {
        if (text.isEmpty() && &text == &poolerConsoleConninfo)
            continue;
        if (auto parsed = ConnInfo::parse(text); !parsed)
            return parsed.error();
    }
    return std::nullopt;
}

Sampler::Sampler(SamplerConfig config, TimeSeriesStore *store, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_store(store)
{
    registerSamplerMetaTypes();
}

Sampler::~Sampler()
{
    stop();
}

void Sampler::start()
{
    if (m_thread)
        return;
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("poolscope-sampler"));
    releaseThreadTlsStateOnFinish(m_thread);
    m_worker = new SamplerWorker(m_config, m_store);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &SamplerWorker::sampled, this, &Sampler::sampled);
    connect(m_worker, &SamplerWorker::poolerSampled, this, &Sampler::poolerSampled);
    connect(m_worker, &SamplerWorker::poolStatsSampled, this, &Sampler::poolStatsSampled);
    connect(m_worker, &SamplerWorker::tickFailed, this, &Sampler::tickFailed);
    connect(m_worker, &SamplerWorker::connectionLost, this, &Sampler::connectionLost);
    connect(m_worker, &SamplerWorker::connectionRestored, this, &Sampler::connectionRestored);
    connect(m_worker, &SamplerWorker::poolerUnavailable, this, &Sampler::poolerUnavailable);
    m_thread->start();
    QMetaObject::invokeMethod(m_worker, &SamplerWorker::start, Qt::QueuedConnection);
}

void Sampler::stop()
{
    if (!m_thread)
        return;
    // stop() runs on the worker's thread (closing its connections there), then the loop ends;
    // the worker is deleted by QThread::finished -> deleteLater before wait() returns.
    QMetaObject::invokeMethod(m_worker, &SamplerWorker::stop, Qt::QueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_worker = nullptr;
}

bool Sampler::isRunning() const
{
    return m_thread != nullptr;
}

void Sampler::setInterval(std::chrono::milliseconds interval)
{
    m_config.interval = interval;
    if (m_worker)
        m_worker->intervalMs = interval.count();
}

void Sampler::setPace(SamplerPace pace)
{
    m_config.pace = pace;
    if (m_worker)
        m_worker->pace = int(pace);
}

void Sampler::setSessionListEnabled(bool enabled)
{
    m_config.sessionList = enabled;
    if (m_worker)
        m_worker->sessionsWanted = enabled;
}

} // namespace poolscope
