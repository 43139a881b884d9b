// Integration tests of ConnectionPool against a real PostgreSQL 15 (the sandbox, started here).
#include "core/pool/connectionpool.h"
#include "tests/support/logcapture.h"
#include "tests/support/sandboxfixture.h"

#include <QElapsedTimer>
#include <QFile>
#include <QtTest>

#include <mutex>
#include <stdexcept>
#include <thread>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

class TestPool : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;
    std::shared_ptr<LogCapture> m_log;

    PoolConfig directConfig(const QString &applicationName) const
    {
        PoolConfig config;
        config.conninfo = m_sandbox.directUri();
        config.applicationName = applicationName;
        config.minSize = 0;
        config.maxSize = 4;
        config.acquireTimeout = 5s;
        return config;
    }

    std::unique_ptr<ConnectionPool> makePool(const PoolConfig &config)
    {
        auto pool = ConnectionPool::create(config);
        if (!pool)
            qFatal("pool creation failed: %s", qPrintable(pool.error().summary()));
        return std::move(pool).value();
    }

    int serverConnections(const QString &applicationName) const
    {
        QString error;
        const QString n = querySingleValue(
            m_sandbox.adminUri(),
            QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE application_name = '%1'")
                .arg(applicationName),
            &error);
        if (n.isNull())
            qWarning("pg_stat_activity query failed: %s", qPrintable(error));
        return n.toInt();
    }

    QString serverPids(const QString &applicationName) const
    {
        return querySingleValue(
            m_sandbox.adminUri(),
            QStringLiteral("SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), '') "
                           "FROM pg_stat_activity WHERE application_name = '%1'")
                .arg(applicationName));
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_log = LogCapture::install();
        QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString()));
    }

    void fillsToMinSizeWithConcurrentConnects()
    {
        PoolConfig config = directConfig(QStringLiteral("tst-fill"));
        config.minSize = 8;
        config.maxSize = 8;
        auto pool = makePool(config);
        QVERIFY(pool->waitUntilSize(8, 20s));
        const PoolStats s = pool->stats();
        QCOMPARE(s.size, 8);
        QCOMPARE(s.idle, 8);
        QCOMPARE(s.connectsOk, 8u);
        // Several connection attempts were in flight at the same time, not one after another.
        QVERIFY2(s.peakConnecting >= 2, qPrintable(QString::number(s.peakConnecting)));
        QCOMPARE(s.connectTime.count, 8u);
        QCOMPARE(serverConnections(QStringLiteral("tst-fill")), 8);
    }

    void acquireTimeoutIsHonoured()
    {
        PoolConfig config = directConfig(QStringLiteral("tst-timeout"));
        config.maxSize = 1;
        auto pool = makePool(config);
        auto held = pool->acquire(QStringLiteral("holder"));
        QVERIFY2(held, qPrintable(held ? QString() : held.error().summary()));

        QElapsedTimer timer;
        timer.start();
        auto second = pool->acquire(QStringLiteral("second"), 1000ms);
        const qint64 elapsed = timer.elapsed();
        QVERIFY(!second);
        QCOMPARE(second.error().kind, ErrorKind::AcquireTimeout);
        QVERIFY(!second.error().remedy.isEmpty());
        QVERIFY2(elapsed >= 900 && elapsed <= 1100, qPrintable(QString::number(elapsed)));
        QCOMPARE(pool->stats().acquireTimeouts, 1u);
    }

    void waitersAreServedFirstComeFirstServed()
    {
        PoolConfig config = directConfig(QStringLiteral("tst-fifo"));
        config.maxSize = 1;
        auto pool = makePool(config);
        auto held = pool->acquire(QStringLiteral("holder"));
        QVERIFY(held);

        std::mutex orderMutex;
        QList<int> order;
        std::vector<std::thread> waiters;
        constexpr int kWaiters = 5;
        for (int i = 0; i < kWaiters; ++i) {
            waiters.emplace_back([&, i] {
                auto lease = pool->acquire(QStringLiteral("waiter %1").arg(i), 20s);
                std::lock_guard lock(orderMutex);
                order << (lease ? i : -1);
            });
            // Start the next waiter only once this one is queued, so arrival order is known.
            QTRY_COMPARE_WITH_TIMEOUT(pool->stats().waiting, i + 1, 5000);
        }
        held.value().release();
        for (auto &t : waiters)
            t.join();
        QCOMPARE(order, (QList<int> { 0, 1, 2, 3, 4 }));
        // The holder waited too: with minSize 0 its connection had to be opened first.
        QCOMPARE(pool->stats().acquiresWaited, quint64(kWaiters + 1));
    }

    void terminatedIdleConnectionsAreReplacedAndNeverHandedOut()
    {
        const QString app = QStringLiteral("tst-terminate");
        PoolConfig config = directConfig(app);
        config.minSize = 4;
        config.maxSize = 4;
        auto pool = makePool(config);
        QVERIFY(pool->waitUntilSize(4, 20s));
        const QString before = serverPids(app);
        QCOMPARE(before.split(QLatin1Char(',')).size(), 4);

        QCOMPARE(querySingleValue(
                     m_sandbox.adminUri(),
                     QStringLiteral("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE application_name = '%1'")
                         .arg(app)),
                 QStringLiteral("4"));
        // pg_terminate_backend only signals: wait until the old backends are gone.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const QStringList now = serverPids(app).split(QLatin1Char(','), Qt::SkipEmptyParts);
                for (const QString &pid : before.split(QLatin1Char(',')))
                    if (now.contains(pid))
                        return false;
                return true;
            }(),
            5000);

        // Every caller gets a working connection: dead ones are detected at checkout or by the
        // maintainer, and discarded.
        std::atomic<int> failures { 0 };
        std::vector<std::thread> clients;
        for (int t = 0; t < 4; ++t) {
            clients.emplace_back([&] {
                for (int i = 0; i < 10; ++i) {
                    auto lease = pool->acquire(QStringLiteral("client"));
                    if (!lease || !lease.value().exec(QStringLiteral("SELECT 1")))
                        ++failures;
                }
            });
        }
        for (auto &t : clients)
            t.join();
        QCOMPARE(failures.load(), 0);
        QVERIFY(pool->stats().connectionsLost >= 4);
        QTRY_COMPARE_WITH_TIMEOUT(serverConnections(app), 4, 10000);
        QVERIFY(serverPids(app) != before);
        QCOMPARE(pool->stats().size, 4);
    }

    void recoversAfterServerRestart()
    {
        const QString app = QStringLiteral("tst-restart");
        PoolConfig config = directConfig(app);
        config.minSize = 3;
        config.maxSize = 3;
        config.housekeepingInterval = 100ms;
        config.reconnectBackoffMax = 500ms;
        auto pool = makePool(config);
        QVERIFY(pool->waitUntilSize(3, 20s));

        auto stopped = m_sandbox.sandbox().stopPostgres();
        QVERIFY2(stopped, qPrintable(stopped ? QString() : stopped.error().message));
        // The outage is visible: connections lost, health Reconnecting with a typed error.
        QTRY_COMPARE_WITH_TIMEOUT(pool->stats().health, PoolHealth::Reconnecting, 10000);
        const PoolStats during = pool->stats();
        QVERIFY(during.connectionsLost >= 3);
        QVERIFY(during.lastConnectError.has_value());
        QVERIFY(during.lastConnectError->isTransient());
        auto refused = pool->acquire(QStringLiteral("during outage"), 300ms);
        QVERIFY(!refused);
        QCOMPARE(refused.error().kind, ErrorKind::AcquireTimeout);
        QVERIFY(refused.error().cause != nullptr);

        auto started = m_sandbox.sandbox().startPostgres();
        QVERIFY2(started, qPrintable(started ? QString() : started.error().message));
        QTRY_COMPARE_WITH_TIMEOUT(pool->stats().health, PoolHealth::Ok, 15000);
        QVERIFY(pool->waitUntilSize(3, 15s));
        auto lease = pool->acquire(QStringLiteral("after restart"));
        QVERIFY(lease);
        QVERIFY(lease.value().exec(QStringLiteral("SELECT 1")));
        lease.value().release();
        // The server sees exactly the connections the pool says it has.
        QTRY_COMPARE_WITH_TIMEOUT(serverConnections(app), pool->stats().size, 5000);
        QCOMPARE(pool->stats().size, 3);
    }

    void statementTimeoutFiresOnDirectEndpoint_data()
    {
        QTest::addColumn<int>("mode");
        QTest::newRow("startup parameter") << int(StatementTimeoutMode::StartupParameter);
        QTest::newRow("SET on checkout (the guide's way)")
            << int(StatementTimeoutMode::SetOnCheckout);
    }

    void statementTimeoutFiresOnDirectEndpoint()
    {
        QFETCH(int, mode);
        PoolConfig config = directConfig(QStringLiteral("tst-stmt-timeout"));
        config.statementTimeoutMode = StatementTimeoutMode(mode);
        config.statementTimeout = 300ms;
        auto pool = makePool(config);
        auto lease = pool->acquire(QStringLiteral("slow query"));
        QVERIFY(lease);
        QCOMPARE(lease.value().exec(QStringLiteral("SHOW statement_timeout"))->value(0, 0),
                 QStringLiteral("300ms"));
        auto slow = lease.value().exec(QStringLiteral("SELECT pg_sleep(3)"));
        QVERIFY(!slow);
        QCOMPARE(slow.error().sqlstate, QStringLiteral("57014"));
        QCOMPARE(slow.error().kind, ErrorKind::QueryCanceled);
        QCOMPARE(slow.error().errorClass, ErrorClass::Statement);
        // A statement error leaves the connection usable.
        QVERIFY(lease.value().exec(QStringLiteral("SELECT 1")));
        QVERIFY(!lease.value()->isBroken());
    }

    void lifetimeAndIdleAgeAreEnforcedAtCheckout_data()
    {
        QTest::addColumn<bool>("lifetime");
        QTest::newRow("max lifetime") << true;
        QTest::newRow("max idle") << false;
    }

    void lifetimeAndIdleAgeAreEnforcedAtCheckout()
    {
        QFETCH(bool, lifetime);
        PoolConfig config = directConfig(QStringLiteral("tst-checkout-age"));
        config.maxSize = 1;
        // The maintainer's periodic pass never runs during this test: only checkout can catch it.
        config.housekeepingInterval = std::chrono::hours(1);
        if (lifetime) {
            config.maxLifetime = 300ms;
            config.lifetimeJitter = 0;
        } else {
            config.maxIdle = 300ms;
        }
        auto pool = makePool(config);
        int firstPid = 0;
        QElapsedTimer returned;
        {
            auto lease = pool->acquire();
            QVERIFY(lease);
            firstPid = lease.value()->backendPid();
            returned.start();
        }
        // The premise: the connection is older than its limit (300 ms) by a margin.
        QTRY_VERIFY_WITH_TIMEOUT(returned.hasExpired(500), 5000);
        auto lease = pool->acquire();
        QVERIFY(lease);
        QVERIFY(lease.value()->backendPid() != firstPid);
        const PoolStats s = pool->stats();
        QCOMPARE(lifetime ? s.destroyedLifetime : s.destroyedIdle, 1u);
        QCOMPARE(s.connectionsLost, 0u);
    }

    void leakIsFlaggedWithItsLabel()
    {
        PoolConfig config = directConfig(QStringLiteral("tst-leak"));
        config.leakThreshold = 200ms;
        config.housekeepingInterval = 50ms;
        auto pool = makePool(config);
        auto lease = pool->acquire(QStringLiteral("nightly report generator"));
        QVERIFY(lease);
        QTRY_COMPARE_WITH_TIMEOUT(pool->stats().leaksFlagged, 1u, 5000);
        QVERIFY(m_log->contains(QStringLiteral("possible connection leak")));
        QVERIFY(m_log->contains(QStringLiteral("nightly report generator")));
        // Flagged once, not on every housekeeping round: proving that takes time, six rounds.
        QTest::qWait(int(6 * config.housekeepingInterval.count()));
        QCOMPARE(pool->stats().leaksFlagged, 1u);
    }

    void openTransactionIsRolledBackOnReturn()
    {
        PoolConfig config = directConfig(QStringLiteral("tst-rollback"));
        config.maxSize = 1;
        auto pool = makePool(config);
        {
            auto lease = pool->acquire();
            QVERIFY(lease);
            QVERIFY(lease.value().exec(QStringLiteral("BEGIN")));
            QVERIFY(lease.value().exec(QStringLiteral("CREATE TEMP TABLE forgotten(x int)")));
            QCOMPARE(lease.value()->transactionState(), TransactionState::InTransaction);
        }
        auto again = pool->acquire();
        QVERIFY(again);
        QCOMPARE(again.value()->transactionState(), TransactionState::Idle);
        QCOMPARE(again.value()
                     .exec(QStringLiteral("SELECT to_regclass('pg_temp.forgotten') IS NULL"))
                     ->value(0, 0),
                 QStringLiteral("t"));
    }

    void leaseIsReturnedWhenAnExceptionUnwinds()
    {
        auto pool = makePool(directConfig(QStringLiteral("tst-exception")));
        try {
            auto lease = pool->acquire();
            QVERIFY(lease);
            QCOMPARE(pool->stats().inUse, 1);
            throw std::runtime_error("request handler failed");
        } catch (const std::runtime_error &) {
        }
        QCOMPARE(pool->stats().inUse, 0);
        QCOMPARE(pool->stats().idle, 1);
    }

    void wrongPasswordFailsFastAndIsNeverLogged()
    {
        const QString secret = QStringLiteral("NotTheRealPw-4711");
        PoolConfig config = directConfig(QStringLiteral("tst-badpw"));
        config.conninfo = QStringLiteral("postgresql://app:%1@127.0.0.1:%2/app")
                              .arg(secret)
                              .arg(m_sandbox.endpoints().postgresPort);
        auto pool = makePool(config);
        QElapsedTimer timer;
        timer.start();
        auto lease = pool->acquire(QStringLiteral("bad password"), 20s);
        QVERIFY(!lease);
        // Not transient: callers fail at once instead of waiting out the acquire timeout.
        QVERIFY2(timer.elapsed() < 10000, qPrintable(QString::number(timer.elapsed())));
        QCOMPARE(lease.error().kind, ErrorKind::InvalidPassword);
        QCOMPARE(lease.error().sqlstate, QStringLiteral("28P01"));
        QVERIFY(!lease.error().remedy.isEmpty());
        QVERIFY(!lease.error().summary().contains(secret));
        QVERIFY(!pool->effectiveConninfoRedacted().contains(secret));
        QVERIFY(!m_log->contains(secret));
    }

    void invalidConninfoIsRefusedWithLibpqsMessage()
    {
        PoolConfig config;
        config.conninfo = QStringLiteral("postgresql://app@127.0.0.1:notaport/app");
        auto pool = ConnectionPool::create(config);
        QVERIFY(!pool);
        QCOMPARE(pool.error().kind, ErrorKind::InvalidConfiguration);
        QVERIFY2(pool.error().message.contains(QStringLiteral("port")),
                 qPrintable(pool.error().message));
    }

    void cleanupTestCase()
    {
        // No generated sandbox password may appear in any log line of this whole run.
        QFile passFile(m_sandbox.endpoints().passFile);
        QVERIFY(passFile.open(QIODevice::ReadOnly));
        const QStringList entries =
            QString::fromUtf8(passFile.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY(!entries.isEmpty());
        for (const QString &entry : entries) {
            const QString password = entry.section(QLatin1Char(':'), 4);
            QVERIFY(password.size() >= 16);
            for (const QString &line : m_log->lines())
                QVERIFY2(!line.contains(password),
                         qPrintable(QStringLiteral("password in log line: ") + line.left(40)));
        }
        QVERIFY(m_log->lines().size() > 10);
        m_sandbox.stop();
    }
};

QTEST_GUILESS_MAIN(TestPool)
#include "tst_pool.moc"
