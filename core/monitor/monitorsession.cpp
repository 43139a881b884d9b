#include "core/monitor/monitorsession.h"

#include "core/db/conninfo.h"
#include "core/logging/logging.h"
#include "core/monitor/demoworkload.h"
#include "core/monitor/sandboxcontroller.h"

#include <QThread>

namespace poolscope {

namespace {

// A connection of the sampler's that works again, as one event of the log.
void appendRecovered(EventLog &events, const QString &message)
{
    events.append(Event { 0,
                          QDateTime::currentDateTimeUtc(),
                          Event::Level::Info,
                          Event::Category::Connection,
                          QStringLiteral("sampler"),
                          message,
                          {},
                          {},
                          {} });
}

} // namespace

MonitorSession::MonitorSession(QObject *parent)
    : QObject(parent)
{
    registerSamplerMetaTypes();
    m_eventSink = m_events.makeSink();
    logging::addSink(m_eventSink);
}

MonitorSession::~MonitorSession()
{
    stop();
    logging::removeSink(m_eventSink);
}

QString MonitorSession::displayName() const
{
    if (m_endpoints)
        return QStringLiteral("sandbox (PostgreSQL 127.0.0.1:%1, PgBouncer 127.0.0.1:%2)")
            .arg(m_endpoints->postgresPort)
            .arg(m_endpoints->bouncerPort);
    auto info = ConnInfo::parse(m_conninfo);
    if (!info)
        return QStringLiteral("(invalid connection string)");
    const QString user = info->value(QStringLiteral("user"));
    const QString db = info->value(QStringLiteral("dbname"));
    return QStringLiteral("%1%2:%3%4")
        .arg(user.isEmpty() ? QString() : user + QLatin1Char('@'),
             info->host().isEmpty() ? QStringLiteral("local socket") : info->host())
        .arg(info->port())
        .arg(db.isEmpty() ? QString() : QLatin1Char('/') + db);
}

void MonitorSession::start(const Options &options)
{
    stop();
    m_options = options;
    if (!options.startSandbox) {
        startWatching(options.conninfo, options.poolerConsoleConninfo);
        return;
    }
    m_sandboxThread = new QThread(this);
    m_sandboxThread->setObjectName(QStringLiteral("poolscope-sandbox"));
    m_sandbox = new SandboxController;
    m_sandbox->moveToThread(m_sandboxThread);
    connect(m_sandboxThread, &QThread::finished, m_sandbox, &QObject::deleteLater);
    // A controller's result can still be queued here after stop() let that controller go (a
    // close during start-up, a restart): only the current controller's results count. The
    // pointer is compared, never followed.
    const SandboxController *controller = m_sandbox;
    connect(m_sandbox, &SandboxController::started, this,
            [this, controller](const sandbox::SandboxEndpoints &endpoints) {
                if (controller != m_sandbox)
                    return;
                m_endpoints = endpoints;
                // Every libpq connection of this process finds the sandbox's passwords here; no
                // password is ever put into a connection string, a setting or the log.
                qputenv("PGPASSFILE", endpoints.passFile.toLocal8Bit());
                if (m_options.demoWorkload) {
                    m_workload =
                        std::make_unique<DemoWorkload>(endpoints.directUri, endpoints.pooledUri);
                    m_workload->setPaused(workloadPaused());
                }
                // The superuser sees every session in full; the sampler excludes its own.
                startWatching(endpoints.adminUri, endpoints.poolerConsoleUri);
            });
    connect(m_sandbox, &SandboxController::failed, this,
            [this, controller](const QString &message) {
                if (controller != m_sandbox)
                    return;
                m_events.append(Event { 0,
                                        QDateTime::currentDateTimeUtc(),
                                        Event::Level::Error,
                                        Event::Category::Connection,
                                        QStringLiteral("sandbox"),
                                        QStringLiteral("sandbox did not start: ") + message,
                                        {},
                                        {},
                                        {} });
                Q_EMIT sandboxFailed(message);
            });
    m_sandboxThread->start();
    QMetaObject::invokeMethod(
        m_sandbox,
        [controller = m_sandbox, options = options.sandboxOptions] { controller->start(options); },
        Qt::QueuedConnection);
}

void MonitorSession::startWatching(const QString &conninfo, const QString &poolerConsole)
{
    m_conninfo = conninfo;
    SamplerConfig config;
    config.conninfo = conninfo;
    config.poolerConsoleConninfo = poolerConsole;
    config.interval = m_options.interval;
    // A session (re)started during a real-cold test stays quiet from its first tick.
    config.pace = m_backgroundPaused ? SamplerPace::Asleep : m_pace;
    if (m_workload)
        config.ownPool = m_workload->directPool();
    if (auto error = config.validate()) {
        m_events.appendError(QStringLiteral("sampler"), *error,
                             QStringLiteral("cannot watch this endpoint"));
        Q_EMIT connectionLost(*error);
        return;
    }
    m_sampler = std::make_unique<Sampler>(config, &m_store);
    connect(m_sampler.get(), &Sampler::sampled, this, [this](const ActivitySample &sample) {
        m_lastSample = sample;
        Q_EMIT sampled(sample);
    });
    connect(m_sampler.get(), &Sampler::poolerSampled, this, [this](const PoolerSample &sample) {
        if (m_poolerUnreachable) {
            m_poolerUnreachable = false;
            appendRecovered(m_events, QStringLiteral("the PgBouncer console answers again"));
            Q_EMIT poolerRestored();
        }
        Q_EMIT poolerSampled(sample);
    });
    connect(m_sampler.get(), &Sampler::poolStatsSampled, this, &MonitorSession::poolStatsSampled);
    connect(m_sampler.get(), &Sampler::connectionLost, this, [this](const DbError &error) {
        m_unreachable = true;
        m_events.appendError(QStringLiteral("sampler"), error,
                             QStringLiteral("the server is not answering"));
        Q_EMIT connectionLost(error);
    });
    connect(m_sampler.get(), &Sampler::connectionRestored, this, [this] {
        m_unreachable = false;
        appendRecovered(m_events, QStringLiteral("the server answers again"));
        Q_EMIT connectionRestored();
    });
    connect(m_sampler.get(), &Sampler::poolerUnavailable, this, [this](const DbError &error) {
        m_poolerUnreachable = true;
        m_events.appendError(QStringLiteral("sampler"), error,
                             QStringLiteral("PgBouncer console not reachable"));
        Q_EMIT poolerLost(error);
    });
    m_sampler->start();
    logging::logger("ui")->info("watching {}", displayName().toStdString());
    Q_EMIT watching(displayName());
}

void MonitorSession::setSamplerPace(SamplerPace pace)
{
    m_pace = pace;
    if (m_sampler && !m_backgroundPaused)
        m_sampler->setPace(pace);
}

void MonitorSession::setBackgroundPaused(bool paused)
{
    if (paused == m_backgroundPaused)
        return;
    m_backgroundPaused = paused;
    if (m_sampler)
        m_sampler->setPace(paused ? SamplerPace::Asleep : m_pace);
    if (m_workload)
        m_workload->setPaused(workloadPaused());
    m_events.appendAction(
        QStringLiteral("monitor"),
        paused ? QStringLiteral("Background polling paused for a real-cold test: the dashboard's "
                                "own queries keep a scale-to-zero compute awake (Neon suspends "
                                "after 5 minutes without queries)")
               : QStringLiteral("Background polling resumed after the real-cold test"));
}

void MonitorSession::setDemoWorkloadPaused(bool paused)
{
    if (paused == m_workloadPausedForDemo)
        return;
    m_workloadPausedForDemo = paused;
    if (!m_workload)
        return;
    m_workload->setPaused(workloadPaused());
    m_events.appendAction(
        QStringLiteral("monitor"),
        paused ? QStringLiteral("Demo workload paused while the load demo runs on the sandbox: "
                                "its connections would move the load demo's baseline")
               : QStringLiteral("Demo workload resumed after the load demo"));
}

void MonitorSession::stop()
{
    // Load first (it uses the servers), then the sampler, then the servers themselves.
    m_workload.reset();
    m_sampler.reset();
    if (m_sandboxThread) {
        QMetaObject::invokeMethod(m_sandbox, &SandboxController::stop, Qt::QueuedConnection);
        m_sandboxThread->quit();
        m_sandboxThread->wait();
        delete m_sandboxThread;
        m_sandboxThread = nullptr;
        m_sandbox = nullptr; // deleted by QThread::finished -> deleteLater
    }
    m_endpoints.reset();
    m_unreachable = false;
    m_poolerUnreachable = false;
}

} // namespace poolscope
