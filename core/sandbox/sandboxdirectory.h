#pragma once

#include "core/sandbox/cleanupsentinel.h"
#include "core/sandbox/serveruser.h"

#include <QByteArray>
#include <QString>

namespace poolscope::sandbox {

// The sandbox's private temp directory (mode 0700, owned by the server user): data directory,
// unix sockets, configuration, logs and the pgpass file. A CleanupSentinel removes it should this
// process die without calling remove(). RAII: the destructor removes it.
class SandboxDirectory
{
public:
    explicit SandboxDirectory(const ServerUser &user);
    ~SandboxDirectory();
    SandboxDirectory(const SandboxDirectory &) = delete;
    SandboxDirectory &operator=(const SandboxDirectory &) = delete;

    // mkdtemp under QDir::tempPath(), chown + chmod 0700, then the sentinel.
    bool create(QString *error);

    const QString &path() const { return m_path; }
    QString filePath(const QString &name) const;

    enum class Owner { ServerUser, InvokingUser };

    // Writes (replaces) a file inside the directory with the given mode and owner.
    bool writeFile(const QString &name, const QByteArray &content, mode_t mode, Owner owner,
                   QString *error) const;

    // Removes the directory tree and dismisses the sentinel. Idempotent.
    void remove();

private:
    ServerUser m_user;
    QString m_path;
    CleanupSentinel m_sentinel;
};

} // namespace poolscope::sandbox
