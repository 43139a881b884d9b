#include "tests/support/testsession.h"

#include <QtGlobal>

namespace poolscope::testing {

using namespace std::chrono_literals;

TestSession::TestSession(const QString &uriOrConninfo, const QString &applicationName)
{
    ConnInfo info = ConnInfo::parse(uriOrConninfo).value();
    info.set(QStringLiteral("application_name"), applicationName);
    auto c = Connection::open(info, 10s);
    if (!c)
        qFatal("test session: %s", qPrintable(c.error().summary()));
    m_connection.emplace(std::move(c).value());
    m_pid = m_connection->backendPid();
}

TestSession::~TestSession()
{
    wait();
}

bool TestSession::exec(const QString &sql)
{
    return bool(m_connection->exec(sql, 30s));
}

void TestSession::execInBackground(const QString &sql)
{
    wait();
    m_thread = std::thread([this, sql] {
        auto result = m_connection->exec(sql, 60s);
        if (!result)
            m_error = result.error();
    });
}

std::optional<DbError> TestSession::wait()
{
    if (m_thread.joinable())
        m_thread.join();
    return m_error;
}

} // namespace poolscope::testing
