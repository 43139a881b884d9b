#include "core/sandbox/sandboxdirectory.h"

#include "core/logging/logging.h"

#include <QDir>
#include <QFile>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace poolscope::sandbox {
namespace {

QString errnoText()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

} // namespace

SandboxDirectory::SandboxDirectory(const ServerUser &user)
    : m_user(user)
{
}

SandboxDirectory::~SandboxDirectory()
{
    remove();
}

bool SandboxDirectory::create(QString *error)
{
    QByteArray pattern =
        QFile::encodeName(QDir::tempPath() + QStringLiteral("/poolscope-sandbox-XXXXXX"));
    if (!::mkdtemp(pattern.data())) {
        *error = QStringLiteral("cannot create a temp directory: %1").arg(errnoText());
        return false;
    }
    m_path = QFile::decodeName(pattern);
    if (::chmod(pattern.constData(), 0700) != 0 || !m_user.chownToUser(m_path)) {
        *error =
            QStringLiteral("cannot hand %1 to user %2: %3").arg(m_path, m_user.name(), errnoText());
        remove();
        return false;
    }
    if (!m_sentinel.start(m_path, error)) {
        remove();
        return false;
    }
    return true;
}

QString SandboxDirectory::filePath(const QString &name) const
{
    return m_path + QLatin1Char('/') + name;
}

bool SandboxDirectory::writeFile(const QString &name, const QByteArray &content, mode_t mode,
                                 Owner owner, QString *error) const
{
    const QString path = filePath(name);
    const QByteArray native = QFile::encodeName(path);
    ::unlink(native.constData());
    const int fd = ::open(native.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    bool ok = fd >= 0;
    if (ok) {
        qsizetype written = 0;
        while (ok && written < content.size()) {
            const ssize_t n =
                ::write(fd, content.constData() + written, size_t(content.size() - written));
            if (n < 0 && errno == EINTR)
                continue;
            ok = n > 0;
            written += ok ? n : 0;
        }
        ok = ok && ::fchmod(fd, mode) == 0; // not subject to the umask
        if (ok && owner == Owner::ServerUser && m_user.switchesUser())
            ok = ::fchown(fd, m_user.uid(), m_user.gid()) == 0;
        if (::close(fd) != 0)
            ok = false;
    }
    if (!ok && error)
        *error = QStringLiteral("cannot write %1: %2").arg(path, errnoText());
    return ok;
}

void SandboxDirectory::remove()
{
    if (m_path.isEmpty())
        return;
    if (QDir(m_path).removeRecursively()) {
        m_sentinel.dismiss();
    } else {
        logging::logger("sandbox")->warn("could not remove all of {}, retrying with rm -rf",
                                         m_path.toStdString());
        m_sentinel.finish();
    }
    m_path.clear();
}

} // namespace poolscope::sandbox
