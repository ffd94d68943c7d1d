package org.phonehome.ui

import android.app.Activity
import android.graphics.drawable.Drawable
import android.os.Bundle
import android.view.View
import android.widget.Button
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.apps.AppIdentity
import org.phonehome.store.StoredAlert
import org.phonehome.store.Cursor
import org.phonehome.model.Severity
import org.phonehome.history.Pager
import org.phonehome.ui.Widgets.card
import org.phonehome.ui.Widgets.empty
import org.phonehome.ui.Widgets.filters
import org.phonehome.ui.Widgets.listRow
import org.phonehome.ui.Widgets.search
import org.phonehome.ui.Widgets.textButton

/** Every alert in the history, newest first, page by page, with search and severity filters; a tap opens the flow. */
class AlertsActivity : Activity() {
    private class Row(val item: StoredAlert, val identity: AppIdentity, val icon: Drawable?)

    private lateinit var pager: Pager<StoredAlert>
    private lateinit var list: LinearLayout
    private lateinit var more: Button
    private lateinit var looks: AppLooks
    private var rows: List<Row> = emptyList()
    private var query = ""
    private var severities = emptySet<Severity>()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        looks = AppLooks(this)
    }

    override fun onResume() {
        super.onResume()
        pager = Pager(null, PAGE, MAX_ALERTS) { Cursor(it.record.ts, it.id) }
        rows = emptyList()
        val levels = listOf(Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
        Ui.page(this) {
            search(getString(R.string.search_alerts_hint)) { query = it.trim().lowercase(); show() }
            filters(levels.map { Widgets.severityChip(context, it).text to (it in severities) }) { index, on ->
                severities = if (on) severities + levels[index] else severities - levels[index]
                show()
            }
            val box = card { }
            list = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
            box.addView(list)
            more = box.textButton(getString(R.string.load_more)) { loadMore() }
        }
        loadMore()
    }

    private fun loadMore() {
        // A page asked for before onResume rebuilt the screen belongs to the old pager: dropped.
        val pager = pager
        val request = pager.next() ?: return
        val current = { pager === this.pager }
        val explain = { message: String -> if (current()) { pager.failed(); list.removeAllViews(); list.empty(message) }; Unit }
        Ui.load(this, { reader ->
            reader.alerts(request).map { item ->
                val identity = looks.identity(item.record.uid?.toInt(), item.record.app)
                Row(item, identity, looks.icon(identity))
            }
        }, explain) { page ->
            if (!current()) return@load
            pager.add(page.map { it.item })
            rows = rows + page
            show()
        }
    }

    /** The rows read so far that match the search and the chosen severities. */
    private fun show() {
        list.removeAllViews()
        val shown = rows.filter { row ->
            val alert = row.item.record
            (severities.isEmpty() || alert.severity in severities) &&
                (query.isEmpty() || listOfNotNull(row.identity.label, alert.host, alert.dstIp, AlertText.kind(this, alert.kind), alert.evidence, alert.country)
                    .any { it.lowercase().contains(query) })
        }
        if (shown.isEmpty()) list.empty(getString(if (rows.isEmpty()) R.string.no_alerts_yet else R.string.no_match), R.drawable.ic_warning)
        shown.forEach { row ->
            val alert = row.item.record
            list.listRow(getString(R.string.alert_row_title, AlertText.kind(this, alert.kind), row.identity.label),
                "${alert.host ?: alert.dstIp} — ${alert.evidence}", row.icon,
                listOf(Widgets.severityChip(this, alert.severity)) + looks.chips(row.identity),
                trailing = Ui.time(row.item.record.ts).replace(' ', '\n'), lines = 2) {
                Ui.open(this, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(alert)) }
            }
        }
        more.visibility = if (pager.hasMore) View.VISIBLE else View.GONE
    }

    private companion object {
        const val PAGE = 50
        const val MAX_ALERTS = 5_000
    }
}
