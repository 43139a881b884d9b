// The pool against a small server: max_connections 10 (3 reserved for superusers) and a PgBouncer
// pool of one server connection, so that limits and the pooler's sharing are easy to reach.
#include "core/db/connection.h"
#include "core/pool/connectionpool.h"
#include "tests/support/sandboxfixture.h"

#include <QtTest>

#include <thread>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

class TestPoolLimits : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;

    std::unique_ptr<ConnectionPool> makePool(const PoolConfig &config)
    {
        auto pool = ConnectionPool::create(config);
        if (!pool)
            qFatal("pool creation failed: %s", qPrintable(pool.error().summary()));
        return std::move(pool).value();
    }

    ConnInfo pooledInfo() const { return ConnInfo::parse(m_sandbox.pooledUri()).value(); }

    QString showStatementTimeout(Connection &c)
    {
        auto r = c.exec(QStringLiteral("SHOW statement_timeout"), 5s);
        return r ? r->value(0, 0) : r.error().summary();
    }

private Q_SLOTS:
    void initTestCase()
    {
        sandbox::SandboxOptions options;
        options.maxConnections = 10;
        options.superuserReservedConnections = 3;
        options.poolSize = 1;
        QVERIFY2(m_sandbox.start(options), qPrintable(m_sandbox.errorString()));
        QCOMPARE(querySingleValue(m_sandbox.adminUri(), QStringLiteral("SHOW max_connections")),
                 QStringLiteral("10"));
    }

    void exhaustionGivesATyped53300WithItsRemedy()
    {
        // A plain connection beyond the limit: the startup error carries its SQLSTATE.
        std::vector<Connection> held;
        std::optional<DbError> refused;
        const ConnInfo direct = ConnInfo::parse(m_sandbox.directUri()).value();
        for (int i = 0; i < 12 && !refused; ++i) {
            auto c = Connection::open(direct, 10s);
            if (c)
                held.push_back(std::move(c).value());
            else
                refused = c.error();
        }
        QVERIFY(refused.has_value());
        // 10 slots minus 3 reserved for superusers: the non-superuser app role gets at most 7.
        QVERIFY2(held.size() <= 7, qPrintable(QString::number(held.size())));
        QCOMPARE(refused->sqlstate, QStringLiteral("53300"));
        QCOMPARE(refused->kind, ErrorKind::TooManyConnections);
        QVERIFY(refused->remedy.contains(QStringLiteral("DATABASE_POOL_MAX_SIZE")));
        held.clear();

        // A pool sized beyond the server's limit: callers that cannot get a connection fail with
        // an acquire timeout whose cause is the typed 53300, and the pool counts it by kind.
        PoolConfig config;
        config.conninfo = m_sandbox.directUri();
        config.applicationName = QStringLiteral("tst-exhaustion");
        config.minSize = 0;
        config.maxSize = 12;
        config.acquireTimeout = 2s;
        config.reconnectBackoffMax = 200ms;
        auto pool = makePool(config);
        std::vector<Lease> leases;
        std::vector<DbError> errors;
        std::mutex mutex;
        std::vector<std::thread> callers;
        for (int i = 0; i < 12; ++i) {
            callers.emplace_back([&, i] {
                auto lease = pool->acquire(QStringLiteral("caller %1").arg(i));
                std::lock_guard lock(mutex);
                if (lease)
                    leases.push_back(std::move(lease).value());
                else
                    errors.push_back(lease.error());
            });
        }
        for (auto &t : callers)
            t.join();
        QVERIFY2(leases.size() <= 7, qPrintable(QString::number(leases.size())));
        QVERIFY(leases.size() >= 5);
        QCOMPARE(int(leases.size() + errors.size()), 12);
        for (const DbError &e : errors) {
            QCOMPARE(e.kind, ErrorKind::AcquireTimeout);
            QVERIFY(e.cause != nullptr);
            QCOMPARE(e.cause->sqlstate, QStringLiteral("53300"));
            QCOMPARE(e.cause->kind, ErrorKind::TooManyConnections);
            QVERIFY(!e.cause->remedy.isEmpty());
        }
        const PoolStats s = pool->stats();
        QVERIFY(s.connectsFailedByKind.count(ErrorKind::TooManyConnections) == 1);
        QVERIFY(s.connectsFailedByKind.at(ErrorKind::TooManyConnections) >= 1);
        QCOMPARE(s.health, PoolHealth::Reconnecting);
        leases.clear();
    }

    void setLocalStatementTimeoutDoesNotLeakThroughThePooler()
    {
        // Client A: a pool on the PgBouncer endpoint with a 200 ms statement_timeout, applied with
        // SET LOCAL inside each transaction (the automatic choice for a pooled endpoint).
        PoolConfig config;
        config.conninfo = m_sandbox.pooledUri();
        config.endpointRole = EndpointRole::Pooled;
        config.applicationName = QStringLiteral("tst-client-a");
        config.minSize = 0;
        config.maxSize = 1;
        config.statementTimeout = 200ms;
        QCOMPARE(config.effectiveStatementTimeoutMode(),
                 StatementTimeoutMode::SetLocalPerTransaction);
        auto pool = makePool(config);
        auto a = pool->acquire(QStringLiteral("client A"));
        QVERIFY(a);

        // Client B: an ordinary connection through the same PgBouncer, whose pool has a single
        // server connection, so A and B run on the very same server backend.
        auto b = Connection::open(pooledInfo(), 10s);
        QVERIFY2(b, qPrintable(b ? QString() : b.error().summary()));
        const QString pidA = a.value().exec(QStringLiteral("SELECT pg_backend_pid()"))->value(0, 0);
        const QString pidB = b->exec(QStringLiteral("SELECT pg_backend_pid()"), 5s)->value(0, 0);
        QCOMPARE(pidA, pidB);

        std::optional<DbError> timedOut =
            a.value().transaction([](Connection &c) -> std::optional<DbError> {
                auto r = c.exec(QStringLiteral("SELECT pg_sleep(2)"), 10s);
                return r ? std::nullopt : std::optional<DbError>(r.error());
            });
        QVERIFY(timedOut.has_value());
        QCOMPARE(timedOut->sqlstate, QStringLiteral("57014"));
        QCOMPARE(timedOut->kind, ErrorKind::QueryCanceled);
        // Nothing leaked to B on the shared server connection.
        QCOMPARE(showStatementTimeout(b.value()), QStringLiteral("0"));

        // The guide's way - a session SET - does leak: this is why the pool refuses it on pooled
        // endpoints.
        QVERIFY(a.value().exec(QStringLiteral("SET statement_timeout = '1234ms'")));
        QCOMPARE(showStatementTimeout(b.value()), QStringLiteral("1234ms"));
        QVERIFY(a.value().exec(QStringLiteral("RESET statement_timeout")));
        QCOMPARE(showStatementTimeout(b.value()), QStringLiteral("0"));
    }

    void unsafeTimeoutModesAreRefusedOnPooledEndpoints()
    {
        PoolConfig config;
        config.conninfo = m_sandbox.pooledUri();
        config.endpointRole = EndpointRole::Pooled;
        for (StatementTimeoutMode mode :
             { StatementTimeoutMode::StartupParameter, StatementTimeoutMode::SetOnCheckout }) {
            config.statementTimeoutMode = mode;
            auto pool = ConnectionPool::create(config);
            QVERIFY(!pool);
            QCOMPARE(pool.error().kind, ErrorKind::InvalidConfiguration);
            QVERIFY(pool.error().message.contains(QStringLiteral("pool")));
        }
        // And what PgBouncer does when a startup parameter is sent anyway: a typed pooler error.
        ConnInfo info = pooledInfo();
        info.set(QStringLiteral("options"), QStringLiteral("-c statement_timeout=30000"));
        auto c = Connection::open(info, 10s);
        QVERIFY(!c);
        QCOMPARE(c.error().sqlstate, QStringLiteral("08P01"));
        QCOMPARE(c.error().kind, ErrorKind::PoolerError);
        QVERIFY2(c.error().message.contains(QStringLiteral("unsupported startup parameter")),
                 qPrintable(c.error().message));
    }
};

QTEST_GUILESS_MAIN(TestPoolLimits)
#include "tst_pool_limits.moc"
