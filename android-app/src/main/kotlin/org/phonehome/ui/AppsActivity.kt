package org.phonehome.ui

import android.app.Activity
import android.graphics.drawable.Drawable
import android.os.Bundle
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.ui.Widgets.card
import org.phonehome.ui.Widgets.empty
import org.phonehome.ui.Widgets.filters
import org.phonehome.ui.Widgets.listRow
import org.phonehome.ui.Widgets.search
import org.phonehome.ui.Widgets.text

/** Every app in the history, most severe first then by traffic, with icons, search and filters. */
class AppsActivity : Activity() {
    private var filter = AppFilter()
    private var rows: List<AppRow> = emptyList()
    private val icons = HashMap<Int, Drawable?>()
    private lateinit var list: LinearLayout
    private lateinit var looks: AppLooks

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        looks = AppLooks(this)
        Ui.page(this) {
            search(getString(R.string.search_hint)) { update(filter.copy(query = it)) }
            filters(listOf(getString(R.string.filter_alerts) to false, getString(R.string.filter_hide_system) to false)) { index, on ->
                update(if (index == 0) filter.copy(onlyAlerts = on) else filter.copy(hideSystem = on))
            }
            list = card { text(getString(R.string.loading)) }
        }
    }

    override fun onResume() {
        super.onResume()
        // Naming asks the package manager (binder calls): done on the history thread too.
        Ui.load(this, { reader ->
            reader.apps().map { app ->
                val identity = looks.identity(app.uid?.toInt(), app.app)
                AppRow(identity, app).also { row -> icons[row.identity.uid] = looks.icon(identity) }
            }
        }, { message -> list.removeAllViews(); list.empty(message) }) { loaded ->
            rows = loaded
            update(filter)
        }
    }

    private fun update(newFilter: AppFilter) {
        filter = newFilter
        list.removeAllViews()
        val shown = AppListModel.rows(rows, filter)
        if (shown.isEmpty()) list.empty(getString(if (rows.isEmpty()) R.string.no_apps_yet else R.string.no_match), R.drawable.ic_search)
        shown.forEach { row ->
            val history = row.history
            val chips = listOfNotNull(history.maxSeverity?.let { Widgets.severityChip(this, it) }) + looks.chips(row.identity)
            val detail = getString(R.string.app_row, Ui.count(this, R.plurals.flows_count, history.flows.toLong()),
                Ui.count(this, R.plurals.alerts_count, history.alerts.toLong()),
                history.countries.joinToString(", ").ifEmpty { "—" })
            list.listRow(row.identity.label, detail, icons[row.identity.uid], chips, trailing = Ui.bytes(row.bytes)) {
                Ui.open(this, AppDetailActivity::class.java) {
                    putExtra(AppDetailActivity.EXTRA_KEY, history.appKey)
                    putExtra(AppDetailActivity.EXTRA_UID, row.identity.uid)
                }
            }
        }
    }
}
