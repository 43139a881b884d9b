#include "ui/connectdialog.h"

#include "core/db/conninfo.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace poolscope::ui {

ConnectDialog::ConnectDialog(ConnectionProfiles *profiles, QWidget *parent)
    : QDialog(parent)
    , m_profiles(profiles)
{
    setWindowTitle(tr("Connect - PoolScope"));
    auto *form = new QFormLayout;
    m_saved = new QComboBox(this);
    m_saved->addItem(tr("(new profile)"));
    for (const ConnectionProfile &p : m_profiles->all())
        m_saved->addItem(p.name);
    form->addRow(tr("Saved profiles"), m_saved);
    m_name = new QLineEdit(this);
    form->addRow(tr("Name"), m_name);
    m_conninfo = new QLineEdit(this);
    m_conninfo->setPlaceholderText(
        QStringLiteral("postgresql://user@host:5432/dbname?sslmode=verify-full"));
    form->addRow(tr("Connection string"), m_conninfo);
    m_console = new QLineEdit(this);
    m_console->setPlaceholderText(
        tr("optional: PgBouncer console, e.g. postgresql://stats@host:6432/pgbouncer"));
    form->addRow(tr("Pooler console"), m_console);
    m_role = new QComboBox(this);
    m_role->addItem(tr("Direct (PostgreSQL itself)"));
    m_role->addItem(tr("Pooled (PgBouncer, Neon -pooler host, ...)"));
    form->addRow(tr("Endpoint"), m_role);
    m_environment = new QComboBox(this);
    m_environment->addItem(tr("Local development (pool 5/20)"));
    m_environment->addItem(tr("Serverless production (pool 2/10)"));
    form->addRow(tr("Environment"), m_environment);
    m_problem = new QLabel(this);
    m_problem->setWordWrap(true);
    auto *note =
        new QLabel(tr("Passwords are not stored: PoolScope uses your pgpass file or PGPASSWORD, "
                      "or asks when the server wants one."),
                   this);
    note->setWordWrap(true);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));
    QPushButton *save = buttons->addButton(tr("Save profile"), QDialogButtonBox::ActionRole);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        saveCurrent();
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(save, &QPushButton::clicked, this, &ConnectDialog::saveCurrent);
    connect(m_saved, &QComboBox::currentIndexChanged, this, &ConnectDialog::loadSelected);
    connect(m_conninfo, &QLineEdit::textChanged, this, &ConnectDialog::validate);
    connect(m_conninfo, &QLineEdit::textChanged, this, [buttons](const QString &text) {
        buttons->button(QDialogButtonBox::Ok)->setEnabled(!text.trimmed().isEmpty());
    });
    buttons->button(QDialogButtonBox::Ok)->setEnabled(false);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(note);
    layout->addWidget(buttons);
    resize(640, sizeHint().height());
}

ConnectionProfile ConnectDialog::profile() const
{
    ConnectionProfile p;
    p.name = m_name->text().trimmed().isEmpty() ? tr("unnamed") : m_name->text().trimmed();
    p.conninfo = m_conninfo->text().trimmed();
    p.poolerConsoleConninfo = m_console->text().trimmed();
    p.role = m_role->currentIndex() == 1 ? EndpointRole::Pooled : EndpointRole::Direct;
    p.environment = m_environment->currentIndex() == 1 ? PoolProfile::ServerlessProduction
                                                       : PoolProfile::LocalDevelopment;
    return p;
}

void ConnectDialog::setProfile(const ConnectionProfile &p)
{
    m_name->setText(p.name);
    m_conninfo->setText(p.conninfo);
    m_console->setText(p.poolerConsoleConninfo);
    m_role->setCurrentIndex(p.role == EndpointRole::Pooled ? 1 : 0);
    m_environment->setCurrentIndex(p.environment == PoolProfile::ServerlessProduction ? 1 : 0);
}

void ConnectDialog::loadSelected()
{
    if (m_saved->currentIndex() <= 0)
        return;
    if (auto p = m_profiles->find(m_saved->currentText()))
        setProfile(*p);
}

void ConnectDialog::saveCurrent()
{
    if (m_name->text().trimmed().isEmpty() || m_conninfo->text().trimmed().isEmpty())
        return;
    m_profiles->save(profile()); // stored without any password
}

void ConnectDialog::validate()
{
    const QString text = m_conninfo->text().trimmed();
    if (text.isEmpty()) {
        m_problem->clear();
        return;
    }
    auto parsed = ConnInfo::parse(text);
    m_problem->setText(parsed ? QString() : parsed.error().message);
}

} // namespace poolscope::ui
