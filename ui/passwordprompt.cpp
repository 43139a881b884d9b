#include "ui/passwordprompt.h"

#include "core/db/conninfo.h"

#include <QInputDialog>
#include <QLineEdit>

namespace poolscope::ui {

PasswordPrompt::PasswordPrompt(MonitorSession *session, QWidget *window)
    : QObject(window)
    , m_session(session)
    , m_window(window)
{
    connect(session, &MonitorSession::connectionLost, this, &PasswordPrompt::onConnectionLost);
}

void PasswordPrompt::setOptions(const MonitorSession::Options &options)
{
    m_options = options;
    m_typed = false;
    m_gaveUp = false;
    delete m_dialog.data();
}

void PasswordPrompt::onConnectionLost(const DbError &error)
{
    if (m_options.startSandbox || m_gaveUp || m_dialog || error.kind != ErrorKind::InvalidPassword)
        return;
    if (m_typed) {
        // The typed password was wrong: say so with the server's own code, and ask again.
        ask(tr("The server rejected the password (%1).\n\nPassword for %2:")
                .arg(error.summary(), m_session->displayName()));
        return;
    }
    // A wrong password from pgpass or PGPASSWORD is the user's file to fix (the error says so);
    // the prompt is for the case where libpq had none at all.
    if (error.message.contains(QLatin1String("no password supplied")))
        ask(tr("Password for %1:").arg(m_session->displayName()));
}

void PasswordPrompt::ask(const QString &label)
{
    auto *dialog = new QInputDialog(m_window);
    dialog->setObjectName(QStringLiteral("passwordPrompt"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Password"));
    dialog->setLabelText(label);
    dialog->setTextEchoMode(QLineEdit::Password);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &QInputDialog::textValueSelected, this, &PasswordPrompt::retryWith);
    connect(dialog, &QDialog::rejected, this, [this] { m_gaveUp = true; });
    m_dialog = dialog;
    dialog->open();
}

void PasswordPrompt::retryWith(const QString &password)
{
    m_dialog.clear(); // closing; the next rejection may ask again at once
    if (password.isEmpty()) {
        m_gaveUp = true;
        return;
    }
    auto parsed = ConnInfo::parse(m_options.conninfo);
    if (!parsed)
        return;
    ConnInfo info = parsed.value();
    info.set(QStringLiteral("password"), password);
    MonitorSession::Options again = m_options;
    again.conninfo = info.toConninfoString();
    m_typed = true;
    m_session->start(again);
}

} // namespace poolscope::ui
