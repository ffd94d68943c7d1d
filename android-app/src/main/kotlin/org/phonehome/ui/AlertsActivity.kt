package org.phonehome.ui

import android.app.Activity
import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.store.StoredAlert
import org.phonehome.store.Cursor
import org.phonehome.history.Pager
import org.phonehome.ui.Ui.button
import org.phonehome.ui.Ui.heading
import org.phonehome.ui.Ui.row
import org.phonehome.ui.Ui.text

/** Every alert in the history, newest first, page by page; a tap opens the flow and its evidence. */
class AlertsActivity : Activity() {
    private lateinit var pager: Pager<StoredAlert>
    private lateinit var list: LinearLayout
    private lateinit var more: Button

    override fun onResume() {
        super.onResume()
        pager = Pager(null, PAGE, MAX_ALERTS) { Cursor(it.record.ts, it.id) }
        Ui.page(this) {
            heading(getString(R.string.screen_alerts))
            list = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
            addView(list)
            more = button(getString(R.string.load_more)) { loadMore() }
        }
        loadMore()
    }

    private fun loadMore() {
        // A page asked for before onResume rebuilt the screen belongs to the old pager and list: dropped.
        val (pager, list) = pager to list
        val request = pager.next() ?: return
        val current = { pager === this.pager }
        val explain = { message: String -> if (current()) { pager.failed(); list.text(message) }; Unit }
        Ui.load(this, { reader -> reader.alerts(request) }, explain) { page ->
            if (!current()) return@load
            pager.add(page)
            if (pager.items.isEmpty()) list.text(getString(R.string.no_alerts))
            page.forEach { item ->
                val alert = item.record
                list.row("${Ui.time(alert.ts)} · ${alert.severity.name.lowercase()} · ${alert.app ?: "?"} · ${alert.kind.name.lowercase()}",
                    "${alert.host ?: alert.dstIp} — ${alert.evidence}") {
                    Ui.open(this, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(alert)) }
                }
            }
            more.isEnabled = pager.hasMore
        }
    }

    private companion object {
        const val PAGE = 50
        const val MAX_ALERTS = 5_000
    }
}
