#include "ui/check/endpointcheckpage.h"

#include "core/monitor/connectionprofiles.h"
#include "core/monitor/monitorsession.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPixmap>
#include <QPushButton>
#include <QSplitter>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace poolscope::ui {

namespace {

enum SourceKind { SourcePaste = 0, SourceWatched = 1, SourceProfile = 2 };
enum UsageKind { UsageUnspecified = 0, UsageLocal = 1, UsageServerless = 2 };

QColor severityColor(Severity s)
{
    switch (s) {
    case Severity::Error:
        return QColor(0xc0, 0x39, 0x2b); // red
    case Severity::Warning:
        return QColor(0xe6, 0x7e, 0x22); // amber
    case Severity::Info:
        break;
    }
    return QColor(0x29, 0x80, 0xb9); // blue
}

QIcon dotIcon(const QColor &color)
{
    QPixmap pixmap(14, 14);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(color.darker(130));
    painter.setBrush(color);
    painter.drawEllipse(QRectF(1.5, 1.5, 11, 11));
    return QIcon(pixmap);
}

QString kindText(EndpointKind kind)
{
    switch (kind) {
    case EndpointKind::NeonPooled:
        return EndpointCheckPage::tr("Neon, POOLED: through Neon's PgBouncer (transaction mode), "
                                     "because the endpoint id ends in -pooler");
    case EndpointKind::NeonDirect:
        return EndpointCheckPage::tr("Neon, DIRECT: straight to the compute (no -pooler at the "
                                     "end of the endpoint id)");
    case EndpointKind::SupabaseTransaction:
        return EndpointCheckPage::tr("Supabase pooler, transaction mode (port 6543): pooled");
    case EndpointKind::SupabaseSession:
        return EndpointCheckPage::tr("Supabase pooler, session mode (port 5432)");
    case EndpointKind::SupabaseDirect:
        return EndpointCheckPage::tr("Supabase, DIRECT to the database");
    case EndpointKind::RdsProxy:
        return EndpointCheckPage::tr("AWS RDS Proxy: pooled");
    case EndpointKind::PgBouncer:
        return EndpointCheckPage::tr("PgBouncer (port 6432): pooled");
    case EndpointKind::Local:
        return EndpointCheckPage::tr("local server (loopback or unix socket)");
    case EndpointKind::Direct:
        break;
    }
    return EndpointCheckPage::tr("PostgreSQL, DIRECT (no pooler recognised from the name)");
}

QString stepLabel(const QString &name)
{
    static const QHash<QString, QString> labels {
        { QStringLiteral("dns"), EndpointCheckPage::tr("DNS") },
        { QStringLiteral("tcp"), EndpointCheckPage::tr("TCP connect") },
        { QStringLiteral("tls"), EndpointCheckPage::tr("TLS") },
        { QStringLiteral("auth"), EndpointCheckPage::tr("Authentication") },
        { QStringLiteral("server_version"), EndpointCheckPage::tr("Server version") },
        { QStringLiteral("limits"), EndpointCheckPage::tr("max_connections / reserved") },
        { QStringLiteral("pooler"), EndpointCheckPage::tr("Pooler in the path (behaviour)") },
    };
    return labels.value(name, name);
}

} // namespace

