#include "core/sandbox/sandbox.h"

#include "core/logging/logging.h"
#include "core/sandbox/freeport.h"
#include "core/sandbox/latencyrelay.h"
#include "core/sandbox/pgclient_p.h"
#include "core/sandbox/sandboxconfig.h"
#include "core/sandbox/sandboxdirectory.h"
#include "core/sandbox/sandboxtls.h"
#include "core/sandbox/serverprocess.h"
#include "core/sandbox/serveruser.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>

#include <optional>

namespace poolscope::sandbox {
namespace {

constexpr int kPortAttempts = 5;
constexpr auto kPollInterval = std::chrono::milliseconds(15);

enum class Readiness { Ready, AddressInUse, Exited, TimedOut };

std::chrono::milliseconds remaining(const QDeadlineTimer &deadline)
{
    return std::chrono::milliseconds(qMax<qint64>(0, deadline.remainingTime()));
}

bool looksLikeAddressInUse(const QString &log)
{
    return log.contains(QLatin1String("Address already in use"))
        || log.contains(QLatin1String("could not bind"))
        || log.contains(QLatin1String("could not create any TCP/IP sockets"));
}

// Polls until the server accepts connections on `port`, exits, or the deadline passes.
Readiness waitUntilReady(ServerProcess &server, int port, const QDeadlineTimer &deadline)
{
    for (;;) {
        if (pgclient::isAccepting(port))
            return server.isRunning() ? Readiness::Ready : Readiness::Exited;
        if (server.waitForExit(kPollInterval)) {
            return looksLikeAddressInUse(server.logTail(40)) ? Readiness::AddressInUse
                                                             : Readiness::Exited;
        }
        if (deadline.hasExpired())
            return Readiness::TimedOut;
    }
}

QString failure(const ServerProcess &server, const QString &what)
{
    return QStringLiteral("%1 %2 (%3); last lines of its log:\n%4")
        .arg(server.name(), what, server.exitDescription(), server.logTail(20));
}

} // namespace

class SandboxPrivate
{
public:
    using Error = SandboxError;

    Result<SandboxEndpoints, SandboxError> start(const SandboxOptions &options);
    Result<bool, SandboxError> startPostgres(const QDeadlineTimer &deadline);
    void stop();

    QString binary(const QString &name) const;
    std::optional<QString> initializeCluster(const QDeadlineTimer &deadline);
    std::optional<QString> startPostgresOnFreePort(const QDeadlineTimer &deadline);
    std::optional<QString> createRoles();
    std::optional<QString> startPgBouncer(const QDeadlineTimer &deadline);
    std::unique_ptr<ServerProcess> makePostgres() const;
    std::optional<QString> startRelays();
    const SandboxTlsFiles *tls() const { return m_tls ? &*m_tls : nullptr; }

