#include "core/sampler/samplerworker.h"

#include "core/logging/logging.h"
#include "core/pool/connectionpool.h"
#include "core/sampler/poolerquery.h"
#include "core/sampler/samplerseries.h"

#include <QTimer>

namespace poolscope {
namespace {

const std::shared_ptr<spdlog::logger> &samplerLog()
{
    static const auto log = logging::logger("sampler");
    return log;
}

// The sampler's connection must not count against what it reports, and should not hold a
// server slot for long if the dashboard is idle: application_name marks it, and the per-tick
// transaction keeps it safe behind a transaction pooler.
ConnInfo samplerConnInfo(const SamplerConfig &config, const QString &conninfo)
{
    ConnInfo info = ConnInfo::parse(conninfo).value();
    if (!info.has(QStringLiteral("application_name")))
        info.set(QStringLiteral("application_name"), config.applicationName);
    return info;
}

} // namespace

SamplerWorker::SamplerWorker(SamplerConfig config, TimeSeriesStore *store)
    : intervalMs(config.interval.count())
    , pace(int(config.pace))
    , sessionsWanted(config.sessionList)
    , m_config(std::move(config))
    , m_store(store)
    , m_rates(m_config.rateWindow)
{
}

SamplerWorker::~SamplerWorker() = default;

void SamplerWorker::start()
{
    if (!m_timer) {
        m_timer = new QTimer(this); // created here so that it lives on this thread
        m_timer->setSingleShot(true);
        connect(m_timer, &QTimer::timeout, this, &SamplerWorker::tick);
    }
    m_timer->start(0);
}

void SamplerWorker::stop()
{
    if (m_timer)
        m_timer->stop();
    m_connection.reset();
    m_console.reset();
}

std::chrono::milliseconds SamplerWorker::nextDelay() const
{
    switch (SamplerPace(pace.load())) {
    case SamplerPace::Live:
        return std::chrono::milliseconds(intervalMs.load());
    case SamplerPace::Drowsy:
        return std::chrono::duration_cast<std::chrono::milliseconds>(m_config.drowsyInterval);
    case SamplerPace::Asleep:
        return std::chrono::milliseconds(1000); // only to notice a pace change; no query is sent
    }
    return std::chrono::milliseconds(1000);
}

std::chrono::milliseconds SamplerWorker::retryCap() const
{
    return std::min<std::chrono::milliseconds>(2 * std::chrono::milliseconds(intervalMs.load()),
                                               std::chrono::seconds(30));
}

std::chrono::milliseconds SamplerWorker::consoleRetryDelay() const
{
    // A console that answered before is coming back from a restart: look again soon (the retry
    // time is checked once per tick, so one interval here means a try within two). One that
    // never answered is likely misconfigured: do not knock every few seconds.
    return m_consoleWorked ? std::min<std::chrono::milliseconds>(
               std::chrono::milliseconds(intervalMs.load()), std::chrono::seconds(30))
                           : std::chrono::seconds(30);
}

void SamplerWorker::tick()
{
    std::chrono::milliseconds delay = nextDelay();
    if (SamplerPace(pace.load()) == SamplerPace::Asleep) {
        // Let the endpoint suspend: no query, and no idle connection either.
        if (m_connection || m_console) {
            samplerLog()->info("sampler asleep: connections closed, no queries until woken");
            m_connection.reset();
            m_console.reset();
            m_rates.reset();
            m_previousSampleMs = 0;
            m_previousPooler.reset();
        }
    } else {
        // The console first: whoever receives `sampled` has this tick's pooler sample already.
        if (!m_config.poolerConsoleConninfo.isEmpty())
            samplePoolerConsole();
        sampleDatabase();
        samplePool();
        if (m_failures > 0) {
            // Exponential backoff with jitter while the server is unreachable, but never slower
            // than retryCap(): a restarted server is seen again within two sampling intervals.
            const int exponent = std::min(m_failures - 1, 7);
            const auto backoff = std::min<std::chrono::milliseconds>(
                std::chrono::milliseconds(250LL << exponent), retryCap());
            std::uniform_real_distribution<double> jitter(0.5, 1.0);
            delay = std::max(
                delay,
                std::chrono::milliseconds(qint64(double(backoff.count()) * jitter(m_random))));
        }
    }
    // The next tick is armed only now that this one has finished: never a pile-up.
    if (m_timer)
        m_timer->start(delay);
}

void SamplerWorker::sampleDatabase()
{
    if (!m_connection) {
        auto opened =
            Connection::open(samplerConnInfo(m_config, m_config.conninfo), m_config.connectTimeout);
        if (!opened) {
            onDatabaseFailure(opened.error());
            return;
        }
        m_connection.emplace(std::move(opened).value());
    }

    ActivityQueryOptions options;
    options.serverVersionNum = m_connection->parameterStatus(QStringLiteral("server_version"))
                                   .section(QLatin1Char('.'), 0, 0)
                                   .toInt()
        * 10000;
    options.topN = m_config.topN;
    options.maxGroups = m_config.maxGroups;
    options.includeSessions = sessionsWanted.load();
    options.maxSessions = m_config.maxSessions;
    options.idleSinceEpochMs = m_previousSampleMs;
    const QString sql =
        QStringLiteral("BEGIN READ ONLY; SET LOCAL statement_timeout = %1; %2; COMMIT")
            .arg(m_config.statementTimeout.count())
            .arg(buildActivityQuery(options));

    const auto started = Clock::now();
    auto result = m_connection->exec(sql, m_config.statementTimeout + std::chrono::seconds(1));
    const auto roundTrip = Clock::now() - started;
    if (!result) {
        onDatabaseFailure(result.error());
        return;
    }
    auto parsed = parseActivityResult(result->value(0, 0).toUtf8(), options);
    if (!parsed) {
        onDatabaseFailure(parsed.error());
        return;
    }
    ActivitySample sample = std::move(parsed).value();
    sample.roundTripMicros =
        std::chrono::duration_cast<std::chrono::microseconds>(roundTrip).count();
    sample.rates = m_rates.add(sample);
    m_previousSampleMs = sample.takenAt.toMSecsSinceEpoch();
    if (m_failures > 0) {
        samplerLog()->info("sampler connected again after {} failed attempts", m_failures);
        m_failures = 0;
        Q_EMIT connectionRestored();
    }
    if (m_store)
        appendActivity(*m_store, sample);
    Q_EMIT sampled(sample);
}

void SamplerWorker::onDatabaseFailure(const DbError &error)
{
    if (error.isConnectionFatal() || !m_connection || m_connection->isBroken())
        m_connection.reset();
    // A gap, not zeros: the rates need a full window of good samples again.
    m_rates.reset();
    m_previousSampleMs = 0;
    if (m_store)
        appendGap(*m_store, QDateTime::currentDateTimeUtc());
    Q_EMIT tickFailed(error);
    if (m_failures++ == 0) {
        samplerLog()->warn("sampling failed: {} - {}", error.summary().toStdString(),
                           error.remedy.toStdString());
        Q_EMIT connectionLost(error);
    } else {
        samplerLog()->debug("sampling still failing ({}): {}", m_failures,
                            error.summary().toStdString());
    }
}

void SamplerWorker::samplePoolerConsole()
{
    if (!m_console) {
        if (Clock::now() < m_consoleRetryAt)
            return;
        auto opened = Connection::open(samplerConnInfo(m_config, m_config.poolerConsoleConninfo),
                                       m_config.connectTimeout);
        if (!opened) {
            if (!m_poolerReported) {
                m_poolerReported = true;
                samplerLog()->warn("PgBouncer console not reachable, pooler statistics skipped: {}",
                                   opened.error().summary().toStdString());
                Q_EMIT poolerUnavailable(opened.error());
            }
            onPoolerFailure();
            return;
        }
        m_console.emplace(std::move(opened).value());
    }
    auto sample = samplePooler(*m_console, m_config.statementTimeout);
    if (!sample) {
        if (!m_poolerReported) {
            m_poolerReported = true;
            samplerLog()->warn("PgBouncer console query failed, pooler statistics skipped: {}",
                               sample.error().summary().toStdString());
            Q_EMIT poolerUnavailable(sample.error());
        }
        m_console.reset();
        m_previousPooler.reset();
        onPoolerFailure();
        return;
    }
    m_poolerReported = false;
    m_consoleWorked = true;
    PoolerSample s = std::move(sample).value();
    if (m_previousPooler)
        computePoolerRates(*m_previousPooler, s);
    m_previousPooler = s;
    if (m_store)
        appendPooler(*m_store, s);
    Q_EMIT poolerSampled(s);
}

void SamplerWorker::onPoolerFailure()
{
    // A console that answered before leaves a visible break in the pooler charts, not a line
    // drawn across the outage.
    if (m_consoleWorked && m_store)
        appendPoolerGap(*m_store, QDateTime::currentDateTimeUtc());
    m_consoleRetryAt = Clock::now() + consoleRetryDelay();
}

void SamplerWorker::samplePool()
{
    if (!m_config.ownPool)
        return;
    const PoolStats stats = m_config.ownPool->stats();
    if (m_store)
        appendPool(*m_store, stats);
    Q_EMIT poolStatsSampled(stats);
}

} // namespace poolscope