EndpointCheckPage::EndpointCheckPage(MonitorSession *session, ConnectionProfiles *profiles,
                                     QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_profiles(profiles)
{
    buildUi();
    reloadProfiles();
    if (m_session) {
        connect(m_session, &MonitorSession::watching, this, &EndpointCheckPage::reloadProfiles);
    }
}

EndpointCheckPage::EndpointCheckPage(MonitorSession *session,
                                     std::unique_ptr<ConnectionProfiles> profiles, QWidget *parent)
    : EndpointCheckPage(session, profiles.get(), parent)
{
    m_ownedProfiles = std::move(profiles);
}

EndpointCheckPage::~EndpointCheckPage()
{
    stopLive();
}

void EndpointCheckPage::buildUi()
{
    m_source = new QComboBox(this);
    m_source->setObjectName(QStringLiteral("checkSourceCombo"));
    m_conninfo = new QLineEdit(this);
    m_conninfo->setObjectName(QStringLiteral("checkConninfoEdit"));
    m_conninfo->setPlaceholderText(
        tr("postgresql://user@ep-xxx-pooler.eu-central-1.aws.neon.tech/db?sslmode=verify-full"
           "  or  host=... dbname=..."));
    m_conninfo->setClearButtonEnabled(true);
    m_usage = new QComboBox(this);
    m_usage->addItem(tr("Not specified"), int(UsageUnspecified));
    m_usage->addItem(tr("Local development"), int(UsageLocal));
    m_usage->addItem(tr("Serverless production"), int(UsageServerless));
    m_usage->setToolTip(tr("How the application will use this string: decides which findings "
                           "apply (e.g. serverless on a direct endpoint is an error)"));
    m_sessionFeatures = new QCheckBox(tr("Uses session features (SET, LISTEN, PREPARE, advisory "
                                         "locks, WITH HOLD, temp tables, migrations/pg_dump)"),
                                      this);
    m_offline = new QCheckBox(tr("Offline (no network: lint only)"), this);
    m_check = new QPushButton(tr("Check"), this);
    m_check->setObjectName(QStringLiteral("checkButton"));
    m_check->setDefault(true);

    auto *form = new QFormLayout;
    form->addRow(tr("Source:"), m_source);
    auto *line = new QHBoxLayout;
    line->addWidget(m_conninfo, 1);
    line->addWidget(m_check);
    form->addRow(tr("Connection string:"), line);
    auto *options = new QHBoxLayout;
    options->addWidget(m_usage);
    options->addWidget(m_sessionFeatures, 1);
    options->addWidget(m_offline);
    form->addRow(tr("Used for:"), options);

    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("checkErrorLabel"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("color: #c0392b; font-weight: bold;"));
    m_error->hide();
    m_endpoint = new QLabel(tr("Paste a connection string or pick a profile, then Check."), this);
    m_endpoint->setObjectName(QStringLiteral("checkEndpointLabel"));
    m_endpoint->setWordWrap(true);
    m_endpoint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_neonNote = new QLabel(
        tr("On Neon the host whose endpoint id (the first DNS label) ends in <b>-pooler</b> is "
           "the <b>pooled</b> one; the host without it is direct. The guide has these two labels "
           "swapped."),
        this);
    m_neonNote->setWordWrap(true);
    m_neonNote->hide();

    m_findings = new QTreeWidget(this);
    m_findings->setObjectName(QStringLiteral("checkFindings"));
    m_findings->setCurrentItem(m_findings->topLevelItem(0)); // the worst first, in full
    m_findings->setHeaderLabels({ tr("Severity"), tr("Code"), tr("Finding"), tr("Remedy") });
    m_findings->setRootIsDecorated(false);
    m_findings->setWordWrap(true);
    m_findings->setAlternatingRowColors(true);
    m_findings->header()->setSectionResizeMode(QHeaderView::Interactive);
    m_findings->setColumnWidth(0, 90);
    m_findings->setColumnWidth(1, 210);
    m_findings->setColumnWidth(2, 420);

    m_live = new QTreeWidget(this);
    m_live->setObjectName(QStringLiteral("checkLiveSteps"));
    m_live->setHeaderLabels({ tr("Live check"), tr("Result"), tr("Time"), tr("Detail") });
    m_live->setRootIsDecorated(false);
    m_live->setWordWrap(true);
    m_live->setColumnWidth(0, 210);
    m_live->setColumnWidth(1, 80);
    m_live->setColumnWidth(2, 80);
    m_verdict = new QLabel(this);
    m_verdict->setObjectName(QStringLiteral("checkVerdictLabel"));
    m_verdict->setWordWrap(true);

    // Long messages and remedies do not wrap in a tree: the selected finding is shown in full.
    m_findingDetail = new QLabel(this);
    m_findingDetail->setObjectName(QStringLiteral("checkFindingDetail"));
    m_findingDetail->setWordWrap(true);
    m_findingDetail->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connect(m_findings, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
        m_findingDetail->setText(item ? tr("<b>%1</b> %2<br><b>Remedy:</b> %3")
                                            .arg(item->text(1).toHtmlEscaped(),
                                                 item->text(2).toHtmlEscaped(),
                                                 item->text(3).toHtmlEscaped())
                                      : QString());
    });
    auto *findingsBox = new QWidget(this);
    auto *findingsLayout = new QVBoxLayout(findingsBox);
    findingsLayout->setContentsMargins(0, 0, 0, 0);
    findingsLayout->addWidget(m_findings, 1);
    findingsLayout->addWidget(m_findingDetail);

    auto *liveBox = new QWidget(this);
    auto *liveLayout = new QVBoxLayout(liveBox);
    liveLayout->setContentsMargins(0, 0, 0, 0);
    liveLayout->addWidget(m_live, 1);
    liveLayout->addWidget(m_verdict);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(findingsBox);
    splitter->addWidget(liveBox);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(m_endpoint);
    layout->addWidget(m_neonNote);
    layout->addWidget(splitter, 1);

    connect(m_check, &QPushButton::clicked, this, &EndpointCheckPage::runCheck);
    connect(m_conninfo, &QLineEdit::returnPressed, this, &EndpointCheckPage::runCheck);
    connect(m_source, &QComboBox::activated, this, &EndpointCheckPage::onSourceChanged);
}

