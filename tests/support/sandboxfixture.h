#pragma once

#include "core/sandbox/sandbox.h"

#include <QString>
#include <QStringList>

#include <sys/types.h>

#include <memory>

namespace poolscope::testing {

// One sandbox (PostgreSQL + PgBouncer) for a test executable. Typical use:
//
//     SandboxFixture m_sandbox;                                   // member of the test class
//     void initTestCase() { QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString())); }
//
// start() also sets PGPASSFILE in this process's environment, so every libpq client of the test
// finds the generated passwords. The sandbox stops when the fixture is destroyed (or on stop()).
// Use from the main thread only (see the Sandbox contract).
class SandboxFixture
{
public:
    SandboxFixture();
    ~SandboxFixture();
    SandboxFixture(const SandboxFixture &) = delete;
    SandboxFixture &operator=(const SandboxFixture &) = delete;

    // Starts the sandbox; false with errorString() on failure (use with QVERIFY2).
    bool start(const sandbox::SandboxOptions &options = {});
    void stop();
    const QString &errorString() const { return m_error; }

    bool isRunning() const;
    const sandbox::SandboxEndpoints &endpoints() const;
    sandbox::Sandbox &sandbox() { return *m_sandbox; }

    QString directUri() const { return endpoints().directUri; }
    QString pooledUri() const { return endpoints().pooledUri; }
    QString adminUri() const { return endpoints().adminUri; }
    QString consoleUri() const { return endpoints().poolerConsoleUri; }

private:
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    QString m_error;
};

// Connects (blocking, libpq; passwords from PGPASSFILE), runs `sql` and returns the first column
// of the first row as text. Returns a null QString when the connection or the query fails (with
// the message in *error) and when the value is SQL NULL or there is no row (*error left empty).
// Accepts a URI or a key=value conninfo.
QString querySingleValue(const QString &conninfoOrUri, const QString &sql,
                         QString *error = nullptr);

// The distinct passwords of a pgpass file (host:port:db:user:password lines): what a test must
// never find in a log, an output or a widget.
QStringList pgpassPasswords(const QString &passFile);

// Permission bits (e.g. 0600) of a file, and its owner in *owner; 0 when it does not exist.
mode_t fileMode(const QString &path, uid_t *owner = nullptr);

// `uri` with one more query parameter (`?` or `&` as needed; the value percent-encoded). The
// sandbox's URIs already carry sslmode and sslrootcert, so never append "?..." by hand.
QString withUriParameter(const QString &uri, const QString &key, const QString &value);

// Tries to connect and returns an empty string on success, else libpq's message in verbose form,
// which includes the SQLSTATE even for startup errors ("FATAL:  28P01: password authentication
// failed ...").
QString connectionError(const QString &conninfoOrUri);

} // namespace poolscope::testing
