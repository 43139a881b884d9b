#pragma once

#include <QStringList>
#include <QTemporaryDir>

namespace poolscope::testing {

// A private TMPDIR for sandboxes started by this process or by a child given it: the sandbox
// makes its directory under QDir::tempPath(), so what is left under this one is ours alone,
// whatever other tests run beside. Reachable by `postgres`, which runs the servers inside.
class PrivateTempDir
{
public:
    PrivateTempDir();
    bool isValid() const { return m_dir.isValid(); }
    QString path() const { return m_dir.path(); }

private:
    QTemporaryDir m_dir;
};

// PostgreSQL and PgBouncer processes whose command line names a path under `dir` (the sandbox
// passes its data directory and its pgbouncer.ini by absolute path), as "pid command line".
QStringList serverProcessesUnder(const QString &dir);

// Sandbox directories (poolscope-sandbox-*) directly under `dir`.
QStringList sandboxDirectoriesUnder(const QString &dir);

} // namespace poolscope::testing
