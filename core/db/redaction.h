#pragma once

#include <QString>

#include <string>
#include <string_view>

namespace poolscope {

// The one place that knows what a secret looks like in text. Used by the logging sink (so no
// log line carries a password), by every display of a conninfo/URI and by error messages.
//
// Replaces with "***":
//  - conninfo keyword values:  password=secret, password = 'quoted secret'
//  - URI user info:            postgresql://user:secret@host
//  - URI query parameters:     ?password=secret&...
//  - environment assignments:  PGPASSWORD=secret
//  - any literal registered with registerSecret() (e.g. the sandbox's generated passwords)
QString redactSecrets(const QString &text);
std::string redactSecrets(std::string_view utf8Text);

// Registers a literal that must never appear in output (thread-safe; ignored when shorter than
// 4 characters, which would redact ordinary words).
void registerSecret(const QString &secret);

} // namespace poolscope
