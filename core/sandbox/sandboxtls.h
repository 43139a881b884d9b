#pragma once

#include "core/util/result.h"

#include <QString>

#include <chrono>

namespace poolscope::sandbox {

class SandboxDirectory;

// Where the sandbox's TLS material lives (inside its private directory).
struct SandboxTlsFiles
{
    QString caCertificate;     // ca.crt: clients verify with sslrootcert= and sslmode=verify-full
    QString serverCertificate; // server.crt: IP:127.0.0.1 and DNS:localhost, signed by the CA
    QString serverKey;         // server.key: mode 0600, owned by the server user
};

// A throwaway certificate authority and a server certificate, made with Debian's `openssl` at
// every sandbox start (P-256 keys, about 60 ms), so the TLS phase of a connection is as real as
// against a hosted endpoint: PostgreSQL (ssl = on) and PgBouncer (client_tls_*) present the same
// certificate, and clients verify it fully. The CA's private key exists only in a temporary
// directory during creation and is deleted before this returns: nothing can sign with it later.
//
// Blocking (runs three short `openssl` processes); call from the thread that starts the sandbox.
Result<SandboxTlsFiles, QString> createSandboxTls(const SandboxDirectory &directory,
                                                  const QString &opensslProgram,
                                                  std::chrono::milliseconds timeout);

} // namespace poolscope::sandbox
