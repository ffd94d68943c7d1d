package org.phonehome.ui

import android.app.Activity
import android.content.pm.ApplicationInfo
import android.graphics.drawable.Drawable
import android.os.Bundle
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.settings.Settings
import org.phonehome.ui.Widgets.card
import org.phonehome.ui.Widgets.empty
import org.phonehome.ui.Widgets.filters
import org.phonehome.ui.Widgets.note
import org.phonehome.ui.Widgets.search
import org.phonehome.ui.Widgets.switchRow
import org.phonehome.ui.Widgets.text
import org.phonehome.ui.Widgets.textButton
import org.phonehome.vpn.PhonehomeVpnService
import org.phonehome.vpn.VpnStatus
import kotlin.concurrent.thread

/** The apps kept outside the VPN: every installed app with its icon, a switch each, search, system apps hidden by default. */
class ExclusionsActivity : Activity() {
    private class App(val packageName: String, val label: String, val system: Boolean, val icon: Drawable?)

    private lateinit var settings: Settings
    private lateinit var list: LinearLayout
    private var apps: List<App> = emptyList()
    private var query = ""
    private var showSystem = false

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        settings = Settings(this)
        Ui.page(this) {
            card {
                note(getString(R.string.exclusions_help))
                if (VpnStatus.current.running) textButton(getString(R.string.apply_restart)) { PhonehomeVpnService.restart(this@ExclusionsActivity) }
            }
            search(getString(R.string.search_hint)) { query = it.trim().lowercase(); show() }
            filters(listOf(getString(R.string.filter_show_system) to false)) { _, on -> showSystem = on; show() }
            list = card { text(getString(R.string.loading)) }
        }
        // The package manager's answers (labels, icons) are binder calls: read off the main thread.
        thread(name = "ph-apps") {
            val pm = packageManager
            val loaded = pm.getInstalledApplications(0).filter { it.packageName != packageName }.map { info ->
                val system = info.flags and (ApplicationInfo.FLAG_SYSTEM or ApplicationInfo.FLAG_UPDATED_SYSTEM_APP) != 0
                App(info.packageName, info.loadLabel(pm).toString(), system, runCatching { info.loadIcon(pm) }.getOrNull())
            }.sortedWith(compareBy<App> { it.label.lowercase() }.thenBy { it.packageName })
            runOnUiThread {
                if (!isDestroyed) {
                    apps = loaded
                    show()
                }
            }
        }
    }

    private fun show() {
        list.removeAllViews()
        val excluded = settings.excludedPackages().toSet()
        // An excluded app stays listed even when system apps are hidden, so it can be brought back.
        val shown = apps.filter { app ->
            (showSystem || !app.system || app.packageName in excluded) &&
                (query.isEmpty() || app.label.lowercase().contains(query) || app.packageName.lowercase().contains(query))
        }
        if (shown.isEmpty()) list.empty(getString(R.string.no_match), R.drawable.ic_search)
        shown.forEach { app ->
            val label = if (app.system) getString(R.string.app_label_system, app.label) else app.label
            list.switchRow(label, app.packageName, app.packageName in excluded, app.icon) { on -> settings.setExcluded(app.packageName, on) }
        }
    }
}
