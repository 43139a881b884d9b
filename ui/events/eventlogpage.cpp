#include "ui/events/eventlogpage.h"

#include "core/util/csv.h"
#include "ui/events/eventlogfilter.h"
#include "ui/events/eventlogmodel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSaveFile>
#include <QScrollBar>
#include <QSplitter>
#include <QStandardPaths>
#include <QTableView>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace poolscope::ui {
namespace {

QStringList eventFields(const Event &e)
{
    return { e.time.toUTC().toString(Qt::ISODateWithMs),
             EventLogModel::levelName(e.level),
             e.subsystem,
             e.sqlstate,
             e.errorKind,
             e.message,
             e.remedy };
}

} // namespace

EventLogPage::EventLogPage(EventLog *log, QWidget *parent)
    : QWidget(parent)
    , m_log(log)
    , m_model(new EventLogModel(log, this))
    , m_filter(new EventLogFilter(this))
{
    m_filter->setSourceModel(m_model);

    m_level = new QComboBox(this);
    m_level->setObjectName(QStringLiteral("levelFilter"));
    m_level->setToolTip(tr("Minimum level shown"));
    for (auto level :
         { Event::Level::Debug, Event::Level::Info, Event::Level::Warning, Event::Level::Error })
        m_level->addItem(EventLogModel::levelName(level), int(level));
    m_text = new QLineEdit(this);
    m_text->setObjectName(QStringLiteral("textFilter"));
    m_text->setPlaceholderText(tr("Filter messages, subsystems, SQLSTATEs..."));
    m_text->setClearButtonEnabled(true);
    m_connectionOnly = new QToolButton(this);
    m_connectionOnly->setObjectName(QStringLiteral("connectionErrorsButton"));
    m_connectionOnly->setText(tr("Connection errors"));
    m_connectionOnly->setCheckable(true);
    m_connectionOnly->setToolTip(
        tr("Connection failures and recoveries only (like vercel logs --query=\"connection\")"));

    auto *copy = new QAction(tr("Copy"), this);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copy, &QAction::triggered, this, &EventLogPage::copySelection);
    auto *exportCsvAction = new QAction(tr("Export..."), this);
    exportCsvAction->setToolTip(tr("Save the visible events as CSV"));
    connect(exportCsvAction, &QAction::triggered, this, &EventLogPage::exportWithDialog);
    auto *copyButton = new QToolButton(this);
    copyButton->setDefaultAction(copy);
    auto *exportButton = new QToolButton(this);
    exportButton->setObjectName(QStringLiteral("exportButton"));
    exportButton->setDefaultAction(exportCsvAction);

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_level);
    bar->addWidget(m_text, 1);
    bar->addWidget(m_connectionOnly);
    bar->addSpacing(12);
    bar->addWidget(copyButton);
    bar->addWidget(exportButton);

    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("eventTable"));
    m_table->setModel(m_filter);
    m_table->addAction(copy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->verticalHeader()->hide();
    // Fixed row heights and column widths: ResizeToContents would measure every row on every
    // append, which is what makes log views slow after hours.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    QHeaderView *header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(true);
    const int digit = fontMetrics().horizontalAdvance(QLatin1Char('0'));
    header->resizeSection(EventLogModel::Time, digit * 14);
    header->resizeSection(EventLogModel::Level, digit * 9);
    header->resizeSection(EventLogModel::Subsystem, digit * 10);
    header->resizeSection(EventLogModel::Message, digit * 70);

    m_details = new QTextBrowser(this);
    m_details->setObjectName(QStringLiteral("eventDetails"));
    m_details->setPlaceholderText(tr("Select an event to see its details and what to do."));
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_table);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 4);
    splitter->setStretchFactor(1, 1);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(splitter, 1);

    connect(m_level, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setMinimumLevel(Event::Level(m_level->currentData().toInt())); });
    m_level->setCurrentIndex(m_level->findData(int(Event::Level::Info)));
    connect(m_text, &QLineEdit::textChanged, m_filter, &EventLogFilter::setFilterText);
    connect(m_connectionOnly, &QToolButton::toggled, m_filter,
            &EventLogFilter::setConnectionErrorsOnly);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) { showDetails(current); });

    // Follow the newest event while the view is at the bottom; stop once the user scrolls up.
    QScrollBar *scroll = m_table->verticalScrollBar();
    connect(scroll, &QScrollBar::valueChanged, this,
            [this, scroll](int value) { m_followNewest = value >= scroll->maximum(); });
    connect(m_filter, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_followNewest)
            m_table->scrollToBottom();
    });
    if (m_filter->rowCount() > 0)
        m_table->scrollToBottom();
}

