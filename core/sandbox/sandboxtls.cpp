#include "core/sandbox/sandboxtls.h"

#include "core/sandbox/sandboxdirectory.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <optional>

namespace poolscope::sandbox {
namespace {

// Long enough for a dashboard left running for weeks; the CA dies with the sandbox anyway.
constexpr int kValidityDays = 90;

// Runs `openssl args...` in `workDirectory`; an error names the command and openssl's message.
std::optional<QString> runOpenssl(const QString &program, const QStringList &args,
                                  const QString &workDirectory, const QDeadlineTimer &deadline)
{
    QProcess openssl;
    openssl.setWorkingDirectory(workDirectory);
    openssl.setProcessChannelMode(QProcess::MergedChannels);
    openssl.start(program, args);
    if (!openssl.waitForStarted(int(qMax<qint64>(1, deadline.remainingTime())))) {
        return QStringLiteral("cannot run %1 (%2): install Debian's `openssl` package")
            .arg(program, openssl.errorString());
    }
    if (!openssl.waitForFinished(int(qMax<qint64>(1, deadline.remainingTime())))) {
        openssl.kill();
        openssl.waitForFinished(1000);
        return QStringLiteral("`openssl %1` did not finish in time").arg(args.value(0));
    }
    if (openssl.exitStatus() != QProcess::NormalExit || openssl.exitCode() != 0) {
        return QStringLiteral("`openssl %1` failed: %2")
            .arg(args.value(0), QString::fromLocal8Bit(openssl.readAll()).trimmed());
    }
    return std::nullopt;
}

QStringList newKeyArguments(const QString &keyFile)
{
    return { QStringLiteral("-newkey"),
             QStringLiteral("ec"),
             QStringLiteral("-pkeyopt"),
             QStringLiteral("ec_paramgen_curve:prime256v1"),
             QStringLiteral("-nodes"),
             QStringLiteral("-keyout"),
             keyFile };
}

} // namespace

Result<SandboxTlsFiles, QString> createSandboxTls(const SandboxDirectory &directory,
                                                  const QString &opensslProgram,
                                                  std::chrono::milliseconds timeout)
{
    const QDeadlineTimer deadline(timeout);
    QTemporaryDir work; // private (0700), removed with the CA key when this returns
    if (!work.isValid())
        return QStringLiteral("cannot create a temporary directory: %1").arg(work.errorString());
    const QString dir = work.path();
    const QString days = QString::number(kValidityDays);

    // 1. The certificate authority: self-signed, allowed to sign certificates and nothing else.
    QStringList ca = { QStringLiteral("req"), QStringLiteral("-x509") };
    ca += newKeyArguments(QStringLiteral("ca.key"));
    ca += { QStringLiteral("-out"),    QStringLiteral("ca.crt"),
            QStringLiteral("-days"),   days,
            QStringLiteral("-subj"),   QStringLiteral("/CN=PoolScope sandbox CA"),
            QStringLiteral("-addext"), QStringLiteral("basicConstraints=critical,CA:TRUE"),
            QStringLiteral("-addext"), QStringLiteral("keyUsage=critical,keyCertSign,cRLSign") };
    if (auto failed = runOpenssl(opensslProgram, ca, dir, deadline))
        return *failed;

    // 2. The server's key and request. libpq (14+) checks IP addresses against IP SANs, so
    //    verify-full works with host=127.0.0.1 as well as host=localhost.
    QStringList request = { QStringLiteral("req"), QStringLiteral("-new") };
    request += newKeyArguments(QStringLiteral("server.key"));
    request += { QStringLiteral("-out"), QStringLiteral("server.csr"), QStringLiteral("-subj"),
                 QStringLiteral("/CN=127.0.0.1") };
    if (auto failed = runOpenssl(opensslProgram, request, dir, deadline))
        return *failed;

    QFile extensions(work.filePath(QStringLiteral("server.ext")));
    if (!extensions.open(QIODevice::WriteOnly)
        || extensions.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                            "basicConstraints=critical,CA:FALSE\n"
                            "keyUsage=critical,digitalSignature\n"
                            "extendedKeyUsage=serverAuth\n")
            < 0) {
        return QStringLiteral("cannot write %1: %2")
            .arg(extensions.fileName(), extensions.errorString());
    }
    extensions.close();

    // 3. The CA signs it (a random serial: two sandboxes never issue the same one).
    const QString serial = QStringLiteral("0x%1").arg(QRandomGenerator::system()->generate64() >> 1,
                                                      16, 16, QLatin1Char('0'));
    const QStringList sign = { QStringLiteral("x509"),        QStringLiteral("-req"),
                               QStringLiteral("-in"),         QStringLiteral("server.csr"),
                               QStringLiteral("-CA"),         QStringLiteral("ca.crt"),
                               QStringLiteral("-CAkey"),      QStringLiteral("ca.key"),
                               QStringLiteral("-set_serial"), serial,
                               QStringLiteral("-days"),       days,
                               QStringLiteral("-extfile"),    QStringLiteral("server.ext"),
                               QStringLiteral("-out"),        QStringLiteral("server.crt") };
    if (auto failed = runOpenssl(opensslProgram, sign, dir, deadline))
        return *failed;

    // Into the sandbox: the key readable only by the servers (PostgreSQL refuses a key file that
    // others can read), the certificates by the client too.
    struct Copy
    {
        const char *name;
        mode_t mode;
        SandboxDirectory::Owner owner;
    };
    const Copy copies[] = { { "ca.crt", 0644, SandboxDirectory::Owner::InvokingUser },
                            { "server.crt", 0644, SandboxDirectory::Owner::ServerUser },
                            { "server.key", 0600, SandboxDirectory::Owner::ServerUser } };
    for (const Copy &copy : copies) {
        const QString name = QLatin1String(copy.name);
        QFile source(work.filePath(name));
        if (!source.open(QIODevice::ReadOnly))
            return QStringLiteral("cannot read %1: %2")
                .arg(source.fileName(), source.errorString());
        QString error;
        if (!directory.writeFile(name, source.readAll(), copy.mode, copy.owner, &error))
            return error;
    }
    return SandboxTlsFiles { directory.filePath(QStringLiteral("ca.crt")),
                             directory.filePath(QStringLiteral("server.crt")),
                             directory.filePath(QStringLiteral("server.key")) };
}

} // namespace poolscope::sandbox
