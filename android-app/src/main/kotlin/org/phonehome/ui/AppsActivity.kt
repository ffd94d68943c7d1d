package org.phonehome.ui

import android.app.Activity
import android.os.Bundle
import android.text.Editable
import android.text.TextWatcher
import android.widget.CheckBox
import android.widget.EditText
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.apps.AndroidPackageLookup
import org.phonehome.apps.AppIdentity
import org.phonehome.apps.UidNamer
import org.phonehome.ui.Ui.heading
import org.phonehome.ui.Ui.row
import org.phonehome.ui.Ui.text

/** Every app in the history, most severe first then by traffic, with search and filters. */
class AppsActivity : Activity() {
    private var filter = AppFilter()
    private var rows: List<AppRow> = emptyList()
    private lateinit var list: LinearLayout
    private lateinit var namer: UidNamer

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        namer = UidNamer(AndroidPackageLookup(packageManager))
        Ui.page(this) {
            heading(getString(R.string.screen_apps))
            addView(EditText(context).apply {
                hint = getString(R.string.search_hint)
                addTextChangedListener(object : TextWatcher {
                    override fun beforeTextChanged(s: CharSequence?, start: Int, count: Int, after: Int) {}
                    override fun onTextChanged(s: CharSequence?, start: Int, before: Int, count: Int) {}
                    override fun afterTextChanged(s: Editable?) { update(filter.copy(query = s?.toString().orEmpty())) }
                })
            })
            addView(CheckBox(context).apply {
                text = getString(R.string.filter_alerts)
                setOnCheckedChangeListener { _, checked -> update(filter.copy(onlyAlerts = checked)) }
            })
            addView(CheckBox(context).apply {
                text = getString(R.string.filter_hide_system)
                setOnCheckedChangeListener { _, checked -> update(filter.copy(hideSystem = checked)) }
            })
            list = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
            addView(list)
            list.text(getString(R.string.loading))
        }
    }

    override fun onResume() {
        super.onResume()
        val unknown = getString(R.string.unknown_app)
        // Naming asks the package manager (binder calls): done on the history thread too.
        Ui.load(this, { reader ->
            reader.apps().map { app ->
                AppRow(app.uid?.toInt()?.let(namer::identify) ?: AppIdentity(-1, app.app ?: unknown, emptyList(), false), app)
            }
        }) { loaded ->
            rows = loaded
            update(filter)
        }
    }

    private fun update(newFilter: AppFilter) {
        filter = newFilter
        list.removeAllViews()
        AppListModel.rows(rows, filter).forEach { row ->
            val tags = listOfNotNull(
                AppListModel.badge(row.history.maxSeverity).ifEmpty { null },
                getString(R.string.tag_system).takeIf { row.identity.system },
                getString(R.string.tag_shared).takeIf { row.identity.shared },
            ).joinToString(" · ")
            val countries = row.history.countries.joinToString(",")
            list.row(row.identity.label, getString(R.string.app_row, tags, Ui.bytes(row.bytes), row.history.flows.toLong(),
                row.history.alerts.toLong(), countries)) {
                Ui.open(this, AppDetailActivity::class.java) {
                    putExtra(AppDetailActivity.EXTRA_KEY, row.history.appKey)
                    putExtra(AppDetailActivity.EXTRA_UID, row.identity.uid)
                }
            }
        }
    }
}
