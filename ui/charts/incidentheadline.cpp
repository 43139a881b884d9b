#include "ui/charts/incidentheadline.h"

#include "core/monitor/monitorsession.h"

#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QTimer>
#include <QToolButton>

namespace poolscope::ui {

IncidentHeadline::IncidentHeadline(MonitorSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("incidentHeadline"));
    setAttribute(Qt::WA_StyledBackground, true);
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("incidentHeadlineText"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setContextMenuPolicy(Qt::NoContextMenu); // the widget's menu: Copy for the channel
    QFont font = m_text->font();
    font.setPointSizeF(font.pointSizeF() * 1.15);
    m_text->setFont(font);

    m_copyAction = new QAction(tr("Copy for the incident channel"), this);
    m_copyAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    m_copyAction->setShortcutContext(Qt::WindowShortcut);
    m_copyAction->setToolTip(
        tr("Copy this line with the time (UTC) and the server (Ctrl+Shift+C)"));
    connect(m_copyAction, &QAction::triggered, this, &IncidentHeadline::copyToClipboard);
    addAction(m_copyAction);
    setContextMenuPolicy(Qt::ActionsContextMenu);

    m_copyButton = new QToolButton(this);
    m_copyButton->setObjectName(QStringLiteral("incidentHeadlineCopy"));
    m_copyButton->setText(tr("Copy"));
    m_copyButton->setToolTip(m_copyAction->toolTip());
    connect(m_copyButton, &QToolButton::clicked, this, &IncidentHeadline::copyToClipboard);

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_copyButton);

    // Until the session watches something (the embedded sandbox is still starting) there is no
    // server to name.
    auto restart = [this] {
        m_input = IncidentInput {};
        m_server = m_session->conninfo().isEmpty() ? QString() : serverLabel(m_session->conninfo());
        refresh();
    };
    connect(m_session, &MonitorSession::watching, this, restart);
    connect(m_session, &MonitorSession::sandboxFailed, this, [this](const QString &message) {
        m_server = tr("the embedded sandbox");
        DbError error;
        error.message = message;
        m_input.serverError = error;
        refresh();
    });
    connect(m_session, &MonitorSession::sampled, this, [this](const ActivitySample &s) {
        m_input.activity = s;
        m_input.serverError.reset();
        refresh();
    });
    connect(m_session, &MonitorSession::poolerSampled, this, [this](const PoolerSample &s) {
        m_input.pooler = s;
        m_input.poolerError.reset();
        refresh();
    });
    connect(m_session, &MonitorSession::connectionLost, this, [this](const DbError &e) {
        m_input.serverError = e;
        refresh();
    });
    connect(m_session, &MonitorSession::poolerLost, this, [this](const DbError &e) {
        // Its last figures are not current any more; the outage itself is the news.
        m_input.pooler.reset();
        m_input.poolerError = e;
        refresh();
    });
    restart();
}

QString IncidentHeadline::clipboardText() const
{
    return incidentClipboardText(m_summary, m_server);
}

void IncidentHeadline::copyToClipboard()
{
    QGuiApplication::clipboard()->setText(clipboardText());
    m_copyButton->setText(tr("Copied"));
    QTimer::singleShot(std::chrono::seconds(2), m_copyButton,
                       [button = m_copyButton] { button->setText(tr("Copy")); });
}

void IncidentHeadline::showEvent(QShowEvent *event)
{
    // The shortcut works on every page of the window, not only while the Overview is shown: an
    // operator reading the Sessions page copies the headline for the channel just as well.
    if (!m_shortcutOnWindow && window() != this) {
        window()->addAction(m_copyAction);
        m_shortcutOnWindow = true;
    }
    QWidget::showEvent(event);
}

void IncidentHeadline::refresh()
{
    m_input.server = m_server;
    m_summary = summarizeIncident(m_input);
    m_text->setText(m_summary.text);
    m_text->setToolTip(clipboardText());
    // Restyling re-polishes the widget: only when the severity changes, not on every sample.
    if (property("severity").toInt() == int(m_summary.severity) && !styleSheet().isEmpty())
        return;
    const char *style = "";
    switch (m_summary.severity) {
    case IncidentSeverity::Calm:
        style = "#incidentHeadline { background: #e8f5e9; color: #1b1b1b; border-radius: 4px; }";
        break;
    case IncidentSeverity::Warning:
        style = "#incidentHeadline { background: #fff3cd; color: #1b1b1b; border-radius: 4px; }";
        break;
    case IncidentSeverity::Critical:
        style = "#incidentHeadline { background: #f8d7da; color: #1b1b1b; border-radius: 4px; }"
                "#incidentHeadlineText { font-weight: bold; }";
        break;
    }
    setStyleSheet(QString::fromLatin1(style));
    setProperty("severity", int(m_summary.severity));
}

} // namespace poolscope::ui