    SandboxOptions m_options;
    std::optional<ServerUser> m_user;
    SandboxCredentials m_credentials;
    SandboxEndpoints m_endpoints;
    std::optional<SandboxTlsFiles> m_tls;
    bool m_running = false;
    // Declaration order = reverse destruction order: PgBouncer, PostgreSQL, then the directory.
    std::unique_ptr<SandboxDirectory> m_directory;
    std::unique_ptr<ServerProcess> m_postgres;
    std::unique_ptr<ServerProcess> m_bouncer;
    std::unique_ptr<LatencyRelay> m_postgresRelay; // latencyMs > 0 only
    std::unique_ptr<LatencyRelay> m_bouncerRelay;
};

QString SandboxPrivate::binary(const QString &name) const
{
    if (name == QLatin1String("pgbouncer")) {
        return m_options.pgbouncerProgram.isEmpty() ? QStringLiteral("/usr/sbin/pgbouncer")
                                                    : m_options.pgbouncerProgram;
    }
    const QString dir = m_options.postgresBinDirectory.isEmpty()
        ? QStringLiteral("/usr/lib/postgresql/15/bin")
        : m_options.postgresBinDirectory;
    return dir + QLatin1Char('/') + name;
}

std::optional<QString> SandboxPrivate::initializeCluster(const QDeadlineTimer &deadline)
{
    QString error;
    const QString pwFile = QStringLiteral("initdb.pw");
    if (!m_directory->writeFile(pwFile, m_credentials.postgres.toUtf8() + '\n', 0600,
                                SandboxDirectory::Owner::ServerUser, &error)) {
        return error;
    }
    ServerProcess initdb(
        { QStringLiteral("initdb"),
          binary(QStringLiteral("initdb")),
          { QStringLiteral("-D"), m_directory->filePath(QStringLiteral("data")),
            QStringLiteral("-U"), QLatin1String(kSuperuser),
            QStringLiteral("--pwfile=") + m_directory->filePath(pwFile), QStringLiteral("-E"),
            QStringLiteral("UTF8"), QStringLiteral("--locale=C"), QStringLiteral("--no-sync"),
            QStringLiteral("--auth-local=trust"), QStringLiteral("--auth-host=scram-sha-256") },
          m_directory->path(),
          m_directory->filePath(QStringLiteral("initdb.log")),
          SIGTERM,
          std::chrono::milliseconds(2000) },
        *m_user);
    const bool started = initdb.start(&error);
    const bool exited = started && initdb.waitForExit(remaining(deadline));
    QFile::remove(m_directory->filePath(pwFile));
    if (!started)
        return error;
    if (!exited)
        return failure(initdb, QStringLiteral("did not finish within the start timeout"));
    if (initdb.exitDescription() != QLatin1String("exit code 0"))
        return failure(initdb, QStringLiteral("failed"));

    if (!m_directory->writeFile(QStringLiteral("data/pg_hba.conf"), config::pgHba(), 0600,
                                SandboxDirectory::Owner::ServerUser, &error)) {
        return error;
    }
    QFile conf(m_directory->filePath(QStringLiteral("data/postgresql.conf")));
    if (!conf.open(QIODevice::Append)
        || conf.write(config::postgresqlSettings(m_directory->path(), m_options, tls())) < 0) {
        return QStringLiteral("cannot append to %1: %2").arg(conf.fileName(), conf.errorString());
    }
    return std::nullopt;
}

std::unique_ptr<ServerProcess> SandboxPrivate::makePostgres() const
{
    return std::make_unique<ServerProcess>(
        ServerProcess::Spec { QStringLiteral("postgres"),
                              binary(QStringLiteral("postgres")),
                              { QStringLiteral("-D"), m_directory->filePath(QStringLiteral("data")),
                                QStringLiteral("-p"),
                                QString::number(m_endpoints.postgresPortBehindRelay) },
                              m_directory->path(),
                              m_directory->filePath(QStringLiteral("postgres.log")),
                              SIGINT, // fast shutdown
                              std::chrono::milliseconds(10000) },
        *m_user);
}

Result<bool, SandboxError> SandboxPrivate::startPostgres(const QDeadlineTimer &deadline)
{
    m_postgres = makePostgres();
    QString error;
    if (!m_postgres->start(&error))
        return SandboxError { error };
    m_endpoints.postgresPid = m_postgres->pid();
    switch (waitUntilReady(*m_postgres, m_endpoints.postgresPortBehindRelay, deadline)) {
    case Readiness::Ready:
        return true;
    case Readiness::AddressInUse:
        return SandboxError { failure(*m_postgres, QStringLiteral("could not bind its port")) };
    case Readiness::Exited:
        return SandboxError { failure(*m_postgres, QStringLiteral("exited during start-up")) };
    case Readiness::TimedOut:
        break;
    }
    const QString message =
        failure(*m_postgres, QStringLiteral("did not accept connections in time"));
    m_postgres->stop();
    return SandboxError { message };
}

std::optional<QString> SandboxPrivate::startPostgresOnFreePort(const QDeadlineTimer &deadline)
{
    auto log = logging::logger("sandbox");
    for (int attempt = 1;; ++attempt) {
        QString error;
        const std::vector<int> ports = findFreePorts(1, &error);
        if (ports.empty())
            return error;
        m_endpoints.postgresPort = ports.front();
        m_endpoints.postgresPortBehindRelay = ports.front();
        auto started = startPostgres(deadline);
        if (started)
            return std::nullopt;
        const bool portTaken =
            !m_postgres->isRunning() && looksLikeAddressInUse(m_postgres->logTail(40));
        if (!portTaken || attempt == kPortAttempts || deadline.hasExpired())
            return started.error().message;
        log->warn("port {} was taken before postgres could bind it, retrying with another one",
                  m_endpoints.postgresPort);
    }
}

std::optional<QString> SandboxPrivate::createRoles()
{
    const QStringList statements = {
        QStringLiteral("CREATE ROLE %1 LOGIN PASSWORD '%2'")
            .arg(QLatin1String(kAppRole), m_credentials.app),
        QStringLiteral("CREATE DATABASE %1 OWNER %2")
            .arg(QLatin1String(kAppDatabase), QLatin1String(kAppRole)),
        QStringLiteral("CREATE ROLE %1 LOGIN PASSWORD '%2'")
            .arg(QLatin1String(kStatsRole), m_credentials.stats),
    };
    QString error;
    if (!pgclient::runStatements(m_directory->path(), m_endpoints.postgresPort,
                                 QLatin1String(kSuperuser), statements, &error)) {
        return QStringLiteral("cannot create the roles: %1").arg(error);
    }
    return std::nullopt;
}

std::optional<QString> SandboxPrivate::startPgBouncer(const QDeadlineTimer &deadline)
{
    auto log = logging::logger("sandbox");
    QString error;
    if (!m_directory->writeFile(QStringLiteral("userlist.txt"),
                                config::pgbouncerUserList(m_credentials), 0600,
                                SandboxDirectory::Owner::ServerUser, &error)) {
        return error;
    }
    for (int attempt = 1;; ++attempt) {
        const std::vector<int> ports = findFreePorts(1, &error);
        if (ports.empty())
            return error;
        m_endpoints.bouncerPort = ports.front();
        m_endpoints.bouncerPortBehindRelay = ports.front();
        const QString ini = QStringLiteral("pgbouncer.ini");
        if (!m_directory->writeFile(ini,
                                    config::pgbouncerIni(m_directory->path(),
                                                         m_endpoints.postgresPort,
                                                         m_endpoints.bouncerPort, m_options, tls()),
                                    0600, SandboxDirectory::Owner::ServerUser, &error)) {
            return error;
        }
        m_bouncer = std::make_unique<ServerProcess>(
            ServerProcess::Spec { QStringLiteral("pgbouncer"),
                                  binary(QStringLiteral("pgbouncer")),
                                  { m_directory->filePath(ini) },
                                  m_directory->path(),
                                  m_directory->filePath(QStringLiteral("pgbouncer.log")),
                                  SIGTERM, // immediate shutdown
                                  std::chrono::milliseconds(5000) },
            *m_user);
        if (!m_bouncer->start(&error))
            return error;
        m_endpoints.bouncerPid = m_bouncer->pid();
        const Readiness readiness = waitUntilReady(*m_bouncer, m_endpoints.bouncerPort, deadline);
        if (readiness == Readiness::Ready)
            return std::nullopt;
        if (readiness == Readiness::TimedOut) {
            const QString message =
                failure(*m_bouncer, QStringLiteral("did not accept connections in time"));
            m_bouncer->stop();
            return message;
        }
        if (readiness == Readiness::Exited || attempt == kPortAttempts || deadline.hasExpired())
            return failure(*m_bouncer, QStringLiteral("exited during start-up"));
        log->warn("port {} was taken before pgbouncer could bind it, retrying with another one",
                  m_endpoints.bouncerPort);
    }
}

std::optional<QString> SandboxPrivate::startRelays()
{
    if (m_options.latencyMs <= 0)
        return std::nullopt;
    const std::chrono::milliseconds delay(m_options.latencyMs);
    const QString loopback = QStringLiteral("127.0.0.1");
    auto postgres = LatencyRelay::start(loopback, m_endpoints.postgresPortBehindRelay, delay);
    if (!postgres)
        return postgres.error();
    auto bouncer = LatencyRelay::start(loopback, m_endpoints.bouncerPortBehindRelay, delay);
    if (!bouncer)
        return bouncer.error();
    m_postgresRelay = std::move(postgres).value();
    m_bouncerRelay = std::move(bouncer).value();
    m_endpoints.postgresPort = m_postgresRelay->port();
    m_endpoints.bouncerPort = m_bouncerRelay->port();
    m_endpoints.latencyMs = m_options.latencyMs;
    return std::nullopt;
}

Result<SandboxEndpoints, SandboxError> SandboxPrivate::start(const SandboxOptions &options)
{
    if (m_running)
        return SandboxError { QStringLiteral("the sandbox is already running") };
    if (options.superuserReservedConnections < 0
        || options.maxConnections <= options.superuserReservedConnections
        || options.maxConnections > 10000 || options.poolSize < 1
        || options.maxClientConnections < 1 || options.startTimeout.count() <= 0
        || options.latencyMs < 0 || options.latencyMs > 60000) {
        return SandboxError { QStringLiteral(
            "invalid sandbox options: need 0 <= superuser_reserved_connections < max_connections "
            "<= 10000, a pool size >= 1, max_client_conn >= 1, a positive start timeout and a "
            "latency from 0 to 60000 ms") };
    }
    auto log = logging::logger("sandbox");
    m_options = options;
    m_endpoints = SandboxEndpoints {};
    const QDeadlineTimer deadline(options.startTimeout);
    QElapsedTimer total;
    total.start();
    QElapsedTimer step;
    step.start();

    auto fail = [&](const QString &message) -> Result<SandboxEndpoints, SandboxError> {
        log->error("sandbox start failed after {} ms: {}", total.elapsed(), message.toStdString());
        stop();
        return SandboxError { message };
    };

    auto user = ServerUser::resolve();
    if (!user)
        return fail(user.error());
    m_user = user.value();
    m_directory = std::make_unique<SandboxDirectory>(*m_user);
    QString error;
    if (!m_directory->create(&error))
        return fail(error);
    m_credentials = SandboxCredentials::generate();
    log->info("sandbox directory {} (servers run as {})", m_directory->path().toStdString(),
              m_user->name().toStdString());

    m_tls.reset();
    if (options.tls) {
        const QString openssl =
            options.opensslProgram.isEmpty() ? QStringLiteral("openssl") : options.opensslProgram;
        auto files = createSandboxTls(*m_directory, openssl, remaining(deadline));
        if (!files)
            return fail(QStringLiteral("cannot create the sandbox's TLS certificates: %1")
                            .arg(files.error()));
        m_tls = files.value();
        log->info("throwaway CA and server certificate: {} ms", step.restart());
    }

    if (auto failed = initializeCluster(deadline))
        return fail(*failed);
    log->info("initdb: {} ms", step.restart());

    if (auto failed = startPostgresOnFreePort(deadline))
        return fail(*failed);
    log->info("postgres (pid {}) accepts connections on 127.0.0.1:{}: {} ms",
              m_endpoints.postgresPid, m_endpoints.postgresPort, step.restart());

    if (auto failed = createRoles())
        return fail(*failed);
    log->info("roles and database created: {} ms", step.restart());

    if (auto failed = startPgBouncer(deadline))
        return fail(*failed);
    log->info("pgbouncer (pid {}) accepts connections on 127.0.0.1:{}: {} ms",
              m_endpoints.bouncerPid, m_endpoints.bouncerPort, step.restart());

    if (auto failed = startRelays())
        return fail(*failed);

    m_endpoints.passFile = m_directory->filePath(QStringLiteral("pgpass"));
    QByteArray pgpass = config::pgpass(m_endpoints.postgresPortBehindRelay,
                                       m_endpoints.bouncerPortBehindRelay, m_credentials);
    if (m_postgresRelay) // the relays' ports too: pgpass matches host:port
        pgpass += config::pgpass(m_endpoints.postgresPort, m_endpoints.bouncerPort, m_credentials);
    if (!m_directory->writeFile(QStringLiteral("pgpass"), pgpass, 0600,
                                SandboxDirectory::Owner::InvokingUser, &error)) {
        return fail(error);
    }
    const QString ca = m_tls ? m_tls->caCertificate : QString();
    m_endpoints.caCertificate = ca;
    m_endpoints.maxConnections = m_options.maxConnections;
    m_endpoints.poolSize = m_options.poolSize;
    m_endpoints.directUri = config::clientUri(kAppRole, m_endpoints.postgresPort, kAppDatabase, ca);
    m_endpoints.pooledUri = config::clientUri(kAppRole, m_endpoints.bouncerPort, kAppDatabase, ca);
    m_endpoints.adminUri = config::clientUri(kSuperuser, m_endpoints.postgresPort, "postgres", ca);
    m_endpoints.poolerConsoleUri =
        config::clientUri(kStatsRole, m_endpoints.bouncerPort, "pgbouncer", ca);
    m_endpoints.appUser = QLatin1String(kAppRole);
    m_endpoints.database = QLatin1String(kAppDatabase);
    m_endpoints.directory = m_directory->path();
    m_running = true;
    log->info("sandbox ready in {} ms", total.elapsed());
    return m_endpoints;
}

void SandboxPrivate::stop()
{
    if (!m_directory && !m_postgres && !m_bouncer)
        return;
    auto log = logging::logger("sandbox");
    QElapsedTimer timer;
    timer.start();
    m_bouncerRelay.reset(); // stops the threads and closes every relayed socket
    m_postgresRelay.reset();
    if (m_bouncer)
        m_bouncer->stop();
    if (m_postgres)
        m_postgres->stop();
    m_bouncer.reset();
    m_postgres.reset();
    const QString directory = m_directory ? m_directory->path() : QString();
    m_directory.reset();
    m_running = false;
    log->info("sandbox {} stopped and removed: {} ms", directory.toStdString(), timer.elapsed());
}

Sandbox::Sandbox()
    : d(std::make_unique<SandboxPrivate>())
{
}

Sandbox::~Sandbox()
{
    stop();
}

Result<SandboxEndpoints, SandboxError> Sandbox::start(const SandboxOptions &options)
{
    return d->start(options);
}

bool Sandbox::isRunning() const
{
    return d->m_running;
}

const SandboxEndpoints &Sandbox::endpoints() const
{
    return d->m_endpoints;
}

Result<bool, SandboxError> Sandbox::stopPostgres()
{
    if (!d->m_running)
        return SandboxError { QStringLiteral("the sandbox is not running") };
    if (d->m_postgres) {
        QElapsedTimer timer;
        timer.start();
        d->m_postgres->stop();
        logging::logger("sandbox")->info("postgres stopped (fast shutdown): {} ms",
                                         timer.elapsed());
    }
    return true;
}

Result<bool, SandboxError> Sandbox::startPostgres()
{
    if (!d->m_running)
        return SandboxError { QStringLiteral("the sandbox is not running") };
    if (d->m_postgres && d->m_postgres->isRunning())
        return true;
    QElapsedTimer timer;
    timer.start();
    auto started = d->startPostgres(QDeadlineTimer(d->m_options.startTimeout));
    if (!started) {
        logging::logger("sandbox")->error("postgres restart failed: {}",
                                          started.error().message.toStdString());
        return started;
    }
    logging::logger("sandbox")->info("postgres (pid {}) restarted on port {}: {} ms",
                                     d->m_endpoints.postgresPid,
                                     d->m_endpoints.postgresPortBehindRelay, timer.elapsed());
    return true;
}

void Sandbox::stop()
{
    d->stop();
}

} // namespace poolscope::sandbox
