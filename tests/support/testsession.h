#pragma once

#include "core/db/connection.h"

#include <QString>

#include <optional>
#include <thread>

namespace poolscope::testing {

// A database session a test controls: opened with its own application_name, statements run
// inline or - for one that blocks (pg_sleep, a lock wait) - on a thread of its own.
class TestSession
{
public:
    TestSession(const QString &uriOrConninfo, const QString &applicationName);
    ~TestSession();
    TestSession(const TestSession &) = delete;
    TestSession &operator=(const TestSession &) = delete;

    bool exec(const QString &sql);
    void execInBackground(const QString &sql);
    // Joins the background statement; its error, if any.
    std::optional<DbError> wait();
    int pid() const { return m_pid; }

private:
    std::optional<Connection> m_connection;
    std::thread m_thread;
    std::optional<DbError> m_error;
    int m_pid = 0;
};

} // namespace poolscope::testing