void EventLogPage::showDetails(const QModelIndex &proxyIndex)
{
    if (!proxyIndex.isValid()) {
        m_details->clear();
        return;
    }
    const Event &e = m_model->event(m_filter->mapToSource(proxyIndex).row());
    QString html = QStringLiteral("<p><b>%1</b> %2 &middot; %3</p><p>%4</p>")
                       .arg(EventLogModel::levelName(e.level).toHtmlEscaped(),
                            e.time.toLocalTime().toString(Qt::ISODateWithMs),
                            e.subsystem.toHtmlEscaped(), e.message.toHtmlEscaped());
    if (!e.sqlstate.isEmpty() || !e.errorKind.isEmpty())
        html += tr("<p>SQLSTATE %1 &middot; %2</p>")
                    .arg(e.sqlstate.isEmpty() ? QStringLiteral("-") : e.sqlstate.toHtmlEscaped(),
                         e.errorKind.toHtmlEscaped());
    if (!e.remedy.isEmpty())
        html += tr("<p><b>What to do:</b> %1</p>").arg(e.remedy.toHtmlEscaped());
    m_details->setHtml(html);
}

QString EventLogPage::selectedText() const
{
    QModelIndexList rows = m_table->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(),
              [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
    QStringList lines;
    for (const QModelIndex &row : std::as_const(rows))
        lines << eventFields(m_model->event(m_filter->mapToSource(row).row()))
                     .join(QLatin1Char('\t'));
    return lines.join(QLatin1Char('\n'));
}

void EventLogPage::copySelection()
{
    const QString text = selectedText();
    if (!text.isEmpty())
        QApplication::clipboard()->setText(text);
}

bool EventLogPage::exportCsv(const QString &path, QString *error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error)
            *error = file.errorString();
        return false;
    }
    QStringList header { QStringLiteral("time"),       QStringLiteral("level"),
                         QStringLiteral("subsystem"),  QStringLiteral("sqlstate"),
                         QStringLiteral("error_kind"), QStringLiteral("message"),
                         QStringLiteral("remedy") };
    file.write(header.join(QLatin1Char(',')).toUtf8() + '\n');
    for (int row = 0; row < m_filter->rowCount(); ++row) {
        QStringList fields =
            eventFields(m_model->event(m_filter->mapToSource(m_filter->index(row, 0)).row()));
        for (QString &field : fields)
            field = csvField(field);
        file.write(fields.join(QLatin1Char(',')).toUtf8() + '\n');
    }
    if (!file.commit()) {
        if (error)
            *error = file.errorString();
        return false;
    }
    return true;
}

void EventLogPage::exportWithDialog()
{
    const QString suggested = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation)
        + QStringLiteral("/poolscope-events-%1.csv")
              .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export events"), suggested, tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportCsv(path, &error)) {
        QMessageBox::warning(this, tr("Export events"),
                             tr("Could not write %1:\n%2").arg(path, error));
        return;
    }
    if (m_log)
        m_log->appendAction(QStringLiteral("ui"),
                            tr("exported %1 events to %2").arg(m_filter->rowCount()).arg(path));
}

} // namespace poolscope::ui
