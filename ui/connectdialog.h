#pragma once

#include "core/monitor/connectionprofiles.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;

namespace poolscope::ui {

// Picks or edits a connection profile. Passwords are never typed here: they come from pgpass,
// PGPASSWORD or the password prompt, and are never saved.
class ConnectDialog : public QDialog
{
    Q_OBJECT

public:
    ConnectDialog(ConnectionProfiles *profiles, QWidget *parent = nullptr);

    ConnectionProfile profile() const;
    void setProfile(const ConnectionProfile &profile);

private:
    void loadSelected();
    void saveCurrent();
    void validate();

    ConnectionProfiles *m_profiles;
    QComboBox *m_saved = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_conninfo = nullptr;
    QLineEdit *m_console = nullptr;
    QComboBox *m_role = nullptr;
    QComboBox *m_environment = nullptr;
    QLabel *m_problem = nullptr;
};

} // namespace poolscope::ui