void EndpointCheckPage::reloadProfiles()
{
    const QString current = m_source->currentText();
    m_source->clear();
    m_source->addItem(tr("Paste a connection string"), QVariantList { int(SourcePaste) });
    if (m_session && !m_session->conninfo().isEmpty())
        m_source->addItem(tr("The watched server: %1").arg(m_session->displayName()),
                          QVariantList { int(SourceWatched) });
    if (m_profiles) {
        for (const ConnectionProfile &p : m_profiles->all())
            m_source->addItem(tr("Profile: %1").arg(p.name),
                              QVariantList { int(SourceProfile), p.name });
    }
    const int index = m_source->findText(current);
    m_source->setCurrentIndex(index >= 0 ? index : 0);
}

void EndpointCheckPage::onSourceChanged(int index)
{
    const QVariantList data = m_source->itemData(index).toList();
    if (data.isEmpty())
        return;
    QString conninfo;
    switch (data.value(0).toInt()) {
    case SourceWatched:
        conninfo = m_session->conninfo();
        m_usage->setCurrentIndex(UsageUnspecified);
        break;
    case SourceProfile:
        if (const auto p = m_profiles->find(data.value(1).toString())) {
            conninfo = p->conninfo;
            m_usage->setCurrentIndex(
                p->environment == PoolProfile::ServerlessProduction ? UsageServerless : UsageLocal);
        }
        break;
    default:
        m_conninfo->clear();
        m_conninfo->setFocus();
        return;
    }
    // Keep any password in memory only; the field shows the string without it.
    m_secretConninfo = conninfo;
    m_shownConninfo = withoutPassword(conninfo);
    m_conninfo->setText(m_shownConninfo);
}

QString EndpointCheckPage::effectiveConninfo()
{
    const QString text = m_conninfo->text().trimmed();
    if (!m_secretConninfo.isEmpty() && text == m_shownConninfo)
        return m_secretConninfo;
    const QString redacted = withoutPassword(text);
    m_secretConninfo = text;
    m_shownConninfo = redacted;
    if (redacted != text) {
        const QSignalBlocker block(m_conninfo);
        m_conninfo->setText(redacted);
    }
    return text;
}

void EndpointCheckPage::runCheck()
{
    stopLive();
    m_findings->clear();
    m_live->clear();
    m_verdict->clear();
    m_error->hide();
    m_neonNote->hide();

    const QString conninfo = effectiveConninfo();
    LintContext context;
    switch (m_usage->currentIndex()) {
    case UsageLocal:
        context.profile = PoolProfile::LocalDevelopment;
        break;
    case UsageServerless:
        context.profile = PoolProfile::ServerlessProduction;
        break;
    default:
        break;
    }
    context.usesSessionFeatures = m_sessionFeatures->isChecked();

    const Result<LintResult, DbError> lint = lintEndpoint(conninfo, context);
    if (!lint.ok()) {
        m_error->setText(tr("Cannot parse this connection string: %1").arg(lint.error().message));
        m_error->show();
        m_endpoint->setText(tr("Nothing checked."));
        return;
    }
    showLint(lint.value());
    if (m_offline->isChecked()) {
        m_verdict->setText(tr("Offline: no live checks."));
        return;
    }
    startLive(conninfo, lint.value().endpoint);
}

void EndpointCheckPage::showLint(const LintResult &result)
{
    const EndpointInfo &e = result.endpoint;
    m_expectedKind = e.kind;
    QString where = e.host.isEmpty() ? tr("(default host)") : e.host;
    where += QLatin1Char(':') + QString::number(e.port);
    if (!e.dbname.isEmpty())
        where += tr(", database %1").arg(e.dbname);
    if (!e.user.isEmpty())
        where += tr(", user %1").arg(e.user);
    m_endpoint->setText(tr("<b>Endpoint:</b> %1<br><b>Kind:</b> %2 (<code>%3</code>, %4)")
                            .arg(where.toHtmlEscaped(), kindText(e.kind).toHtmlEscaped(),
                                 endpointKindName(e.kind),
                                 e.pooled ? tr("pooled") : tr("not pooled")));
    m_neonNote->setVisible(e.kind == EndpointKind::NeonPooled
                           || e.kind == EndpointKind::NeonDirect);

    // Errors first, then warnings, then notes; the linter's order within each.
    QList<Finding> findings = result.findings;
    std::stable_sort(findings.begin(), findings.end(), [](const Finding &a, const Finding &b) {
        return int(a.severity) < int(b.severity);
    });
    int errors = 0;
    for (const Finding &f : findings) {
        auto *item = new QTreeWidgetItem(m_findings);
        item->setIcon(0, dotIcon(severityColor(f.severity)));
        item->setText(0, severityName(f.severity));
        item->setText(1, f.code);
        item->setText(2, f.message);
        item->setText(3, f.remedy);
        item->setToolTip(2, f.message);
        item->setToolTip(3, f.remedy);
        item->setData(0, Qt::UserRole, int(f.severity));
        if (f.severity == Severity::Error)
            ++errors;
    }
    if (result.findings.isEmpty()) {
        auto *item = new QTreeWidgetItem(m_findings);
        item->setIcon(0, dotIcon(QColor(0x27, 0xae, 0x60)));
        item->setText(0, tr("ok"));
        item->setText(2, tr("No findings: this string suits the selected use."));
    }
    m_findings->setCurrentItem(m_findings->topLevelItem(0)); // the worst first, in full
    m_findings->setHeaderLabels({ tr("Severity"), tr("Code"),
                                  errors ? tr("Finding (%1 error(s))").arg(errors) : tr("Finding"),
                                  tr("Remedy") });
}

