#pragma once

#include "core/monitor/monitorsession.h"

#include <QInputDialog>
#include <QObject>
#include <QPointer>

namespace poolscope::ui {

// Asks for the watched server's password when libpq found none (no pgpass entry, no PGPASSWORD),
// and asks again - saying why, with the typed error - each time the server rejects the one typed
// (28P01). The password goes into the session's in-memory connection string only: never into a
// profile, a setting or the log. The dialog is window-modal but not a nested event loop, so the
// window keeps painting and sampling meanwhile. Cancel stops asking until setOptions() is called
// again (the next connect).
//
// Thread contract: GUI thread only; `session` and `window` must outlive the prompt.
class PasswordPrompt : public QObject
{
    Q_OBJECT

public:
    PasswordPrompt(MonitorSession *session, QWidget *window);

    // What the session watches, without a password; a new connect starts afresh.
    void setOptions(const MonitorSession::Options &options);
    // The open prompt (object name "passwordPrompt"), or null.
    QInputDialog *dialog() const { return m_dialog; }

private:
    void onConnectionLost(const DbError &error);
    void ask(const QString &label);
    void retryWith(const QString &password);

    MonitorSession *m_session;
    QWidget *m_window;
    MonitorSession::Options m_options;
    bool m_typed = false;  // the session runs with a password typed here
    bool m_gaveUp = false; // the user cancelled the prompt
    QPointer<QInputDialog> m_dialog;
};

} // namespace poolscope::ui