void EndpointCheckPage::startLive(const QString &conninfo, const EndpointInfo &expected)
{
    auto *checker = new LiveChecker(this);
    m_checker = checker;
    m_running = true;
    m_check->setText(tr("Check again"));
    m_verdict->setText(tr("Live checks running..."));
    connect(checker, &LiveChecker::stepFinished, this, &EndpointCheckPage::addStep);
    connect(checker, &LiveChecker::finished, this, &EndpointCheckPage::showReport);
    checker->start(conninfo, expected, m_stepTimeout);
}

void EndpointCheckPage::stopLive()
{
    if (!m_checker)
        return;
    // Never wait here: the old checker is cancelled (it emits nothing more and stops at its next
    // step boundary) and deleted once that boundary has surely passed, so its destructor does
    // not block the GUI thread (or with the page, whichever comes first).
    LiveChecker *old = m_checker;
    m_checker = nullptr;
    m_running = false;
    disconnect(old, nullptr, this, nullptr);
    old->cancel();
    QTimer::singleShot(2 * m_stepTimeout + std::chrono::seconds(1), old, &QObject::deleteLater);
}

void EndpointCheckPage::addStep(const LiveCheckStep &step)
{
    if (sender() != m_checker)
        return;
    auto *item = new QTreeWidgetItem(m_live);
    item->setText(0, stepLabel(step.name));
    item->setData(0, Qt::UserRole, step.name);
    QColor color;
    if (step.skipped) {
        item->setText(1, tr("skipped"));
        color = QColor(0x95, 0xa5, 0xa6);
    } else if (step.ok) {
        item->setText(1, tr("ok"));
        color = QColor(0x27, 0xae, 0x60);
    } else {
        item->setText(1, tr("failed"));
        color = severityColor(Severity::Error);
    }
    item->setIcon(1, dotIcon(color));
    item->setText(2, tr("%1 ms").arg(step.ms, 0, 'f', step.ms < 10 ? 1 : 0));
    item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
    QString detail = step.detail;
    if (step.error) {
        const QString problem = step.error->summary();
        detail = detail.isEmpty() ? problem : detail + QStringLiteral(" - ") + problem;
        if (!step.error->remedy.isEmpty())
            item->setToolTip(3, step.error->remedy);
    }
    item->setText(3, detail);
    m_live->scrollToItem(item);
}

void EndpointCheckPage::showReport(const LiveCheckReport &report)
{
    if (sender() != m_checker)
        return;
    QStringList lines;
    if (report.poolerDetected.has_value()) {
        lines << (*report.poolerDetected
                      ? tr("<b>A pooler is in the path</b> (judged by behaviour)")
                      : tr("<b>No pooler in the path</b> (judged by behaviour)"));
        if (!report.poolerEvidence.isEmpty())
            lines.last() += QStringLiteral(": ") + report.poolerEvidence.toHtmlEscaped();
        lines << (report.contradictsHostName
                      ? tr("<span style='color:#c0392b'>This contradicts the host name, which "
                           "says: %1.</span>")
                            .arg(kindText(m_expectedKind).toHtmlEscaped())
                      : tr("This confirms what the host name says."));
    } else {
        lines << tr("Pooler in the path: not determined (the checks did not get that far).");
    }
    if (!report.serverVersion.isEmpty())
        lines << tr("Server %1").arg(report.serverVersion.toHtmlEscaped());
    if (report.maxConnections > 0)
        lines << tr("max_connections %1, reserved %2")
                     .arg(report.maxConnections)
                     .arg(report.reservedConnections);
    m_verdict->setText(lines.join(QStringLiteral("<br>")));
    m_checker->deleteLater();
    m_checker = nullptr;
    m_running = false;
    Q_EMIT liveCheckFinished();
}

} // namespace poolscope::ui
